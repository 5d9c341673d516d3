// The outbox: every message written here goes to IndexedDB first, with a client_id made at
// that moment, and leaves only when the server has stored it (an ack, or the message coming
// back from another device). Resending the same client_id is harmless: the server returns
// the original, so a message is sent exactly once however often the link drops.

import { db } from "./db";
import { app } from "./state.svelte";
import type { OutboxItem, OutboxUpload } from "./types";

export function newClientId(): string {
  return crypto.randomUUID();
}

export async function loadOutbox(): Promise<void> {
  app.outbox = await (await db()).getAll("outbox"); // key order = the order written
}

export async function enqueue(item: Omit<OutboxItem, "client_id" | "created_at" | "state">): Promise<OutboxItem> {
  const full: OutboxItem = { ...item, client_id: newClientId(), created_at: Date.now(), state: "pending" };
  full.order = await (await db()).add("outbox", full);
  app.outbox.push(full);
  return full;
}

export async function removeFromOutbox(clientId: string): Promise<boolean> {
  const index = app.outbox.findIndex((o) => o.client_id === clientId);
  const d = await db();
  const key = await d.getKeyFromIndex("outbox", "client_id", clientId);
  if (key !== undefined) await d.delete("outbox", key);
  if (index >= 0) app.outbox.splice(index, 1);
  return index >= 0 || key !== undefined;
}

export async function markOutbox(clientId: string, state: OutboxItem["state"], error?: string): Promise<void> {
  const item = app.outbox.find((o) => o.client_id === clientId);
  if (!item) return;
  item.state = state;
  item.error = error;
  await (await db()).put("outbox", $state.snapshot(item) as OutboxItem);
}

/** Every attachment of an item: an album's, or its one upload. */
export function uploadsOf(item: OutboxItem): OutboxUpload[] {
  return item.album ?? (item.upload ? [item.upload] : []);
}
