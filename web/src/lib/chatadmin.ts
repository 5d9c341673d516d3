// Chat admins' tools (docs/moderation.md#chat-admins): bans, join requests, the admin log
// and reports to the platform. Loaded with the chat admin screen, not at first paint.

import { call } from "./api";
import type { Key } from "./i18n.svelte";

export interface Ban {
  user_id: number;
  banned_by: number;
  created_at: number;
}

export interface JoinRequest {
  chat_id: number;
  user_id: number;
  created_at: number;
}

export interface LogEntry {
  id: number;
  actor_id: number;
  action: string;
  target_id: number | null;
  details: Record<string, unknown>;
  created_at: number;
}

// Slow mode's choices, in seconds (the server takes any from 0 to 3600).
export const SLOW_MODES = [0, 10, 30, 60, 300, 900, 3600] as const;

export const listBans = (chatId: number) =>
  call<{ bans: Ban[] }>("GET", `/chats/${chatId}/bans`).then((r) => r.bans);
export const ban = (chatId: number, userId: number) => call<void>("PUT", `/chats/${chatId}/bans/${userId}`);
export const unban = (chatId: number, userId: number) => call<void>("DELETE", `/chats/${chatId}/bans/${userId}`);

export const listJoinRequests = (chatId: number) =>
  call<{ join_requests: JoinRequest[] }>("GET", `/chats/${chatId}/join_requests`).then((r) => r.join_requests);
export const decideJoin = (chatId: number, userId: number, approve: boolean) =>
  approve
    ? call<void>("POST", `/chats/${chatId}/join_requests/${userId}/approve`)
    : call<void>("DELETE", `/chats/${chatId}/join_requests/${userId}`);

export const adminLog = (chatId: number) =>
  call<{ entries: LogEntry[] }>("GET", `/chats/${chatId}/admin_log?limit=50`).then((r) => r.entries);

/** Take a member to the platform's moderators in one action. */
export const escalateUser = (chatId: number, userId: number) =>
  call("POST", `/chats/${chatId}/escalations`, { user_id: userId, reason: "spam" });

// Actions whose target_id is a person (the others name a message, an invite, or nothing).
const ON_PEOPLE = new Set(["member.added", "member.removed", "member.banned", "member.unbanned",
  "role.changed", "rights.changed", "join.approved", "join.declined"]);

export const namesPerson = (e: LogEntry) =>
  e.target_id !== null && (ON_PEOPLE.has(e.action) || (e.action === "report.escalated" && e.details.target_type === "user"));

/** The interface string naming an admin log action (unknown ones show as they are). */
export function actionKey(action: string): Key | null {
  const key = `log_${action.replace(".", "_")}`;
  return LOG_KEYS.has(key) ? (key as Key) : null;
}

const LOG_KEYS = new Set([
  "log_member_added", "log_member_removed", "log_member_banned", "log_member_unbanned",
  "log_role_changed", "log_rights_changed", "log_chat_edited", "log_slow_mode_changed",
  "log_join_approval_changed", "log_chat_photo", "log_message_pinned", "log_message_deleted",
  "log_invite_created", "log_invite_revoked", "log_join_approved", "log_join_declined",
  "log_report_escalated",
]);
