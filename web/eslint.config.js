// ESLint for the web client (`npm run lint`, part of `make lint`): the recommended rules of
// ESLint, typescript-eslint and eslint-plugin-svelte, and no import loops (import-x/no-cycle)
// across .ts and .svelte files. Types are svelte-check's job (`npm run check`).

import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import ts from "typescript-eslint";
import svelteConfig from "./svelte.config.js";

export default defineConfig(
  { ignores: ["dist/", "node_modules/"] },
  js.configs.recommended,
  ts.configs.recommended,
  svelte.configs.recommended,
  importX.flatConfigs.recommended,
  {
    languageOptions: {
      globals: globals.browser,
      // The same for every file: import-x parses the files an import leads to with these,
      // and a .svelte file's <script lang="ts"> needs the TypeScript parser.
      parserOptions: { parser: ts.parser, extraFileExtensions: [".svelte"] },
    },
    settings: {
      // `./state.svelte` is state.svelte.ts; `./App.svelte` is a component. import-x/no-unresolved
      // (recommended) fails on any import this cannot find, so no-cycle follows every one.
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js", ".mjs", ".svelte"] })],
      "import-x/extensions": [".ts", ".js", ".mjs", ".svelte"],
      "import-x/parsers": {
        [fileURLToPath(new URL("eslint-svelte-imports.cjs", import.meta.url))]: [".svelte"],
        "@typescript-eslint/parser": [".ts"],
      },
      // Packages cannot import us back: no need to parse them.
      "import-x/ignore": ["node_modules"],
    },
    rules: {
      "import-x/no-cycle": "error",
      // svelte-check already checks every imported name against its module (and knows a
      // component's default export, which a .svelte file never spells out).
      "import-x/named": "off",
      "import-x/default": "off",
      "import-x/namespace": "off",
      // Our Maps, Sets and Dates in .svelte.ts modules are bookkeeping kept out of the
      // reactive graph on purpose (what shows is in $state); Svelte's would track every read.
      "svelte/prefer-svelte-reactivity": "off",
      // `{" · "}` keeps spaces that Svelte trims at the edges of an {#if} block.
      "svelte/no-useless-mustaches": "off",
    },
  },
  {
    files: ["**/*.svelte", "**/*.svelte.ts"],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: [".svelte"], svelteConfig } },
  },
  {
    files: ["*.js", "*.ts", "scripts/*.mjs"],
    languageOptions: { globals: globals.node },
  },
  {
    // import-x loads its parsers with require(), so this one is CommonJS.
    files: ["*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["public/sw.js"],
    languageOptions: { globals: globals.serviceworker },
  },
);
