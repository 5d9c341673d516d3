// IndexedDB: what the client keeps between visits (see docs/web.md).
//   kv      session (token + user), cursor (sync position), prefs
//   chats   the chat list, by chat id
//   messages by id, index by [chat_id, seq] for history
//   users   names of people we have seen
//   outbox  messages written and not yet stored by the server, in the order written

import { openDB, type DBSchema, type IDBPDatabase } from "idb";
import type { Chat, Message, OutboxItem, User } from "./types";

interface Schema extends DBSchema {
  kv: { key: string; value: unknown };
  chats: { key: number; value: Chat };
  messages: { key: number; value: Message; indexes: { by_chat: [number, number] } };
  users: { key: number; value: User };
  outbox: { key: number; value: OutboxItem; indexes: { client_id: string } };
}

export type Db = IDBPDatabase<Schema>;
let dbp: Promise<Db> | null = null;

export function db(): Promise<Db> {
  dbp ??= openDB<Schema>("darbuka", 1, {
    upgrade(d) {
      d.createObjectStore("kv");
      d.createObjectStore("chats", { keyPath: "id" });
      d.createObjectStore("messages", { keyPath: "id" }).createIndex("by_chat", ["chat_id", "seq"]);
      d.createObjectStore("users", { keyPath: "id" });
      d.createObjectStore("outbox", { keyPath: "order", autoIncrement: true }).createIndex(
        "client_id",
        "client_id",
        { unique: true },
      );
    },
  });
  return dbp;
}

export async function getKv<T>(key: string): Promise<T | undefined> {
  return (await (await db()).get("kv", key)) as T | undefined;
}

export async function setKv(key: string, value: unknown): Promise<void> {
  await (await db()).put("kv", value, key);
}

/** Messages of a chat with seq in [from, to], oldest first. */
export async function messagesBetween(chatId: number, from: number, to: number): Promise<Message[]> {
  const range = IDBKeyRange.bound([chatId, from], [chatId, to]);
  return (await db()).getAllFromIndex("messages", "by_chat", range);
}

/** The newest `limit` stored messages of a chat, oldest first. */
export async function lastMessages(chatId: number, limit: number): Promise<Message[]> {
  const d = await db();
  const range = IDBKeyRange.bound([chatId, 0], [chatId, Number.MAX_SAFE_INTEGER]);
  const out: Message[] = [];
  let cur = await d.transaction("messages").store.index("by_chat").openCursor(range, "prev");
  while (cur && out.length < limit) {
    out.push(cur.value);
    cur = await cur.continue();
  }
  return out.reverse();
}

export async function putMessages(list: Message[]): Promise<void> {
  if (!list.length) return;
  const tx = (await db()).transaction("messages", "readwrite");
  for (const m of list) void tx.store.put(m);
  await tx.done;
}

export async function clearAll(): Promise<void> {
  const d = await db();
  const names = ["kv", "chats", "messages", "users", "outbox"] as const;
  const tx = d.transaction(names, "readwrite");
  for (const n of names) void tx.objectStore(n).clear();
  await tx.done;
}
