// Writes name.br and name.gz beside each text file of the build; the server sends the one
// the browser accepts (src/darbuka/api/web.py), so nothing is compressed per request.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const TEXT = /\.(js|css|html|svg|webmanifest|json)$/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (TEXT.test(name) && !path.includes("/.vite/")) {
      const raw = readFileSync(path);
      writeFileSync(path + ".gz", gzipSync(raw, { level: 9 }));
      writeFileSync(path + ".br", brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    }
  }
}
walk(dist);
