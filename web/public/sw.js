// Keeps the app shell (index.html and the hashed files it names) so the app opens with no
// network. index.html names the chunks fetched later too (the screens opened later, other
// languages), so each of them opens offline after the first visit. The shell is served
// from the cache at once and refreshed in the background: a new release shows on the next
// load. API calls and the socket never touch this cache.
const CACHE = "darbuka-shell-v1";

const named = (html) => [
  ...[...html.matchAll(/(?:src|href)="(\/(?:assets\/[^"]+|manifest\.webmanifest|icon\.svg))"/g)].map((m) => m[1]),
  ...later(html),
];
// The chunks the app imports after the first draw (web/vite.config.ts lists them).
const later = (html) =>
  (/<meta name="later-chunks" content="([^"]*)"/.exec(html)?.[1] ?? "").split(" ").filter((p) => p.startsWith("/assets/"));

async function cacheShell() {
  const cache = await caches.open(CACHE);
  const res = await fetch("/", { cache: "no-cache" });
  if (!res.ok) return;
  const assets = named(await res.clone().text());
  const missing = [];
  for (const path of assets) {
    // A hashed name never changes its content: fetch it once. Others are fetched again.
    if (!path.startsWith("/assets/") || !(await cache.match(path))) missing.push(path);
  }
  await cache.addAll(missing);
  // Keep the files of the release being replaced too: a page served from the old
  // index.html may still be loading them. Older ones go.
  const previous = await cache.match("/");
  const keep = new Set([...assets, ...(previous ? named(await previous.text()) : [])]);
  await cache.put("/", res);
  for (const req of await cache.keys()) {
    const path = new URL(req.url).pathname;
    if (path.startsWith("/assets/") && !keep.has(path)) await cache.delete(req);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The app lives at "/" (its screens are #/… routes); every other page — /c/<handle>,
// /transparency, whatever the server adds — is the server's own and goes to the network.
const isShell = (path) => path === "/" || path === "/index.html";
const isShellFile = (path) =>
  path.startsWith("/assets/") || path === "/manifest.webmanifest" || path === "/icon.svg";

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== location.origin) return;
  if (req.mode === "navigate") {
    if (!isShell(url.pathname)) return;
    event.respondWith(
      caches.match("/").then((hit) => {
        const refresh = cacheShell().catch(() => undefined);
        if (hit) {
          event.waitUntil(refresh);
          return hit;
        }
        return fetch(req);
      }),
    );
    return;
  }
  if (!isShellFile(url.pathname)) return;
  event.respondWith(caches.match(req).then((hit) => hit || fetch(req)));
});

// Web Push (the server's services/push.py): a notification per chat, replaced as more
// arrives (its tag is the chat's), and closed when the chat was read on another device.
// What a push says is the server's JSON; it is shown as text, never as markup.
self.addEventListener("push", (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : null;
  } catch {
    data = null;
  }
  if (!data || !Number.isSafeInteger(data.chat_id)) return;
  event.waitUntil(showPush(data));
});

async function showPush(data) {
  const tag = `chat${data.chat_id}`;
  if (data.type === "close") {
    for (const n of await self.registration.getNotifications({ tag })) n.close();
    return;
  }
  const title = String(data.title || data.sender || "Darbuka");
  const preview = String(data.preview || "");
  const body = data.sender && data.sender !== title ? `${data.sender}: ${preview}` : preview;
  await self.registration.showNotification(title, {
    tag, body, renotify: false, icon: "/icon.svg", data: { chat_id: data.chat_id },
  });
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openChat(event.notification));
});

// Opens the notification's chat: in a window of the app that is open, else a new one.
async function openChat(notification) {
  const url = new URL(`/#/chat/${notification.data.chat_id}`, self.location.origin).href;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((w) => new URL(w.url).pathname === "/");
  if (!open) return self.clients.openWindow(url);
  const shown = await open.navigate(url);
  // Focusing needs the click's user activation; a window that is not given it still shows
  // the chat the next time it is looked at.
  await (shown || open).focus().catch(() => undefined);
}
