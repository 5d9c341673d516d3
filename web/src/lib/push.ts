// Web Push on this device: the browser's subscription and the server's copy of it
// (src/darbuka/api/push.py). Imported by the profile panel only, so it loads with the
// screens opened later, never with the first one.

import { call } from "./api";

export type PushState = "unsupported" | "denied" | "off" | "on";

interface Stored {
  endpoint: string;
  previews: boolean;
}

export function pushSupported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

async function browserSubscription(): Promise<PushSubscription | null> {
  return (await navigator.serviceWorker.ready).pushManager.getSubscription();
}

/** Whether this device gets pushes now, and whether they show message text. */
export async function pushState(): Promise<{ state: PushState; previews: boolean }> {
  if (!pushSupported()) return { state: "unsupported", previews: true };
  if (Notification.permission === "denied") return { state: "denied", previews: true };
  const sub = await browserSubscription();
  if (!sub) return { state: "off", previews: true };
  const { subscriptions } = await call<{ subscriptions: Stored[] }>("GET", "/push/subscriptions");
  const mine = subscriptions.find((s) => s.endpoint === sub.endpoint);
  return mine ? { state: "on", previews: mine.previews } : { state: "off", previews: true };
}

function keyBytes(b64url: string): Uint8Array<ArrayBuffer> {
  const raw = atob(b64url.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** Asks the browser for permission (call only from a press of a button) and subscribes;
 * false when the person said no. */
export async function turnPushOn(previews: boolean): Promise<boolean> {
  if ((await Notification.requestPermission()) !== "granted") return false;
  const { public_key } = await call<{ public_key: string }>("GET", "/push/key");
  const manager = (await navigator.serviceWorker.ready).pushManager;
  const sub = (await manager.getSubscription()) ??
    (await manager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) }));
  await call("POST", "/push/subscriptions", { ...sub.toJSON(), previews });
  return true;
}

/** Previews on or off for this device's subscription (sent again with the new choice). */
export async function setPushPreviews(previews: boolean): Promise<void> {
  const sub = await browserSubscription();
  if (sub) await call("POST", "/push/subscriptions", { ...sub.toJSON(), previews });
}

export async function turnPushOff(): Promise<void> {
  const sub = await browserSubscription();
  if (!sub) return;
  await call("DELETE", "/push/subscriptions", { endpoint: sub.endpoint }).catch(() => undefined);
  await sub.unsubscribe();
}
