import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The server serves dist/ at / (src/darbuka/api/web.py). Hashed files go to assets/ and
// are cached for a year; index.html, sw.js and the manifest are revalidated.
export default defineConfig({
  plugins: [svelte()],
  build: {
    target: "es2022",
    // No inline scripts or styles: the page's CSP allows only files from this origin.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    manifest: true,
  },
  server: { proxy: { "/api": { target: "http://127.0.0.1:8080", ws: true } } },
});
