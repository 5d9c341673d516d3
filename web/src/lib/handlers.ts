// Who handles which server event. Each feature registers its own handlers when its module
// loads (`on("reaction.added", …)`), and the socket hands every event to `dispatch`: so
// neither the socket nor the chat model imports the features, and a new event type is one
// `on` in the module that cares about it. The entry (main.ts) imports every feature that
// listens, before the socket starts; handlers of one type run in the order registered.

import { setKv } from "./db";
import type { ServerEvent } from "./types";

export type Handler = (ev: ServerEvent) => void | Promise<void>;

const handlers = new Map<string, Handler[]>();

export function on(type: string, handler: Handler): void {
  const list = handlers.get(type);
  if (list) list.push(handler);
  else handlers.set(type, [handler]);
}

/** Applies an event (from the replay or live): its handlers one after another, then its
 * cursor is stored, so the next connect resumes after it. Unknown types only move the cursor. */
export async function dispatch(ev: ServerEvent): Promise<void> {
  for (const handler of handlers.get(ev.type) ?? []) await handler(ev);
  if (ev.cursor) await setKv("cursor", ev.cursor);
}
