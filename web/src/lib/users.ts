// Names of people: memory first, then IndexedDB, then the server (one request per user).

import { call } from "./api";
import { db } from "./db";
import { app } from "./state.svelte";
import type { User } from "./types";

const inflight = new Map<number, Promise<void>>();

export function userName(id: number | undefined): string {
  if (!id) return "";
  const user = app.users[id];
  if (!user) {
    void loadUser(id);
    return "…";
  }
  return user.display_name || (user.username ? "@" + user.username : "#" + id);
}

export function loadUser(id: number): Promise<void> {
  let p = inflight.get(id);
  if (!p) {
    p = (async () => {
      const d = await db();
      const stored = await d.get("users", id);
      if (stored) app.users[id] = stored;
      try {
        const fresh = await call<User>("GET", `/users/${id}`);
        app.users[id] = fresh;
        await d.put("users", fresh);
      } catch {
        if (!stored) inflight.delete(id); // try again later
      }
    })();
    inflight.set(id, p);
  }
  return p;
}

export async function loadStoredUsers(): Promise<void> {
  for (const u of await (await db()).getAll("users")) app.users[u.id] = u;
}
