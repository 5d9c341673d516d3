// The chat model's side of the server events (from the socket replay or live): messages,
// chats, members, read marks and profiles, applied to IndexedDB and the app state. The
// other features register their own handlers (lib/handlers.ts).

import { db, lastMessages, putMessages, setKv } from "./db";
import { on } from "./handlers";
import { removeFromOutbox } from "./outbox.svelte";
import { applyOthersMark, noteReceived, noteReceivedChats } from "./receipts";
import { app, chatById, me, sortChats, startingRole, view } from "./state.svelte";
import type { Chat, Message, ServerEvent, User } from "./types";

export async function saveChat(chat: Chat): Promise<void> {
  await (await db()).put("chats", $state.snapshot(chat) as Chat);
}

export async function replaceChats(chats: Chat[]): Promise<void> {
  const d = await db();
  const old = new Map((await d.getAll("chats")).map((c) => [c.id, c]));
  const tx = d.transaction("chats", "readwrite");
  await tx.store.clear();
  for (const c of chats) {
    const prev = old.get(c.id);
    if (prev) c.peer_id ??= prev.peer_id;
    if (prev) c.others_read_seq ??= prev.others_read_seq;
    if (prev) c.others_delivered_seq ??= prev.others_delivered_seq;
    void tx.store.put(c);
  }
  await tx.done;
  app.chats = chats;
  sortChats();
  noteReceivedChats(chats, me());
  const last = chats.flatMap((c) => (c.last_message ? [c.last_message] : []));
  await putMessages(last);
}

async function standingBefore(m: Message): Promise<Message | undefined> {
  const stored = await lastMessages(m.chat_id, 50);
  return stored.filter((x) => x.seq < m.seq && !x.deleted).pop();
}

/** Shows a message in the open conversation if it belongs there. */
function showInView(m: Message): void {
  if (view.chatId !== m.chat_id) return;
  const list = view.messages;
  const at = list.findIndex((x) => x.id === m.id);
  if (at >= 0) {
    view.messages = list.with(at, m);
  } else if (!list.length || list[list.length - 1].seq < m.seq) {
    view.messages = [...list, m];
  } else {
    view.messages = [...list, m].sort((a, b) => a.seq - b.seq);
  }
}

export async function applyMessage(m: Message, isNew: boolean): Promise<void> {
  await putMessages([m]);
  if (m.client_id && m.sender_id === me()) await removeFromOutbox(m.client_id);
  showInView(m);
  const chat = chatById(m.chat_id);
  if (!chat) return;
  if (!chat.last_message || chat.last_message.seq <= m.seq) chat.last_message = m;
  // The list shows what is there, not "Message deleted": the newest message still standing.
  if (m.deleted && !m.removed && chat.last_message.id === m.id) chat.last_message = await standingBefore(m) ?? m;
  if (isNew) {
    chat.last_seq = Math.max(chat.last_seq, m.seq);
    if (m.sender_id === me()) chat.last_read_seq = Math.max(chat.last_read_seq ?? 0, m.seq);
    chat.unread_count = Math.max(0, chat.last_seq - (chat.last_read_seq ?? 0));
    delete app.typing[m.chat_id]?.[m.sender_id];
    if (m.sender_id && m.sender_id !== me()) noteReceived(m.chat_id, m.seq);
  }
  sortChats();
  await saveChat(chat);
}

async function applyMark(kind: "read" | "delivered", chatId: number, userId: number, seq: number): Promise<void> {
  const chat = chatById(chatId);
  if (!chat) return;
  if (userId !== me()) {
    applyOthersMark(chat, kind, seq);
  } else if (kind === "read") {
    chat.last_read_seq = Math.max(chat.last_read_seq ?? 0, seq);
    chat.unread_count = Math.max(0, chat.last_seq - chat.last_read_seq);
  } else {
    return; // our own devices' delivered marks change nothing shown
  }
  await saveChat(chat);
}

async function upsertChat(chat: Chat): Promise<void> {
  const have = chatById(chat.id);
  // The server leaves out cleared keys (no photo, unpinned, made private, unsigned, slow mode
  // and join approval off): drop ours too.
  const cleared = ["avatar", "handle", "sign_posts", "pinned_message_id", "slow_mode_s", "join_approval"] as const;
  if (have) for (const k of cleared) if (!(k in chat)) delete have[k];
  if (have) Object.assign(have, chat);
  else app.chats.push({ ...chat, role: chat.role ?? startingRole(chat) });
  sortChats();
  await saveChat(chatById(chat.id)!);
}

/** A profile as the event has it (the whole public profile: absent fields are empty). */
async function applyUser(user: User): Promise<void> {
  app.users[user.id] = user;
  await (await db()).put("users", $state.snapshot(user) as User);
  if (app.session && user.id === me()) {
    const { phone, role } = app.session.user; // only the own profile's answer has these
    app.session.user = { ...user, phone, role };
    await setKv("session", $state.snapshot(app.session));
  }
}

async function dropChat(chatId: number): Promise<void> {
  app.chats = app.chats.filter((c) => c.id !== chatId);
  await (await db()).delete("chats", chatId);
  if (app.openChatId === chatId) app.openChatId = null;
}

const n = (ev: ServerEvent, k: string) => ev[k] as number;

on("message.new", (ev) => applyMessage(ev.message as Message, true));
// restored: an appeal or a withdrawn order brings it back
for (const type of ["message.edited", "message.deleted", "message.restored"]) {
  on(type, (ev) => applyMessage(ev.message as Message, false));
}
on("chat.created", (ev) => upsertChat(ev.chat as Chat));
on("chat.updated", (ev) => upsertChat(ev.chat as Chat));

on("member.joined", async (ev) => {
  if (n(ev, "user_id") === me()) {
    await upsertChat({ ...(ev.chat as Chat), role: ev.role as Chat["role"] });
  } else if (chatById(n(ev, "chat_id"))) {
    chatById(n(ev, "chat_id"))!.member_count += 1;
  }
});

on("member.left", async (ev) => {
  if (n(ev, "user_id") === me()) await dropChat(n(ev, "chat_id"));
  else if (chatById(n(ev, "chat_id"))) chatById(n(ev, "chat_id"))!.member_count -= 1;
});

on("member.updated", async (ev) => {
  const chat = chatById(n(ev, "chat_id"));
  if (n(ev, "user_id") === me() && chat) {
    chat.role = ev.role as Chat["role"];
    chat.rights = ev.rights as string[] | undefined; // absent: fetched again
    await saveChat(chat);
  }
});

on("chat.read", (ev) => applyMark("read", n(ev, "chat_id"), n(ev, "user_id"), n(ev, "seq")));
on("chat.delivered", (ev) => applyMark("delivered", n(ev, "chat_id"), n(ev, "user_id"), n(ev, "seq")));
on("user.updated", (ev) => applyUser(ev.user as User));
