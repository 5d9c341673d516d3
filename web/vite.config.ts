import { defineConfig, type Plugin, type Rolldown } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// The server serves dist/ at / (src/darbuka/api/web.py). Hashed files go to assets/ and
// are cached for a year; index.html, sw.js and the manifest are revalidated.
export default defineConfig({
  plugins: [svelte(), prefetchLaterChunks()],
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

// Screens only staff open: ordinary users never fetch their chunks.
const STAFF_ONLY = ["/src/ui/Moderation.svelte"];

// index.html names every chunk the app may import later (a lazy screen, a language) as a
// prefetch link. The service worker keeps every file index.html names (public/sw.js), so
// after the first visit each screen and language opens offline too; the first draw waits
// for none of them.
function prefetchLaterChunks(): Plugin {
  return {
    name: "darbuka-prefetch-later-chunks",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(_html, { bundle, chunk }) {
        if (!bundle || !chunk) return;
        return laterChunks(bundle, chunk).map((file) => ({
          tag: "link",
          attrs: { rel: "prefetch", href: `/${file}`, crossorigin: "" },
          injectTo: "head",
        }));
      },
    },
  };
}

// Every chunk reachable from the entry, by static or dynamic import, but the entry and what it
// imports at once (index.html names those already), and staff-only screens with what only
// they import.
function laterChunks(bundle: Rolldown.OutputBundle, entry: Rolldown.OutputChunk): string[] {
  const chunks = new Map<string, Rolldown.OutputChunk>();
  for (const out of Object.values(bundle)) if (out.type === "chunk") chunks.set(out.fileName, out);
  const staff = (c: Rolldown.OutputChunk) => STAFF_ONLY.some((path) => c.facadeModuleId?.endsWith(path));
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
