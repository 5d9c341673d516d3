// The small, always-loaded part of the people features: whom I blocked, who of my contacts
// joined, and which person's profile is open. The screens (find contacts, privacy, a
// person's profile) are loaded with import() from App.svelte, outside the first download.

import { ApiError, call } from "./api";
import { createChat, selectChat } from "./chats.svelte";
import { getKv, setKv } from "./db";
import { on } from "./handlers";
import { t } from "./i18n.svelte";
import { app, me, toast } from "./state.svelte";
import type { ServerEvent, User } from "./types";
import { userName } from "./users";

export type Audience = "everyone" | "contacts" | "nobody";
export type Privacy = Record<"find_by_phone" | "last_seen" | "group_add", Audience>;
export interface Joined {
  user: User;
  phone: string;
  at: number;
}
export interface Found {
  user: User;
  phone: string;
}
export interface ImportResult {
  users: Found[];
  malformed: number;
  duplicates: number;
  limited: number;
}
type Panel = typeof app.panel;

export const people = $state({
  blocked: {} as Record<number, true>,
  joined: [] as Joined[],
  privacy: null as Privacy | null,
  found: null as ImportResult | null, // the last answer of "find contacts", kept while here
  userId: 0, // whose profile the "user" panel shows
  trail: [] as Panel[], // where the Back buttons of the people screens go
});

const JOINED_KEPT = 50;
let loadedFor = 0;
let fetchedFor = 0;

/** The blocked list and the "joined" notes as this device keeps them (IndexedDB). */
async function loadLocal(): Promise<void> {
  const owner = me();
  if (!owner || loadedFor === owner) return;
  loadedFor = owner;
  people.found = null; // another account signed in on this page
  people.privacy = null;
  const ids = (await getKv<number[]>("blocked")) ?? [];
  people.blocked = Object.fromEntries(ids.map((id) => [id, true as const]));
  people.joined = (await getKv<Joined[]>("joined")) ?? [];
}

/** The same, then the blocked list from the server once a session; later changes come as
 * events (user.blocked, user.unblocked, contact.joined). */
export async function loadMyPeople(): Promise<void> {
  await loadLocal();
  const owner = me();
  if (!owner || fetchedFor === owner || app.conn === "offline") return;
  fetchedFor = owner;
  try {
    const { blocked } = await call<{ blocked: { user: User }[] }>("GET", "/me/blocked");
    for (const b of blocked) app.users[b.user.id] = b.user;
    people.blocked = Object.fromEntries(blocked.map((b) => [b.user.id, true as const]));
    await saveBlocked();
  } catch {
    fetchedFor = 0; // try again next time
  }
}

async function saveBlocked(): Promise<void> {
  await setKv("blocked", Object.keys(people.blocked).map(Number));
}

export function isBlocked(userId: number | undefined): boolean {
  return !!userId && !!people.blocked[userId];
}

/** Blocks or unblocks; says so in a toast, or why it could not. */
export async function setBlocked(userId: number, block: boolean): Promise<boolean> {
  try {
    await call(block ? "PUT" : "DELETE", `/me/blocked/${userId}`);
  } catch (err) {
    toast(err instanceof ApiError && err.status === 0 ? t("offline") : (err as Error).message);
    return false;
  }
  await markBlocked(userId, block);
  toast(`${userName(userId)}: ${block ? t("pBlockedToast") : t("pUnblockedToast")}`);
  return true;
}

async function markBlocked(userId: number, block: boolean): Promise<void> {
  if (block) people.blocked[userId] = true;
  else delete people.blocked[userId];
  await saveBlocked();
}

const PEOPLE_PANELS: Panel[] = ["contacts", "privacy", "user"];

/** Opens a people screen; its Back button returns to the screen it was opened from. */
export function openPeoplePanel(panel: "contacts" | "privacy" | "user"): void {
  // Coming from elsewhere (a chat, the profile) starts a new trail.
  if (!PEOPLE_PANELS.includes(app.panel)) people.trail = [app.panel];
  else if (app.panel !== panel) people.trail.push(app.panel);
  app.panel = panel;
}

export function closePeoplePanel(): void {
  app.panel = people.trail.pop() ?? null;
}

export function openUser(userId: number): void {
  people.userId = userId;
  openPeoplePanel("user");
}

/** Opens (or creates) the direct chat with a person. */
export async function messageUser(user: User): Promise<void> {
  app.users[user.id] ??= user;
  const chat = await createChat({ kind: "direct", user_id: user.id });
  if (!chat) return;
  const have = app.chats.find((c) => c.id === chat.id);
  if (have) have.peer_id = user.id;
  selectChat(chat.id);
}

/** "X joined Darbuka": a new account often has no name yet, but I know its number. */
export function joinedText(user: User, phone: string): string {
  const name = user.display_name || (user.username ? "@" + user.username : phone || "#" + user.id);
  return t("pJoinedToast").replace("{name}", name);
}

async function onPeopleEvent(ev: ServerEvent): Promise<void> {
  await loadLocal(); // no request here: frames are applied one at a time
  switch (ev.type) {
    case "contact.joined": {
      const user = ev.user as User;
      const phone = String(ev.phone ?? "");
      app.users[user.id] = user;
      people.joined = [
        { user, phone, at: Date.now() },
        ...people.joined.filter((j) => j.user.id !== user.id),
      ].slice(0, JOINED_KEPT);
      await setKv("joined", $state.snapshot(people.joined));
      toast(joinedText(user, phone));
      break;
    }
    case "user.blocked":
    case "user.unblocked":
      await markBlocked(ev.user_id as number, ev.type === "user.blocked");
      break;
    case "privacy.updated":
      if (people.privacy) Object.assign(people.privacy, ev.privacy as Partial<Privacy>);
      break;
  }
}
for (const type of ["contact.joined", "user.blocked", "user.unblocked", "privacy.updated"]) on(type, onPeopleEvent);
