import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { applyLocale } from "./lib/i18n.svelte";
import { applyTheme } from "./lib/theme";
import { boot } from "./lib/boot";

applyLocale();
applyTheme();
void boot();
mount(App, { target: document.getElementById("app")! });

// The service worker keeps the app shell so the app opens with no network (public/sw.js).
navigator.serviceWorker?.register("/sw.js").catch((err) => console.warn("no service worker", err));
