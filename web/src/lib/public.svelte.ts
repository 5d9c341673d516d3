// Public channels and groups: search, previews, @handles, invite links and admin rights
// (docs/social.md). Loaded with the screens that use them, not at first paint.

import { ApiError, call } from "./api";
import { keep, type JoinAsked } from "./chats.svelte";
import { db } from "./db";
import { t, type Key } from "./i18n.svelte";
import { chatById } from "./state.svelte";
import type { Chat, Message } from "./types";

/** What anyone may know of a public chat (no owner, no member list). */
export interface PublicChat {
  id: number;
  kind: "group" | "channel";
  title: string;
  description: string;
  member_count: number;
  handle?: string;
  verified?: boolean;
  avatar?: string;
}

/** A public chat drawn like one of yours (its face: the same initials and colour). */
export function asChat(c: PublicChat): Chat {
  return { ...c, owner_id: 0, public: true, last_seq: 0, created_at: 0 };
}

export interface Invite {
  id: number;
  chat_id: number;
  token?: string; // only in the answer that made it
  expires_at: number | null;
  max_uses: number | null;
  uses: number;
  revoked: boolean;
  created_at: number;
}

export const RIGHTS = ["read_all", "add_members", "remove_members", "add_admins", "change_info", "pin", "write"] as const;

/** The server's error in the user's words where we know its code, else its own message. */
export function explain(err: unknown): string {
  if (!(err instanceof ApiError)) return String(err);
  const known: Record<string, Key> = {
    offline: "offline",
    handle_taken: "handleTaken",
    handle_reserved: "handleReserved",
    invalid_handle: "handleInvalid",
    invite_not_found: "inviteInvalid",
    chat_not_found: "publicNotFound",
    rate_limited: "tooManyTries",
    too_many_requests: "tooManyTries",
  };
  if (known[err.code]) return t(known[err.code]);
  if (err.status === 429) return t("tooManyTries");
  return err.message;
}

export async function searchPublic(q: string): Promise<PublicChat[]> {
  const res = await call<{ chats: PublicChat[] }>("GET", `/public/search?q=${encodeURIComponent(q)}&limit=20`);
  return res.chats;
}

export function previewPublic(handle: string): Promise<{ chat: PublicChat; posts: Message[] }> {
  return call("GET", `/public/chats/${encodeURIComponent(handle)}`);
}

/** Join a public chat (subscribe to a channel); it joins the chat list at once. */
export async function joinPublic(chatId: number): Promise<Chat | undefined> {
  return keep(await call<Chat | JoinAsked>("POST", `/chats/${chatId}/join`));
}

export function invitePreview(token: string): Promise<{ chat: PublicChat }> {
  return call("GET", `/invites/${encodeURIComponent(token)}`);
}

export async function joinByInvite(token: string): Promise<Chat | undefined> {
  return keep(await call<Chat | JoinAsked>("POST", `/invites/${encodeURIComponent(token)}/join`));
}

export const listInvites = (chatId: number) =>
  call<{ invites: Invite[] }>("GET", `/chats/${chatId}/invites`).then((r) => r.invites);
export const createInvite = (chatId: number, body: { expires_in_s?: number; max_uses?: number }) =>
  call<Invite>("POST", `/chats/${chatId}/invites`, body);
export const revokeInvite = (chatId: number, inviteId: number) =>
  call<void>("DELETE", `/chats/${chatId}/invites/${inviteId}`);
export const setRights = (chatId: number, userId: number, rights: string[]) =>
  call<{ rights: string[] }>("PUT", `/chats/${chatId}/members/${userId}/rights`, { rights });

// What PATCH /chats/{id} answers beside the title: each left out of the view when unset.
const SETTINGS = ["handle", "sign_posts", "slow_mode_s", "join_approval"] as const;

/** PATCH the chat (handle, sign_posts, slow mode, join approval) and keep the answer;
 * errors are thrown to the form. */
export async function patchChat(chatId: number, body: Record<string, unknown>): Promise<void> {
  const chat = await call<Chat>("PATCH", `/chats/${chatId}`, body);
  const have = chatById(chatId);
  if (!have) return;
  for (const k of SETTINGS) {
    if (chat[k]) Object.assign(have, { [k]: chat[k] });
    else delete have[k];
  }
  have.public = chat.public;
  await (await db()).put("chats", $state.snapshot(have) as Chat);
}

export const appLink = (handle: string) => `${location.origin}/#/c/${handle}`;
export const pageLink = (handle: string) => `${location.origin}/c/${handle}`;
export const inviteLink = (token: string) => `${location.origin}/#/join/${token}`;

export async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false; // no clipboard (insecure origin): the link stays shown to copy by hand
  }
}
