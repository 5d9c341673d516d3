// Prints the gzipped size of what the first page load fetches (the files index.html names)
// and fails past the budget: initial JavaScript ≤ 100 KB, CSS ≤ 20 KB, both gzipped.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = { js: 100 * 1024, css: 20 * 1024 };
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(js|css))"/g)];
const total = { js: 0, css: 0 };
for (const [, path, kind] of files) {
  const raw = readFileSync(join(dist, path));
  const gz = gzipSync(raw, { level: 9 }).length;
  total[kind] += gz;
  console.log(`${path}: ${(raw.length / 1024).toFixed(1)} KB, ${(gz / 1024).toFixed(1)} KB gzipped`);
}
console.log(`initial JS ${(total.js / 1024).toFixed(1)} KB gzipped (budget 100), CSS ${(total.css / 1024).toFixed(1)} KB gzipped (budget 20)`);
if (total.js > BUDGET.js || total.css > BUDGET.css) {
  console.error("over the bundle budget");
  process.exit(1);
}
