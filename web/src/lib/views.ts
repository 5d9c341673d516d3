// View counters of channel posts: the client reports the posts that were really on screen
// (an IntersectionObserver, half a post or half the screen), in batches
// (POST /chats/{id}/views, at most 200 ids), and each post once: the ids reported are kept
// in IndexedDB per chat, so a reload does not report them again (the server counts each
// user once per post anyway).

import { call } from "./api";
import { getKv, setKv } from "./db";
import { setViews } from "./reactions.svelte";

const MAX_BATCH = 200;
const QUIET_MS = 1500; // a batch goes once scrolling pauses
const KEEP = 2000; // ids remembered per chat
const RETRY_MS = 10_000;

let chatId = 0;
let reported = new Set<number>();
let loaded: Promise<void> = Promise.resolve();
const queue = new Set<number>();
const ids = new WeakMap<Element, number>();
let timer = 0;
let observer: IntersectionObserver | null = null;

function switchTo(chat: number): void {
  if (chat === chatId) return;
  void flush(); // what is left of the last chat
  chatId = chat;
  reported = new Set();
  loaded = getKv<number[]>(`views:${chat}`).then((list) => {
    if (chat === chatId) for (const id of list ?? []) reported.add(id);
  });
}

function onIntersect(entries: IntersectionObserverEntry[]): void {
  if (document.visibilityState !== "visible") return;
  for (const e of entries) {
    const half = Math.min(e.boundingClientRect.height, (e.rootBounds?.height ?? Infinity)) / 2;
    if (!e.isIntersecting || e.intersectionRect.height < half) continue;
    const id = ids.get(e.target);
    if (id && !reported.has(id)) queue.add(id);
  }
  if (!queue.size) return;
  clearTimeout(timer);
  timer = window.setTimeout(() => void flush(), queue.size >= MAX_BATCH ? 0 : QUIET_MS);
}

async function flush(): Promise<void> {
  const chat = chatId;
  await loaded;
  const batch = [...queue].filter((id) => !reported.has(id)).slice(0, MAX_BATCH);
  queue.clear();
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
    clearTimeout(timer);
    timer = window.setTimeout(() => void flush(), RETRY_MS);
  }
}

/** Watches `el`, the post `id` of channel `chat`, until the returned function is called. */
export function watchView(el: Element, chat: number, id: number): () => void {
  switchTo(chat);
  observer ??= new IntersectionObserver(onIntersect, { threshold: [0, 0.25, 0.5, 1] });
  ids.set(el, id);
  observer.observe(el);
  return () => observer?.unobserve(el);
}
