import { mount } from "svelte";
// The features that follow server events register their handlers as they load
// (lib/handlers.ts), all before the socket starts. Handlers of one type run in this order:
// reactions before the chat model, so a message that comes live is known to have no
// reactions before its row shows (which would otherwise fetch them).
import "./lib/reactions.svelte";
import "./lib/polls.svelte";
import "./lib/events.svelte";
import "./lib/mentioned.svelte";
import "./lib/mutes.svelte";
import "./lib/drafts.svelte";
import "./lib/people.svelte";
import "./lib/safety.svelte";
import App from "./App.svelte";
import "./app.css";
import { applyTheme } from "./lib/theme";
import { boot } from "./lib/boot";

applyTheme();
void boot();
mount(App, { target: document.getElementById("app")! });

// The service worker keeps the app shell so the app opens with no network (public/sw.js).
navigator.serviceWorker?.register("/sw.js").catch((err) => console.warn("no service worker", err));
