// View counters of channel posts: the client reports the posts that were really on screen
// (an IntersectionObserver: half a post or half the screen, for 0.6 s), in batches
// (POST /chats/{id}/views, at most 200 ids), and each post once: the ids reported are kept
// in IndexedDB per chat, so a reload does not report them again (the server counts each
// user once per post anyway).

import { call } from "./api";
import { getKv, setKv } from "./db";
import { setViews } from "./reactions.svelte";

const MAX_BATCH = 200;
const QUIET_MS = 1000; // a batch goes once scrolling pauses
const DWELL_MS = 600; // on screen at least this long to count
const KEEP = 2000; // ids remembered per chat
const RETRY_MS = 10_000;

let chatId = 0;
let reported = new Set<number>();
let loaded: Promise<void> = Promise.resolve();
const queue = new Set<number>();
const since = new Map<number, number>(); // post id → on screen since (ms)
const ids = new WeakMap<Element, number>();
let timer = 0;
let observer: IntersectionObserver | null = null;

function switchTo(chat: number): void {
  if (chat === chatId) return;
  chatId = chat;
  reported = new Set();
  since.clear();
  queue.clear();
  loaded = getKv<number[]>(`views:${chat}`).then((list) => {
    if (chat === chatId) for (const id of list ?? []) reported.add(id);
  });
}

function onIntersect(entries: IntersectionObserverEntry[]): void {
  const now = performance.now();
  for (const e of entries) {
    const id = ids.get(e.target);
    if (!id) continue;
    const half = Math.min(e.boundingClientRect.height, e.rootBounds?.height ?? Infinity) / 2;
    if (e.isIntersecting && e.intersectionRect.height >= half) {
      if (!since.has(id)) since.set(id, now);
    } else {
      since.delete(id);
    }
  }
  schedule(QUIET_MS);
}

function schedule(ms: number): void {
  clearTimeout(timer);
  timer = window.setTimeout(() => void flush(), ms);
}

async function flush(): Promise<void> {
  const chat = chatId;
  await loaded;
  // Only posts that stayed on screen a moment count: not those a fast scroll flew past,
  // nor the top of the list drawn for one frame before it jumps to the newest post.
  const now = performance.now();
  let young = false;
  if (document.visibilityState === "visible") {
    for (const [id, at] of since) {
      if (reported.has(id)) continue;
      if (now - at >= DWELL_MS) queue.add(id);
      else young = true;
    }
  }
  const batch = [...queue].filter((id) => !reported.has(id)).slice(0, MAX_BATCH);
  for (const id of batch) queue.delete(id);
  if (young || queue.size) schedule(DWELL_MS);
  if (!batch.length || !chat) return;
  try {
    const res = await call<{ views: Record<string, number> }>("POST", `/chats/${chat}/views`, { message_ids: batch });
    setViews(chat, res.views);
    if (chat !== chatId) return;
    for (const id of batch) reported.add(id);
    await setKv(`views:${chat}`, [...reported].slice(-KEEP));
  } catch {
    if (chat !== chatId) return;
    for (const id of batch) queue.add(id); // offline: try again later
    schedule(RETRY_MS);
  }
}

/** Watches `el`, the post `id` of channel `chat`, until the returned function is called. */
export function watchView(el: Element, chat: number, id: number): () => void {
  switchTo(chat);
  observer ??= new IntersectionObserver(onIntersect, { threshold: [0, 0.25, 0.5, 1] });
  ids.set(el, id);
  observer.observe(el);
  return () => {
    observer?.unobserve(el);
    since.delete(id);
  };
}
