// Names of people: memory first, then IndexedDB, then the server (one request per user).

import { ApiError, call } from "./api";
import { db } from "./db";
import { ltr, t } from "./i18n.svelte";
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

/** A user id from what someone typed: a number as it is, or an exact @username looked up on
 * the server (which remembers the profile). A string answer is the error to show. */
export async function findUser(typed: string): Promise<number | string> {
  const text = typed.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // Isolated (LRI … PDI) so the name reads left to right inside Arabic text.
  const name = ltr("@" + text.replace(/^@/, ""));
  try {
    const user = await call<User>("GET", `/users/by-username/${encodeURIComponent(text)}`);
    app.users[user.id] = user;
    await (await db()).put("users", user);
    return user.id;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 404) return t("unknownUsername").replace("{name}", name);
    if (err.status === 400 || err.status === 422) return t("invalidUsername").replace("{name}", name);
    return err.status === 0 ? t("offline") : err.message;
  }
}
