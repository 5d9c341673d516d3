// Reactions and view counts of the messages on screen (docs/web.md, "Reactions, mentions
// and views"). Rows register while they are in the page; the ids are fetched in one
// request per batch (GET /chats/{id}/reactions, at most 100 ids), never one per row.
// Live `reaction.added` / `reaction.removed` are applied as deltas to what was fetched;
// in channels subscribers get `reaction.counts` instead, which are set as they come.

import { ApiError, call } from "./api";
import { on } from "./handlers";
import { t } from "./i18n.svelte";
import { me, toast } from "./state.svelte";
import type { Message, ReactionCounts, ServerEvent } from "./types";

export interface Reaction {
  emoji: string;
  count: number;
  mine: boolean;
}

interface Summary {
  message_id: number;
  reactions: Reaction[];
  views: number;
}

/** The quick picker: a handful of the emoji people use most. */
export const QUICK = ["👍", "❤️", "😂", "😮", "😢", "🙏"];
const BATCH = 100; // the most ids the server answers at once
const SETTLE_MS = 2000; // an event this soon after a fetch may already be in it: refetch
const REFRESH_MS = 15_000; // channel view counts on screen are refreshed this often

/** message id → its reactions / view count. Fine-grained: a row reads only its own key. */
export const social = $state({
  reactions: {} as Record<number, Reaction[]>,
  views: {} as Record<number, number>,
});

let chatId = 0;
let channel = false;
const mounted = new Map<number, number>(); // message id → rows showing it
const fetchedAt = new Map<number, number>();
const inflight = new Set<number>();
const dirty = new Set<number>(); // changed while its fetch was on the way
let queue = new Set<number>();
let timer = 0;
let refresher = 0;

function reset(id: number, isChannel: boolean): void {
  chatId = id;
  channel = isChannel;
  social.reactions = {};
  social.views = {};
  for (const s of [mounted, fetchedAt, inflight, dirty, queue]) s.clear();
  clearInterval(refresher);
  refresher = isChannel ? window.setInterval(refreshViews, REFRESH_MS) : 0;
}

/** A row of chat `chat` shows message `id`; its summary is fetched with the next batch. */
export function track(chat: number, isChannel: boolean, id: number): () => void {
  if (chat !== chatId) reset(chat, isChannel);
  mounted.set(id, (mounted.get(id) ?? 0) + 1);
  if (!fetchedAt.has(id) && !inflight.has(id)) want([id]);
  return () => {
    const n = (mounted.get(id) ?? 1) - 1;
    if (n > 0) mounted.set(id, n);
    else mounted.delete(id);
  };
}

function want(ids: number[]): void {
  for (const id of ids) queue.add(id);
  clearTimeout(timer);
  timer = window.setTimeout(flush, 80); // rows mount together: one request for a screenful
}

async function flush(): Promise<void> {
  const chat = chatId;
  const ids = [...queue].filter((id) => !inflight.has(id));
  queue = new Set();
  for (let i = 0; i < ids.length; i += BATCH) await fetchSummaries(chat, ids.slice(i, i + BATCH));
}

async function fetchSummaries(chat: number, ids: number[]): Promise<void> {
  for (const id of ids) inflight.add(id);
  try {
    const res = await call<{ messages: Summary[] }>("GET", `/chats/${chat}/reactions?ids=${ids.join(",")}`);
    if (chat !== chatId) return;
    const now = Date.now();
    for (const id of ids) fetchedAt.set(id, now);
    for (const s of res.messages) {
      social.reactions[s.message_id] = s.reactions;
      if (channel) social.views[s.message_id] = s.views;
    }
  } catch {
    // Offline or gone: fetched again when the row shows next.
  } finally {
    for (const id of ids) inflight.delete(id);
    const again = ids.filter((id) => dirty.delete(id));
    if (again.length && chat === chatId) want(again);
  }
}

/** A message that came as `message.new` has no reactions yet, and each one it gets comes
 * after it as an event: nothing to fetch (in a busy channel that would be one request per
 * post per reader). */
function bornLive(m: { id: number; chat_id: number }): void {
  if (m.chat_id === chatId && !fetchedAt.has(m.id) && !inflight.has(m.id)) fetchedAt.set(m.id, 0);
}
// Registered before the chat model's handler (main.ts): the row must not ask when it shows.
on("message.new", (ev) => bornLive(ev.message as Message));

/** Refreshes the view counts of the channel posts on screen (the server sends no event
 * per view: that would be one event per subscriber per post). */
function refreshViews(): void {
  if (document.visibilityState !== "visible" || !mounted.size) return;
  const ids = [...mounted.keys()].filter((id) => !inflight.has(id)).slice(-BATCH);
  if (ids.length) void fetchSummaries(chatId, ids);
}

/** Counts that came back from reporting views. */
export function setViews(chat: number, views: Record<string, number>): void {
  if (chat !== chatId) return;
  for (const [id, n] of Object.entries(views)) social.views[Number(id)] = n;
}

function applyDelta(id: number, emoji: string, add: boolean, byMe: boolean): void {
  const list = social.reactions[id] ?? [];
  const at = list.findIndex((r) => r.emoji === emoji);
  const r = list[at];
  if (byMe && (r?.mine ?? false) === add) return; // already so: our own echo
  if (add) {
    social.reactions[id] = r
      ? list.with(at, { ...r, count: r.count + 1, mine: r.mine || byMe })
      : [...list, { emoji, count: 1, mine: byMe }];
  } else if (r) {
    const next = { ...r, count: r.count - 1, mine: byMe ? false : r.mine };
    social.reactions[id] = next.count > 0 ? list.with(at, next) : list.toSpliced(at, 1);
  }
}

/** `reaction.added` / `reaction.removed`: applied to messages whose summary we hold. */
function onReactionEvent(ev: ServerEvent): void {
  const id = ev.message_id as number;
  if (ev.chat_id !== chatId || !(fetchedAt.has(id) || inflight.has(id))) return;
  const byMe = ev.user_id === me(); // our own change is applied idempotently
  if (!byMe && inflight.has(id)) {
    dirty.add(id); // the fetch on its way may or may not hold it: ask again after
    return;
  }
  if (!byMe && Date.now() - (fetchedAt.get(id) ?? 0) < SETTLE_MS) {
    fetchedAt.delete(id); // fetched just now: it may hold this change already
    want([id]);
    return;
  }
  applyDelta(id, ev.emoji as string, ev.type === "reaction.added", byMe);
}
on("reaction.added", onReactionEvent);
on("reaction.removed", onReactionEvent);

/** `reaction.counts` (channels): a post's counts as every subscriber gets them, with
 * nobody named (only the channel's admins and the reactor's own devices hear who). They
 * are the whole state: set them, keeping which ones are ours. */
function onReactionCounts(ev: ServerEvent): void {
  const tally = ev as ReactionCounts;
  const id = tally.message_id;
  if (tally.chat_id !== chatId || !(fetchedAt.has(id) || inflight.has(id))) return;
  if (inflight.has(id)) {
    dirty.add(id); // the fetch on its way may be older than these counts: ask again after
    return;
  }
  const mine = new Set((social.reactions[id] ?? []).filter((r) => r.mine).map((r) => r.emoji));
  social.reactions[id] = tally.reactions.map((r) => ({ ...r, mine: mine.has(r.emoji) }));
}
on("reaction.counts", onReactionCounts);

/** Adds or takes back my reaction: shown at once, then set to what the server answers. */
export async function toggleReaction(chat: number, messageId: number, emoji: string): Promise<void> {
  const before = social.reactions[messageId] ?? [];
  const add = !before.find((r) => r.emoji === emoji)?.mine;
  applyDelta(messageId, emoji, add, true);
  const path = `/chats/${chat}/messages/${messageId}/reactions`;
  try {
    const res = add
      ? await call<{ reactions: Reaction[] }>("PUT", path, { emoji })
      : await call<{ reactions: Reaction[] }>("DELETE", `${path}?emoji=${encodeURIComponent(emoji)}`);
    if (chat === chatId) {
      social.reactions[messageId] = res.reactions;
      fetchedAt.set(messageId, Date.now());
    }
  } catch (err) {
    if (chat === chatId) social.reactions[messageId] = before;
    const e = err as ApiError;
    toast(e.status === 0 ? t("offline") : e.code === "too_many_reactions" ? t("tooManyReactions") : e.message);
  }
}
