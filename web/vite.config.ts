import { defineConfig, type Plugin, type Rolldown } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Screens only staff open, and what only they import: ordinary users never fetch them.
const STAFF_ONLY = /\/src\/(ui\/Moderation[^/]*\.svelte|lib\/moderation\.ts)$/;
// Languages other than English: each a chunk, fetched when it is the one shown.
const LANGUAGE = /\/src\/lib\/locales\/(?!en\.ts$)[^/]+\.ts$/;

// The server serves dist/ at / (src/darbuka/api/web.py). Hashed files go to assets/ and
// are cached for a year; index.html, sw.js and the manifest are revalidated.
export default defineConfig({
  plugins: [svelte(), listLaterChunks()],
  build: {
    target: "es2022",
    // No inline scripts or styles: the page's CSP allows only files from this origin.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    manifest: true,
    // What the first screen imports is one chunk, "app"; the screens opened later (the
    // conversation, the panels, the viewer…) are one more, "later". Left alone, the bundler
    // splits them by which screens share each module, into small chunks that each cost a
    // request and compress apart, and the service worker fetches them all on the first
    // visit anyway. Other languages and the staff screens keep chunks of their own.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [
            { name: "app", tags: ["$initial"], priority: 2 },
            { name: "later", test: (id: string) => !STAFF_ONLY.test(id) && !LANGUAGE.test(id), priority: 1 },
          ],
        },
      },
    },
  },
  server: { proxy: { "/api": { target: "http://127.0.0.1:8080", ws: true } } },
});

// index.html lists the chunks an ordinary user's app may import after the first draw, in
// <meta name="later-chunks">: the service worker keeps them with the files index.html loads
// (public/sw.js), so every screen and language opens offline after the first visit. The
// page itself fetches none of them before it needs them: on a slow link they would compete
// with the first screen.
function listLaterChunks(): Plugin {
  return {
    name: "darbuka-later-chunks",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(_html, { bundle, chunk }) {
        if (!bundle || !chunk) return;
        const files = laterChunks(bundle, chunk).map((file) => `/${file}`);
        return [{ tag: "meta", attrs: { name: "later-chunks", content: files.join(" ") }, injectTo: "head" }];
      },
    },
  };
}

// Every chunk reachable from the entry, by static or dynamic import, but the entry and what
// it imports at once (index.html loads those), and the staff screens with what only they import.
function laterChunks(bundle: Rolldown.OutputBundle, entry: Rolldown.OutputChunk): string[] {
  const chunks = new Map<string, Rolldown.OutputChunk>();
  for (const out of Object.values(bundle)) if (out.type === "chunk") chunks.set(out.fileName, out);
  const staff = (c: Rolldown.OutputChunk) => c.facadeModuleId !== null && STAFF_ONLY.test(c.facadeModuleId);
  const found = new Set<string>();
  const walk = (c: Rolldown.OutputChunk) => {
    for (const file of [...c.imports, ...c.dynamicImports]) {
      const next = chunks.get(file);
      if (!next || found.has(file) || staff(next)) continue;
      found.add(file);
      walk(next);
    }
  };
  walk(entry);
  const first = new Set([entry.fileName, ...entry.imports]);
  return [...found].filter((file) => !first.has(file)).sort();
}
