// Prints the gzipped size of what the first page load fetches before it can draw (the
// script, module preloads and stylesheet index.html names) and fails past the budget:
// initial JavaScript ≤ 45 KB, CSS ≤ 20 KB, both gzipped. Also printed: the chunks fetched
// later (the screens opened later, other languages), which index.html lists in
// <meta name="later-chunks"> for the service worker to keep.
// tests/test_web_bundle.py checks the same budget in `make test`.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = { js: 45 * 1024, css: 20 * 1024 };
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const kb = (n) => (n / 1024).toFixed(1);
const total = { js: 0, css: 0 };
const size = (path) => {
  const raw = readFileSync(join(dist, path));
  return [raw.length, gzipSync(raw, { level: 9 }).length];
};
for (const [, path] of html.matchAll(/<(?:script|link)\b[^>]*(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)) {
  const [raw, gz] = size(path);
  total[path.endsWith(".css") ? "css" : "js"] += gz;
  console.log(`${path}: ${kb(raw)} KB, ${kb(gz)} KB gzipped`);
}
const later = (/<meta name="later-chunks" content="([^"]*)"/.exec(html)?.[1] ?? "").split(" ").filter(Boolean);
for (const path of later) {
  const [raw, gz] = size(path.slice(1));
  console.log(`later: ${path.slice(1)}: ${kb(raw)} KB, ${kb(gz)} KB gzipped`);
}
console.log(`initial JS ${kb(total.js)} KB gzipped (budget ${BUDGET.js / 1024}), CSS ${kb(total.css)} KB gzipped (budget ${BUDGET.css / 1024})`);
if (total.js > BUDGET.js || total.css > BUDGET.css) {
  console.error("over the bundle budget");
  process.exit(1);
}
