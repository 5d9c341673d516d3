// Start-up: everything the first screen needs comes from IndexedDB, so it shows with no
// network; the socket then catches up from the stored cursor.

import { call } from "./api";
import { db, getKv, setKv } from "./db";
import { startLocale } from "./i18n.svelte";
import { loadOutbox } from "./outbox.svelte";
import { pumpUploads } from "./media.svelte";
import { startSocket } from "./socket.svelte";
import { app, setSession, sortChats, startingRole, type Session } from "./state.svelte";
import { loadStoredUsers } from "./users";

export async function boot(): Promise<void> {
  const locale = startLocale(); // its strings may be a chunk to fetch: meanwhile, IndexedDB
  const session = await getKv<Session>("session");
  if (session) {
    setSession(session);
    app.chats = await (await db()).getAll("chats");
    // Chats stored by an older client without a role (a creator's own): the owner's again.
    for (const c of app.chats) c.role ??= startingRole(c);
    sortChats();
    await loadOutbox();
    void pumpUploads(); // attachments left half-uploaded resume where the server stopped
    await loadStoredUsers();
  }
  await locale;
  app.loaded = true;
  if (session) startSocket();
  else void loadHealth();
}

export async function loadHealth(): Promise<void> {
  try {
    const health = await call<{ code_sender?: string }>("GET", "/health");
    app.codeSender = health.code_sender ?? "";
  } catch {
    // offline: the sign-in screen just doesn't show the hint
  }
}

export async function signedIn(session: Session): Promise<void> {
  await setKv("session", session);
  setSession(session);
  app.users[session.user.id] = session.user;
  startSocket();
}
