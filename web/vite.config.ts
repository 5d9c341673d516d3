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
    // What the first screen imports is one chunk: left alone, the bundler splits it by which
    // lazy screens share each module, into small chunks that each cost a request and
    // compress apart. The lazy screens keep chunks of their own.
    rolldownOptions: { output: { codeSplitting: { groups: [{ name: "app", tags: ["$initial"] }] } } },
  },
  server: { proxy: { "/api": { target: "http://127.0.0.1:8080", ws: true } } },
});
