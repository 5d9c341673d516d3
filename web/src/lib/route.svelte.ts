// Links into the app: `#/c/<handle>` opens a public chat's preview (the server's /c/ page
// links here), `#/join/<token>` an invite link, `#/chat/<id>` one of your chats (a
// notification that was clicked: public/sw.js). Read once signed in, then on every change.

import { app } from "./state.svelte";

export const route = $state({ handle: "", token: "" });

export function followHash(): void {
  const m = /^#\/(c|join|chat)\/([A-Za-z0-9_-]{1,64})$/.exec(location.hash);
  if (!m || !app.session) return;
  if (m[1] === "chat") {
    if (/^[1-9][0-9]{0,15}$/.test(m[2])) {
      app.openChatId = Number(m[2]);
      app.panel = null;
    }
  } else if (m[1] === "c") {
    route.handle = m[2];
    app.panel = "public";
  } else {
    route.token = m[2];
    app.panel = "invite";
  }
  // The link has done its work: Back and reload go to the app, not to the link again.
  history.replaceState(null, "", location.pathname + location.search);
}
