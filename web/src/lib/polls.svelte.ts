// Polls' results in the client (docs/web.md, "Polls"). A poll row asks for its results
// when it shows (GET …/poll); live `poll.results` (counts, nobody named) and `poll.vote`
// (who chose what: ours, or anyone's in a public poll) keep them current. Our own votes go
// through the outbox (lib/votes.ts): until sent, the row shows the choice as waiting.

import { ApiError, call } from "./api";
import { flushOutbox } from "./link";
import { on } from "./handlers";
import { enqueue } from "./outbox.svelte";
import { app, me, toast } from "./state.svelte";
import { t } from "./i18n.svelte";
import type { PollResults, PollSpec, ServerEvent } from "./types";

/** message id → its results. Fine-grained: a row reads only its own key. */
export const polls = $state({ results: {} as Record<number, PollResults> });

const chats = new Map<number, number>(); // message id → its chat (to fetch again)
const inflight = new Set<number>();
const dirty = new Set<number>(); // changed while its fetch was on the way

/** Fetches a poll's results (once, unless told to again). */
export async function loadResults(chatId: number, id: number, again = false): Promise<void> {
  chats.set(id, chatId);
  if (inflight.has(id) || (!again && polls.results[id])) return;
  inflight.add(id);
  try {
    polls.results[id] = await call<PollResults>("GET", `/chats/${chatId}/messages/${id}/poll`);
  } catch {
    // Offline or gone: fetched again when the row shows next.
  } finally {
    inflight.delete(id);
    if (dirty.delete(id)) void loadResults(chatId, id, true);
  }
}

function refetch(id: number): void {
  const chatId = chats.get(id);
  if (chatId === undefined) return;
  if (inflight.has(id)) dirty.add(id);
  else void loadResults(chatId, id, true);
}

function held(ev: ServerEvent): PollResults | undefined {
  const id = ev.message_id as number;
  if (inflight.has(id)) dirty.add(id); // the fetch on its way may be older than this
  return polls.results[id];
}

// The counts, as every member gets them (and a quiz's answer once it closed).
on("poll.results", (ev) => {
  const r = held(ev);
  if (!r) return;
  const next: PollResults = { ...r, counts: ev.counts as number[], voters: ev.voters as number, closed: ev.closed as boolean };
  if (ev.correct_option !== undefined) {
    next.correct_option = ev.correct_option as number;
    next.explanation = ev.explanation as string | undefined;
  }
  polls.results[r.message_id] = next;
});

// Who chose what: our own devices' votes, or anyone's in a public poll.
on("poll.vote", (ev) => {
  const r = held(ev);
  if (!r) return;
  const user = ev.user_id as number;
  const options = ev.options as number[];
  const next: PollResults = { ...r };
  if (user === me()) {
    next.mine = options;
    if (options.length && next.correct_option === undefined) refetch(r.message_id); // a quiz tells its answer now
  }
  if (r.voter_ids) next.voter_ids = r.voter_ids.map((ids, i) => [...ids.filter((u) => u !== user), ...(options.includes(i) ? [user] : [])]);
  polls.results[r.message_id] = next;
});

// The answer to our own vote (lib/votes.ts), or its refusal (the poll closed meanwhile).
on("poll.answer", (ev) => {
  const results = { ...ev } as Partial<typeof ev>;
  delete results.type;
  polls.results[ev.message_id as number] = results as unknown as PollResults;
});
on("poll.refused", (ev) => refetch(ev.message_id as number));

/** The choice we made and the outbox has not sent yet, if any (the newest). */
export function waitingVote(id: number): number[] | undefined {
  return app.outbox.findLast((o) => o.vote?.message_id === id)?.vote?.options;
}

/** Votes (or, with no options, takes the vote back): into the outbox, sent when online. */
export async function vote(chatId: number, id: number, options: number[]): Promise<void> {
  await enqueue({ chat_id: chatId, text: "", vote: { message_id: id, options } });
  flushOutbox();
}

export async function sendPoll(chatId: number, question: string, poll: PollSpec): Promise<void> {
  await enqueue({ chat_id: chatId, text: question, poll });
  flushOutbox();
}

export async function closePoll(chatId: number, id: number): Promise<void> {
  try {
    polls.results[id] = await call<PollResults>("POST", `/chats/${chatId}/messages/${id}/poll/close`);
  } catch (err) {
    toast(err instanceof ApiError && err.status === 0 ? t("offline") : (err as Error).message);
  }
}
