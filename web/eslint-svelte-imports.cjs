// svelte-eslint-parser as import-x needs it: the same parse, with the statements of the
// <script> blocks at the top of the program, where import-x looks for a module's imports.
// Without it import-x takes a .svelte file for a script with no imports, and a loop that
// runs through two components is never seen (un-ts/eslint-plugin-import-x#480).
const svelte = require("svelte-eslint-parser");

module.exports = {
  meta: { name: "svelte-imports-parser" },
  parseForESLint(code, options) {
    const result = svelte.parseForESLint(code, options);
    const body = result.ast.body.flatMap((node) => (node.type === "SvelteScriptElement" ? node.body : []));
    return { ...result, ast: { ...result.ast, body } };
  },
};
