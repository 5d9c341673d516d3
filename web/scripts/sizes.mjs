// Prints the gzipped size of what the first page load fetches before it can draw (the
// script, module preloads and stylesheet index.html names) and fails past the budget:
// initial JavaScript ≤ 45 KB, CSS ≤ 20 KB, both gzipped. Also printed: the chunks fetched
// later (prefetch links: lazy screens and languages, kept by the service worker for offline).
// tests/test_web_bundle.py checks the same budget in `make test`.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = { js: 45 * 1024, css: 20 * 1024 };
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const kb = (n) => (n / 1024).toFixed(1);
const total = { js: 0, css: 0 };
let later = 0;
for (const [tag] of html.matchAll(/<(?:script|link)\b[^>]*>/g)) {
  const path = /(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/.exec(tag)?.[1];
  if (!path) continue;
  const raw = readFileSync(join(dist, path));
  const gz = gzipSync(raw, { level: 9 }).length;
  if (/rel="prefetch"/.test(tag)) {
    later += gz;
    continue;
  }
  total[path.endsWith(".css") ? "css" : "js"] += gz;
  console.log(`${path}: ${kb(raw.length)} KB, ${kb(gz)} KB gzipped`);
}
console.log(`later chunks (prefetched): ${kb(later)} KB gzipped`);
console.log(`initial JS ${kb(total.js)} KB gzipped (budget ${BUDGET.js / 1024}), CSS ${kb(total.css)} KB gzipped (budget ${BUDGET.css / 1024})`);
if (total.js > BUDGET.js || total.css > BUDGET.css) {
  console.error("over the bundle budget");
  process.exit(1);
}
