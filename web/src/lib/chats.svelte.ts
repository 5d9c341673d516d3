// What the user does with chats and messages. History comes from IndexedDB first, then
// the server; edits, deletes and chat management need the link (they say so when it's down).

import { ApiError, call } from "./api";
import { db, lastMessages, messagesBetween, putMessages } from "./db";
import { applyMessage } from "./events.svelte";
import { t } from "./i18n.svelte";
import { flushOutbox, sendFrame } from "./link";
import { pumpUploads } from "./media.svelte";
import { enqueue, markOutbox, removeFromOutbox } from "./outbox.svelte";
import { app, chatById, me, sortChats, startingRole, toast, view } from "./state.svelte";
import type { Range } from "./markup";
import type { Chat, Member, Message } from "./types";

const PAGE = 100;

/** `page` plus the stored messages that join it without a gap, oldest first. */
function joinTail(local: Message[], page: Message[]): Message[] {
  if (!page.length) return local;
  const out = [...page];
  for (let i = local.length - 1; i >= 0; i--) {
    if (local[i].seq === out[0].seq - 1) out.unshift(local[i]);
    else if (local[i].seq < out[0].seq - 1) break;
  }
  return out;
}

/** Shows a chat (at message `seq`, else its newest); its Conversation component then loads
 * it with `openChat`. */
export function selectChat(chatId: number, seq?: number): void {
  view.focus = seq ? { chatId, seq } : null;
  app.openChatId = chatId;
  app.panel = null;
}

export async function openChat(chatId: number): Promise<void> {
  view.chatId = chatId;
  view.messages = [];
  if (view.focus?.chatId === chatId) return openAt(chatId, view.focus.seq);
  view.messages = await lastMessages(chatId, PAGE);
  view.hasOlder = (view.messages[0]?.seq ?? 1) > 1;
  void refreshChat(chatId);
}

async function refreshChat(chatId: number): Promise<void> {
  try {
    const { messages } = await call<{ messages: Message[] }>("GET", `/chats/${chatId}/messages?limit=${PAGE}`);
    await putMessages(messages);
    if (view.chatId !== chatId) return;
    view.messages = joinTail(view.messages, messages);
    view.hasOlder = (view.messages[0]?.seq ?? 1) > 1;
    await loadPeople(chatId);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 0) console.warn(err);
  }
}

/** Direct chats are named after the other person; read marks come from members' markers. */
async function loadPeople(chatId: number): Promise<void> {
  const chat = chatById(chatId);
  if (!chat || (chat.kind === "channel" && !isAdmin(chat))) return;
  const { members } = await call<{ members: Member[] }>("GET", `/chats/${chatId}/members?limit=200`);
  const others = members.filter((m) => m.user_id !== me());
  if (chat.kind === "direct") chat.peer_id = others[0]?.user_id;
  chat.others_read_seq = Math.max(chat.others_read_seq ?? 0, ...others.map((m) => m.last_read_seq));
  chat.others_delivered_seq = Math.max(chat.others_delivered_seq ?? 0, chat.others_read_seq, ...others.map((m) => m.last_delivered_seq ?? 0));
  await (await db()).put("chats", $state.snapshot(chat) as Chat);
}

/** The history page that ends at `seq`: what this device holds first, then the server's. */
async function openAt(chatId: number, seq: number): Promise<void> {
  view.messages = contiguousBefore(await messagesBetween(chatId, Math.max(1, seq - PAGE + 1), seq), seq + 1);
  view.hasOlder = (view.messages[0]?.seq ?? 1) > 1;
  try {
    const { messages } = await call<{ messages: Message[] }>("GET", `/chats/${chatId}/messages?before=${seq + 1}&limit=${PAGE}`);
    await putMessages(messages);
    if (view.chatId !== chatId || !messages.length) return;
    view.messages = messages;
    view.hasOlder = messages[0].seq > 1;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 0) console.warn(err);
  }
}

export async function loadOlder(): Promise<number> {
  const chatId = view.chatId;
  const first = view.messages[0]?.seq ?? 1;
  if (view.loadingOlder || first <= 1) return 0;
  view.loadingOlder = true;
  try {
    let older = contiguousBefore(await messagesBetween(chatId, Math.max(1, first - PAGE), first - 1), first);
    if (!older.length) {
      const res = await call<{ messages: Message[] }>("GET", `/chats/${chatId}/messages?before=${first}&limit=${PAGE}`);
      older = res.messages;
      await putMessages(older);
    }
    if (view.chatId !== chatId) return 0;
    view.messages = [...older, ...view.messages];
    view.hasOlder = (view.messages[0]?.seq ?? 1) > 1;
    return older.length;
  } catch {
    return 0;
  } finally {
    view.loadingOlder = false;
  }
}

function contiguousBefore(list: Message[], first: number): Message[] {
  const out: Message[] = [];
  for (let i = list.length - 1; i >= 0 && list[i].seq === first - out.length - 1; i--) out.unshift(list[i]);
  return out;
}

export function isAdmin(chat: Chat): boolean {
  return chat.role === "owner" || chat.role === "admin";
}

export function canPost(chat: Chat): boolean {
  return chat.kind !== "channel" || isAdmin(chat);
}

export async function sendText(chatId: number, text: string, replyTo?: number, markup?: Range[]): Promise<void> {
  await enqueue({ chat_id: chatId, text, reply_to: replyTo, ...(markup?.length ? { markup } : {}) });
  flushOutbox();
}

export async function forwardTo(chatId: number, messageId: number): Promise<void> {
  await enqueue({ chat_id: chatId, text: "", forward_of: messageId });
  flushOutbox();
}

/** A failed send, again: the same client_id, so the server still stores it once. */
export async function retrySend(clientId: string): Promise<void> {
  await markOutbox(clientId, "pending");
  void pumpUploads();
  flushOutbox();
}

export async function discardSend(clientId: string): Promise<void> {
  await removeFromOutbox(clientId);
}

async function online<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    toast(err instanceof ApiError && err.status === 0 ? t("offline") : (err as Error).message);
    return undefined;
  }
}

/** An edit replaces the text and its markup (none given: the text is plain). */
export async function editMessage(m: Message, text: string, markup?: Range[]): Promise<void> {
  const body = markup?.length ? { text, markup } : { text };
  const updated = await online(() => call<Message>("PATCH", `/chats/${m.chat_id}/messages/${m.id}`, body));
  if (updated) await applyMessage(updated, false);
}

// Deleting waits a moment in which Undo takes it back (the server has no undelete); the
// message is hidden meanwhile. One at a time: a second delete sends the first at once. A
// tab closed within the moment keeps the message.
const UNDO_MS = 5000;
let undoable: { m: Message; timer: number } | null = null;

export function deleteSoon(m: Message): void {
  void commitDelete();
  undoable = { m, timer: window.setTimeout(() => void commitDelete(), UNDO_MS) };
  app.undo = { messageId: m.id, text: t("deletedUndoable") };
}

export function undoDelete(): void {
  if (undoable) clearTimeout(undoable.timer);
  undoable = null;
  app.undo = null;
}

async function commitDelete(): Promise<void> {
  if (!undoable) return;
  const { m, timer } = undoable;
  clearTimeout(timer);
  undoable = null;
  app.undo = null;
  await deleteMessage(m);
}

export async function deleteMessage(m: Message): Promise<void> {
  const updated = await online(() => call<Message>("DELETE", `/chats/${m.chat_id}/messages/${m.id}`));
  if (updated) await applyMessage(updated, false);
}

let lastRead = { chat: 0, seq: 0 };
export function markRead(chatId: number, seq: number): void {
  const chat = chatById(chatId);
  if (!chat || seq <= (chat.last_read_seq ?? 0) || document.visibilityState !== "visible") return;
  if (lastRead.chat === chatId && lastRead.seq >= seq) return;
  // Offline: nothing changes here, so the mark is sent when this runs again online.
  if (!sendFrame({ type: "read", chat_id: chatId, seq })) return;
  lastRead = { chat: chatId, seq };
  chat.last_read_seq = seq;
  chat.unread_count = Math.max(0, chat.last_seq - seq);
}

let lastTyping = 0;
export function typing(chatId: number): void {
  if (Date.now() - lastTyping < 4000) return;
  lastTyping = Date.now();
  sendFrame({ type: "typing", chat_id: chatId });
}

export async function createChat(body: Record<string, unknown>): Promise<Chat | undefined> {
  return keep(await online(() => call<Chat>("POST", "/chats", body)));
}

export async function joinChat(chatId: number): Promise<Chat | undefined> {
  return keep(await online(() => call<Chat | JoinAsked>("POST", `/chats/${chatId}/join`)));
}

/** A join's answer in a chat whose admins approve newcomers: the request waits for them. */
export interface JoinAsked {
  join_request: { chat_id: number; user_id: number; created_at: number };
}

export async function keep(answer: Chat | JoinAsked | undefined): Promise<Chat | undefined> {
  if (answer && "join_request" in answer) toast(t("requestSent"));
  if (!answer || "join_request" in answer) return undefined;
  const chat = answer;
  const have = chatById(chat.id);
  if (!have) app.chats.unshift({ ...chat, role: chat.role ?? startingRole(chat) });
  else have.role ??= chat.role ?? startingRole(chat); // the socket's copy came first
  sortChats();
  await (await db()).put("chats", $state.snapshot(chatById(chat.id)!) as Chat);
  return chat;
}

export async function listMembers(chatId: number): Promise<Member[]> {
  const res = await online(() => call<{ members: Member[] }>("GET", `/chats/${chatId}/members?limit=200`));
  return res?.members ?? [];
}

export const addMember = (chatId: number, userId: number) =>
  online(() => call("POST", `/chats/${chatId}/members`, { user_ids: [userId] }));
export const removeMember = (chatId: number, userId: number) =>
  online(() => call("DELETE", `/chats/${chatId}/members/${userId}`));
export const setRole = (chatId: number, userId: number, role: string) =>
  online(() => call("PATCH", `/chats/${chatId}/members/${userId}`, { role }));
export const leaveChat = (chatId: number) => online(() => call("POST", `/chats/${chatId}/leave`));

const peersAsked = new Set<number>();
/** Finds the other person of a direct chat once, so the list can show their name. */
export async function ensurePeer(chatId: number): Promise<void> {
  if (peersAsked.has(chatId) || app.conn === "offline") return;
  peersAsked.add(chatId);
  try {
    await loadPeople(chatId);
  } catch {
    peersAsked.delete(chatId);
  }
}

export async function updateChat(chatId: number, body: Record<string, string>): Promise<void> {
  const chat = await online(() => call<Chat>("PATCH", `/chats/${chatId}`, body));
  const have = chatById(chatId);
  if (chat && have) {
    have.title = chat.title;
    have.description = chat.description;
    await (await db()).put("chats", $state.snapshot(have) as Chat);
    toast(t("saved"));
  }
}
