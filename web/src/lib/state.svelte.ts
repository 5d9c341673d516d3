// The app's reactive state, loaded from IndexedDB first so the app opens with no network.

import { setToken } from "./api";
import type { Chat, Message, OutboxItem, Role, User } from "./types";

// The people screens (lib/people.svelte.ts): find contacts, privacy, a person's profile.
export type PeoplePanel = "contacts" | "privacy" | "user";
export type ConnState = "offline" | "connecting" | "online";

export interface Session {
  token: string;
  user: User;
}

export const app = $state({
  loaded: false,
  session: null as Session | null,
  conn: "connecting" as ConnState,
  chats: [] as Chat[],
  openChatId: null as number | null,
  panel: null as null | "profile" | "new" | "info" | "safety" | "moderation" | "public" | "invite" | "search" | PeoplePanel,
  outbox: [] as OutboxItem[],
  users: {} as Record<number, User>,
  // chat id → user id → until (ms): who is typing there now
  typing: {} as Record<number, Record<number, number>>,
  toast: "",
  // A delete that Undo can still take back: its message is hidden until it goes (chats.svelte.ts).
  undo: null as null | { messageId: number; text: string },
  codeSender: "",
});

/** The open conversation. `messages` is replaced, never mutated, and not deeply reactive:
 * 10,000 rows stay cheap. */
class View {
  chatId = $state(0);
  messages = $state.raw<Message[]>([]);
  loadingOlder = $state(false);
  hasOlder = $state(false);
  // A message to open the chat at (a search result): the history page ending there.
  focus = $state<{ chatId: number; seq: number } | null>(null);
}
export const view = new View();

export function me(): number {
  return app.session?.user.id ?? 0;
}

export function setSession(session: Session | null): void {
  app.session = session;
  setToken(session?.token ?? "");
}

/** My role in a chat the server described without one (`chat.created` goes to every member
 * alike, and the create call's answer is that same view): the owner's is "owner", everyone
 * else starts plain. The socket's copy often arrives before the call returns. */
export function startingRole(chat: Chat): Role {
  if (chat.kind !== "direct" && chat.owner_id === me()) return "owner";
  return chat.kind === "channel" ? "subscriber" : "member";
}

export function chatById(id: number): Chat | undefined {
  return app.chats.find((c) => c.id === id);
}

export function sortChats(): void {
  const key = (c: Chat) => c.last_message?.id ?? 0;
  app.chats.sort((a, b) => key(b) - key(a) || b.id - a.id);
}

let toastTimer = 0;
export function toast(text: string): void {
  app.toast = text;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (app.toast = ""), 5000);
}
