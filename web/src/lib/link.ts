// The link: the socket once the server has said `ready`, and the only way frames go out on
// it. socket.svelte.ts opens the socket and brings the link up and down; everything else
// sends through here and never imports the socket, so the socket may depend on them.

import { uploadsOf } from "./outbox.svelte";
import { app } from "./state.svelte";
import type { ClientFrame } from "./types";
import { sendVotes } from "./votes";

let sock: WebSocket | null = null;
// Outbox items sent on this link and not answered yet: not sent twice on one link.
const inflight = new Set<string>();

/** The socket is signed in and caught up: frames may go. */
export function linkUp(ws: WebSocket): void {
  sock = ws;
}

/** The socket is gone: nothing more may be written into it, and what was on its way goes
 * again on the next one. */
export function linkDown(): void {
  sock = null;
  inflight.clear();
}

/** The server answered a send (ack or error): the item may be sent again. */
export function settled(clientId: string): void {
  inflight.delete(clientId);
}

/** Sends a frame if the link is up; false when it is down (the caller decides what then). */
export function sendFrame(frame: ClientFrame): boolean {
  if (!sock) return false;
  sock.send(JSON.stringify(frame));
  return true;
}

/** Sends every pending outbox item not already on its way, oldest first. */
export function flushOutbox(): void {
  if (!sock) return;
  if (app.outbox.some((o) => o.vote)) void sendVotes(flushOutbox); // votes go by HTTP
  for (const item of app.outbox) {
    if (item.vote || item.state !== "pending" || inflight.has(item.client_id)) continue;
    if (uploadsOf(item).some((u) => !u.media_id)) continue; // sent when its uploads complete
    inflight.add(item.client_id);
    const frame: ClientFrame = {
      type: "send",
      id: item.client_id,
      chat_id: item.chat_id,
      client_id: item.client_id,
      text: item.text,
    };
    if (item.markup?.length) frame.markup = item.markup;
    if (item.poll) frame.poll = item.poll;
    if (item.reply_to) frame.reply_to = item.reply_to;
    if (item.forward_of) frame.forward_of = item.forward_of;
    if (item.upload) Object.assign(frame, { media_id: item.upload.media_id, kind: item.upload.kind });
    if (item.album) frame.media_ids = item.album.map((u) => u.media_id!);
    sock.send(JSON.stringify(frame));
  }
}
