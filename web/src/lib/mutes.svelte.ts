// Muting a chat: the person's own, on all their devices. The server keeps when the mute
// ends and sends nothing then, so the list works it out from the clock and is redrawn when
// the nearest mute ends. Muted chats keep their unread count, in a muted badge.

import { call } from "./api";
import { saveChat } from "./events.svelte";
import { on } from "./handlers";
import { chatById } from "./state.svelte";
import type { Chat, Mute } from "./types";

// Moves when a mute ends, so whatever asked `isMuted` asks again.
let ended = $state(0);
let due = Infinity;
let timer = 0;

function wakeAt(until: number): void {
  if (until >= due) return;
  due = until;
  clearTimeout(timer);
  // Timers past 2^31 ms fire at once; a mute that long is woken for again later.
  timer = window.setTimeout(() => ((due = Infinity), ended++), Math.min(until - Date.now(), 2 ** 30));
}

/** The chat's mute if it holds now. */
export function muteOf(chat: Chat): Mute | null {
  void ended;
  const mute = chat.mute;
  if (!mute) return null;
  if (mute.until === null) return mute;
  if (mute.until <= Date.now()) return null;
  wakeAt(mute.until);
  return mute;
}

async function apply(chatId: number, mute: Mute | null): Promise<void> {
  const chat = chatById(chatId);
  if (!chat) return;
  chat.mute = mute;
  await saveChat(chat);
}

/** Mutes for `forS` seconds (null: until turned off), or unmutes with `forS` undefined. */
export async function setMute(chatId: number, forS: number | null | undefined, mentions = false): Promise<void> {
  const answer = await (forS === undefined
    ? call<{ mute: Mute | null }>("DELETE", `/chats/${chatId}/mute`)
    : call<{ mute: Mute | null }>("PUT", `/chats/${chatId}/mute`, { for_s: forS, mentions }));
  await apply(chatId, answer.mute);
}

on("mute.updated", (ev) => apply(ev.chat_id as number, ev.mute as Mute | null));
