// Votes from the outbox (lib/outbox.svelte.ts): a vote is written there first, with its
// client_id, and sent by HTTP when the link is up — one at a time, in the order made. The
// server counts a client_id once, so a vote sent again after a dropped answer is harmless.
// The answer (the results as we see them) is handed on as a `poll.answer` event, so this
// module knows nothing of how polls are shown (lib/polls.svelte.ts).

import { ApiError, call } from "./api";
import { dispatch } from "./handlers";
import { removeFromOutbox } from "./outbox.svelte";
import { app, toast } from "./state.svelte";
import type { OutboxItem } from "./types";

let sending = false;

function transient(e: ApiError): boolean {
  return e.status === 0 || e.status === 429 || e.status >= 500;
}

async function sendOne(item: OutboxItem): Promise<boolean> {
  const vote = item.vote!;
  try {
    const res = await call<Record<string, unknown>>("POST", `/chats/${item.chat_id}/messages/${vote.message_id}/votes`, {
      client_id: item.client_id,
      options: vote.options,
    });
    await removeFromOutbox(item.client_id);
    await dispatch({ ...res, type: "poll.answer" });
  } catch (err) {
    const e = err as ApiError;
    if (transient(e)) return false; // kept: sent again when the link is back
    await removeFromOutbox(item.client_id);
    toast(e.message);
    await dispatch({ type: "poll.refused", chat_id: item.chat_id, message_id: vote.message_id });
  }
  return true;
}

/** Sends the pending votes, oldest first; `again` is called to try later after a
 * transient failure (it does nothing while the link is down). */
export async function sendVotes(again: () => void): Promise<void> {
  if (sending) return;
  sending = true;
  try {
    for (;;) {
      const item = app.outbox.find((o) => o.vote && o.state === "pending");
      if (!item) return;
      if (!(await sendOne(item))) {
        window.setTimeout(again, 3000);
        return;
      }
    }
  } finally {
    sending = false;
  }
}
