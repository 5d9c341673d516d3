// Chats where someone mentioned me: an "@" badge in the chat list until the chat is read
// past the mention, and a toast when the chat is not open (and not muted without its mentions
// let through). Kept in IndexedDB (kv "mentions").

import { getKv, setKv } from "./db";
import { chatTitle } from "./format";
import { on } from "./handlers";
import { t } from "./i18n.svelte";
import { muteOf } from "./mutes.svelte";
import { app, chatById, toast } from "./state.svelte";
import type { Chat, ServerEvent } from "./types";

/** chat id → seq of the newest message that mentioned me */
const seqs = $state<Record<number, number>>({});
let loaded = false;

async function load(): Promise<void> {
  loaded = true;
  const saved = await getKv<Record<number, number>>("mentions");
  for (const [id, seq] of Object.entries(saved ?? {})) seqs[Number(id)] = Math.max(seqs[Number(id)] ?? 0, seq);
}

/** Whether the chat shows the "@" badge: a mention past what I have read. */
export function mentioned(chat: Chat): boolean {
  if (!loaded) void load();
  return (seqs[chat.id] ?? 0) > (chat.last_read_seq ?? 0);
}

/** The `mention` event: someone named me in a chat. */
async function onMention(ev: ServerEvent): Promise<void> {
  const chatId = ev.chat_id as number;
  const seq = ev.seq as number;
  if (!loaded) await load();
  seqs[chatId] = Math.max(seqs[chatId] ?? 0, seq);
  const chat = chatById(chatId);
  const open = app.openChatId === chatId && document.visibilityState === "visible";
  const mute = chat && muteOf(chat);
  const quiet = mute && !mute.mentions; // muted, mentions not let through
  if (chat && !open && !quiet && seq > (chat.last_read_seq ?? 0)) toast(`${t("mentionedIn")} ${chatTitle(chat)}`);
  // Read marks drop what they passed, so the stored map stays small.
  const keep = Object.fromEntries(
    Object.entries($state.snapshot(seqs)).filter(([id, s]) => s > (chatById(Number(id))?.last_read_seq ?? 0)),
  );
  await setKv("mentions", keep);
}
on("mention", onMention);
