// Delivery receipts: telling the server what this device received, and the marks on your
// own messages (pending: a clock, stored ✓, delivered ✓✓ muted, read ✓✓ accent; drawn as SVG).
//
// A `delivered` frame goes for every chat that got messages from others, seen or not (the
// chat need not be open, the tab may be hidden): at most one frame per chat per second,
// carrying the highest seq. Read marks stay in chats.svelte.ts (only when visible); a read
// mark covers delivered, so a chat already read that far sends nothing.

import { sendFrame } from "./link";
import { chatById } from "./state.svelte";
import type { Chat, Message, OutboxItem } from "./types";

const EVERY_MS = 1000;
// A short wait first, so a burst (catch-up after a reconnect) goes out as one frame.
const GATHER_MS = 50;

const waiting = new Map<number, number>(); // chat id → highest seq not sent yet
const sent = new Map<number, { seq: number; at: number }>();
const timers = new Map<number, number>();

/** A message from someone else reached this device (live or through catch-up). */
export function noteReceived(chatId: number, seq: number): void {
  if (seq <= Math.max(sent.get(chatId)?.seq ?? 0, waiting.get(chatId) ?? 0)) return;
  waiting.set(chatId, seq);
  if (timers.has(chatId)) return;
  const last = sent.get(chatId)?.at ?? 0;
  const delay = Math.max(GATHER_MS, last + EVERY_MS - Date.now());
  timers.set(chatId, window.setTimeout(() => flush(chatId), delay));
}

function flush(chatId: number): void {
  timers.delete(chatId);
  const seq = waiting.get(chatId);
  if (seq === undefined) return;
  if (seq <= (chatById(chatId)?.last_read_seq ?? 0)) {
    waiting.delete(chatId); // read already, which says delivered too
    return;
  }
  // Offline: it stays waiting and goes with `flushDelivered` once the link is back.
  if (!sendFrame({ type: "delivered", chat_id: chatId, seq })) return;
  waiting.delete(chatId);
  sent.set(chatId, { seq, at: Date.now() });
}

/** Sends the marks that could not go while the link was down (called on `ready`). */
export function flushDelivered(): void {
  for (const chatId of waiting.keys()) if (!timers.has(chatId)) flush(chatId);
}

/** For a chat list from a reset: its newest message, when unread, reached us too. */
export function noteReceivedChats(chats: Chat[], me: number): void {
  for (const c of chats) {
    const m = c.last_message;
    if (m && m.sender_id && m.sender_id !== me && m.seq > (c.last_read_seq ?? 0)) noteReceived(c.id, m.seq);
  }
}

/** Others' marks as they come in: read implies delivered. */
export function applyOthersMark(chat: Chat, kind: "read" | "delivered", seq: number): void {
  chat.others_delivered_seq = Math.max(chat.others_delivered_seq ?? 0, chat.others_read_seq ?? 0, seq);
  if (kind === "read") chat.others_read_seq = Math.max(chat.others_read_seq ?? 0, seq);
}

export type Receipt = "" | "pending" | "failed" | "sent" | "delivered" | "read";

export function receiptOf(chat: Chat, mine: boolean, m?: Message, pending?: OutboxItem): Receipt {
  if (pending) return pending.state;
  if (!mine || !m) return "";
  if ((chat.others_read_seq ?? 0) >= m.seq) return "read";
  if (Math.max(chat.others_delivered_seq ?? 0, chat.others_read_seq ?? 0) >= m.seq) return "delivered";
  return "sent";
}

/** Each mark's icon (ui/Icon.svelte): no glyph of a font that may be missing. */
export const RECEIPT_MARKS = {
  pending: "clock",
  failed: "alert",
  sent: "check",
  delivered: "checks",
  read: "checks",
} as const satisfies Record<Exclude<Receipt, "">, string>;
