// Pinned messages and the admin rights that allow them (docs/social.md, "Channels").

import { ApiError, call } from "./api";
import { db } from "./db";
import { t } from "./i18n.svelte";
import { chatById, toast } from "./state.svelte";
import type { Chat } from "./types";

/** Whether you may pin here: either side of a direct chat; owners; admins with `pin`. */
export function canPin(chat: Chat): boolean {
  if (chat.kind === "direct" || chat.role === "owner") return true;
  return chat.role === "admin" && (chat.rights ?? []).includes("pin");
}

const asked = new Set<number>();
/** An admin's rights come with the chat fetched alone; the list and events leave them out. */
export async function loadRights(chat: Chat): Promise<void> {
  if (chat.kind === "direct" || (chat.role !== "owner" && chat.role !== "admin")) return;
  if (chat.rights || asked.has(chat.id)) return;
  asked.add(chat.id);
  try {
    const fresh = await call<Chat>("GET", `/chats/${chat.id}`);
    const have = chatById(chat.id);
    if (have) have.rights = fresh.rights ?? [];
  } catch {
    // offline: the pin button shows once the link is back and the chat is opened again
  } finally {
    asked.delete(chat.id);
  }
}

export async function setPin(chatId: number, messageId: number | null): Promise<void> {
  try {
    const chat =
      messageId === null
        ? await call<Chat>("DELETE", `/chats/${chatId}/pin`)
        : await call<Chat>("PUT", `/chats/${chatId}/pin`, { message_id: messageId });
    const have = chatById(chatId);
    if (have) {
      if (chat.pinned_message_id) have.pinned_message_id = chat.pinned_message_id;
      else delete have.pinned_message_id;
      await (await db()).put("chats", $state.snapshot(have) as Chat);
    }
  } catch (err) {
    toast(err instanceof ApiError && err.status === 0 ? t("offline") : (err as Error).message);
  }
}
