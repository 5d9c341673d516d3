// One WebSocket to /api/v1/ws: sign in with the first frame, resume from the stored cursor,
// then live events. After `ready` the link is up (link.ts) and the outbox is sent, in the
// order written. A dropped socket reconnects with exponential backoff and full jitter; a
// silent one is noticed by pings.

import { clearAll, getKv, putMessages } from "./db";
import { replaceChats } from "./events.svelte";
import { dispatch } from "./handlers";
import { flushDrafts } from "./drafts.svelte";
import { flushOutbox, linkDown, linkUp, settled } from "./link";
import { markOutbox, removeFromOutbox } from "./outbox.svelte";
import { flushDelivered } from "./receipts";
import { app, setSession } from "./state.svelte";
import type { Chat, Message, ServerEvent } from "./types";

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 30_000;
const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 15_000;
// Errors worth retrying by themselves; any other error on a send is final (shown, retry).
// media_not_ready: the server is still processing the attachment; the same client_id is resent.
const TRANSIENT = new Set(["rate_limited", "internal", "too_many_requests", "unavailable", "media_not_ready"]);
const CLOSE_UNAUTHORIZED = 4401;

let ws: WebSocket | null = null;
let attempt = 0;
let retryTimer = 0;
let pingTimer = 0;
let pongDeadline = 0;
let started = false;
let listening = false;
// Frames are applied one after another, in the order they came.
let chain: Promise<void> = Promise.resolve();

export function backoffDelay(n: number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** n);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export function startSocket(): void {
  if (started) return;
  started = true;
  if (!listening) listen();
  connect();
}

function listen(): void {
  listening = true;
  window.addEventListener("online", () => reconnectNow());
  window.addEventListener("offline", () => {
    // Forget the socket at once: nothing more may be written into a link that is gone.
    const sock = ws;
    if (sock) drop(sock);
    sock?.close();
    clearTimeout(retryTimer);
    app.conn = "offline";
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !ws) reconnectNow();
  });
}

export function stopSocket(): void {
  started = false;
  clearTimeout(retryTimer);
  const old = ws;
  ws = null;
  linkDown();
  old?.close();
  app.conn = "offline";
}

function reconnectNow(): void {
  if (!started) return;
  clearTimeout(retryTimer);
  attempt = 0;
  if (!ws) connect();
}

async function connect(): Promise<void> {
  if (!app.session || ws) return;
  if (!navigator.onLine) {
    app.conn = "offline"; // the "online" event brings us back
    return;
  }
  app.conn = "connecting";
  const cursor = await getKv<string>("cursor");
  if (ws || !app.session) return; // another connect() won the race
  const sock = takeEarly() ?? new WebSocket(socketUrl());
  ws = sock;
  const signIn = () => {
    const auth: Record<string, unknown> = { type: "auth", token: app.session?.token };
    if (cursor) auth.cursor = cursor;
    sock.send(JSON.stringify(auth));
    ping();
  };
  if (sock.readyState === WebSocket.OPEN) signIn();
  else sock.onopen = signIn;
  sock.onmessage = (e) => {
    if (ws !== sock) return;
    pongDeadline = 0;
    const frame = JSON.parse(String(e.data)) as ServerEvent;
    chain = chain.then(() => onFrame(frame)).catch((err) => console.error("frame failed", err));
  };
  sock.onclose = (e) => {
    if (ws !== sock) return;
    drop(sock);
    if (e.code === CLOSE_UNAUTHORIZED) {
      void signOutHere();
      return;
    }
    app.conn = navigator.onLine ? "connecting" : "offline";
    if (!started) return;
    retryTimer = window.setTimeout(() => connect(), backoffDelay(attempt++));
  };
}

function socketUrl(): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws`;
}

// A socket opened while the sign-in request is on its way: on a 2,000 ms link that saves a
// round trip before the chat list. The server waits 10 s for the first frame.
let early: { sock: WebSocket; at: number } | null = null;
const EARLY_FOR_MS = 8000;

export function preconnect(): void {
  if (early || ws || !navigator.onLine) return;
  early = { sock: new WebSocket(socketUrl()), at: Date.now() };
}

function takeEarly(): WebSocket | null {
  const e = early;
  early = null;
  if (!e) return null;
  if (e.sock.readyState <= WebSocket.OPEN && Date.now() - e.at < EARLY_FOR_MS) return e.sock;
  e.sock.close();
  return null;
}

function drop(sock: WebSocket): void {
  if (ws !== sock) return;
  ws = null;
  linkDown();
  clearTimeout(pingTimer);
}

function ping(): void {
  clearTimeout(pingTimer);
  pingTimer = window.setTimeout(() => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (pongDeadline && Date.now() > pongDeadline) {
      ws.close(); // silent link: start over
      return;
    }
    ws.send('{"type":"ping"}');
    pongDeadline = Date.now() + PONG_WITHIN_MS;
    ping();
  }, PING_EVERY_MS);
}

async function onFrame(frame: ServerEvent): Promise<void> {
  switch (frame.type) {
    case "ready":
      if (ws) linkUp(ws);
      attempt = 0;
      app.conn = "online";
      if (frame.cursor) await dispatch({ type: "cursor", cursor: frame.cursor });
      flushOutbox();
      flushDelivered();
      void flushDrafts();
      return;
    case "reset":
      await replaceChats(frame.chats as Chat[]);
      await dispatch({ type: "cursor", cursor: frame.cursor });
      return;
    case "ack":
      await onAck(frame);
      return;
    case "error":
      await onError(frame);
      return;
    case "typing":
      onTyping(frame.chat_id as number, frame.user_id as number);
      return;
    case "pong":
      return;
    default:
      await dispatch(frame);
  }
}

async function onAck(frame: ServerEvent): Promise<void> {
  const id = String(frame.id);
  settled(id);
  const message = frame.message as Message | undefined;
  if (message) {
    await removeFromOutbox(id);
    // A fresh ack stands for the message.new event: apply it (with its cursor).
    if (frame.repeat) await putMessages([message]);
    await dispatch({ type: "message.new", message, cursor: frame.cursor as string | undefined });
  }
}

async function onError(frame: ServerEvent): Promise<void> {
  const error = frame.error as { code: string; message: string };
  const id = frame.id === undefined ? "" : String(frame.id);
  if (!id || !app.outbox.some((o) => o.client_id === id)) {
    console.warn("server error", error);
    return;
  }
  settled(id);
  if (TRANSIENT.has(error.code)) {
    window.setTimeout(flushOutbox, backoffDelay(2));
  } else {
    await markOutbox(id, "failed", error.message);
  }
}

const typingTimers = new Map<string, number>();
function onTyping(chatId: number, userId: number): void {
  const until = Date.now() + 6000; // typing notices live for 6 s
  (app.typing[chatId] ??= {})[userId] = until;
  const key = `${chatId}:${userId}`;
  clearTimeout(typingTimers.get(key));
  typingTimers.set(
    key,
    window.setTimeout(() => {
      if (app.typing[chatId]?.[userId] === until) delete app.typing[chatId][userId];
    }, 6000),
  );
}

export async function signOutHere(): Promise<void> {
  stopSocket();
  await clearAll();
  setSession(null);
  app.chats = [];
  app.outbox = [];
  app.openChatId = null;
}
