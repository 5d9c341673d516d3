// How chats and messages read in lists.

import { t } from "./i18n.svelte";
import { me } from "./state.svelte";
import type { Chat, Message } from "./types";
import { userName } from "./users";

export function chatTitle(chat: Chat): string {
  if (chat.title) return chat.title;
  if (chat.kind === "direct" && chat.peer_id) return userName(chat.peer_id);
  return t(chat.kind === "direct" ? "direct" : chat.kind);
}

export function systemText(m: Message): string {
  const s = m.system ?? {};
  const who = (k: string) => (typeof s[k] === "number" ? userName(s[k] as number) : "");
  switch (s.action) {
    case "chat.created":
      return `${who("by")} ${t("sysCreated")} «${String(s.title ?? "")}»`;
    case "member.joined":
      return `${who("user_id")} ${t("sysJoined")}`;
    case "member.left":
      return `${who("user_id")} ${t("sysLeft")}`;
    case "chat.title_changed":
      return `${who("by")} ${t("sysRenamed")} «${String(s.title ?? "")}»`;
    case "safety.alert":
      return `⚠ ${String(s.text ?? "")}`;
    default:
      return t("systemMsg");
  }
}

/** The chat list's line for a message: who (only "You", in the interface's language) and the
 * text in its own direction, shown apart so a Latin preview in the Arabic interface shows its
 * start, not its end. */
export function previewParts(m: Message | undefined): { who: string; text: string } {
  if (!m) return { who: "", text: "" };
  // A deleted last message is replaced by the one before it (events.svelte.ts); a chat list
  // from the server may still end on one: say nothing rather than "Message deleted".
  if (m.deleted) return { who: "", text: m.removed ? t("removedByMods") : "" };
  if (m.system) return { who: "", text: systemText(m) };
  const caption = m.text || (m.media ? t(m.media.kind as "photo") : ""); // a media message: its kind
  const text = caption.replace(/\s+/g, " ").slice(0, 120);
  return { who: m.sender_id === me() ? t("you") : "", text };
}
