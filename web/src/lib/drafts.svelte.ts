// Drafts: what is being written in each chat, kept by the server for all of one's devices.
// Typing is saved after a pause; until the server has it, the text waits in IndexedDB
// (kv "drafts"), so a draft written offline survives a reload and is sent once the link is
// back. The server stamps each draft with its own time and the latest wins; a send clears
// the draft there (and the server clears it for every device in the send's transaction).

import { ApiError, call } from "./api";
import { getKv, setKv } from "./db";
import { saveChat } from "./events.svelte";
import { on } from "./handlers";
import { chatById } from "./state.svelte";
import type { Draft } from "./types";

const PAUSE_MS = 700;

// chat id → text typed here that the server does not have yet
const pending = $state<Record<number, string>>({});
const timers = new Map<number, number>();
const loading = getKv<Record<number, string>>("drafts").then((saved) => {
  for (const [id, text] of Object.entries(saved ?? {})) pending[Number(id)] ??= text;
});

const persist = () => setKv("drafts", $state.snapshot(pending));

/** What the composer of a chat starts with: what was typed here, else the server's draft. */
export function draftText(chatId: number): string {
  return pending[chatId] ?? chatById(chatId)?.draft?.text ?? "";
}

async function apply(chatId: number, draft: Draft | null): Promise<void> {
  const chat = chatById(chatId);
  if (!chat) return;
  if (draft && chat.draft && draft.updated_at < chat.draft.updated_at) return; // older
  chat.draft = draft;
  await saveChat(chat);
}

/** The composer's text changed: saved after a pause in typing. */
export function typeDraft(chatId: number, text: string): void {
  pending[chatId] = text;
  void persist();
  clearTimeout(timers.get(chatId));
  timers.set(chatId, window.setTimeout(() => void push(chatId), PAUSE_MS));
}

async function push(chatId: number): Promise<void> {
  timers.delete(chatId);
  const text = pending[chatId];
  if (text === undefined) return;
  try {
    const answer = await call<{ draft: Draft | null }>("PUT", `/chats/${chatId}/draft`, { text });
    await apply(chatId, answer.draft);
  } catch (err) {
    // No link, a rate limit or a server error: it waits for the next link. Refused for
    // good (no such chat any more, too long): it is dropped.
    const status = err instanceof ApiError ? err.status : 0;
    if (status === 0 || status === 429 || status >= 500) return;
  }
  if (pending[chatId] === text) delete pending[chatId];
  await persist();
}

/** The link is back: send the drafts written while it was away. */
export async function flushDrafts(): Promise<void> {
  await loading;
  for (const id of Object.keys(pending)) if (!timers.has(Number(id))) void push(Number(id));
}

/** A message was sent from this chat's composer: its draft is gone here at once (the
 * server clears its own copy when the send reaches it). */
export async function sentFrom(chatId: number): Promise<void> {
  clearTimeout(timers.get(chatId));
  timers.delete(chatId);
  const chat = chatById(chatId);
  // Both at once, so the composer never sees the server's old draft come back.
  if (chat) chat.draft = null;
  delete pending[chatId];
  await persist();
  if (chat) await saveChat(chat);
}

on("draft.updated", (ev) => apply(ev.chat_id as number, ev.draft as Draft | null));
