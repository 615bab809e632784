// Fails unless every import of the built module (pkg/aadauth_wasm_bg.wasm) is wasm-bindgen
// glue, and none of them reaches a clock, a random source, the network or the DOM.
//
//   node tests/node/check-imports.mjs [path/to/aadauth_wasm_bg.wasm]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const path = process.argv[2] ?? fileURLToPath(new URL('../../pkg/aadauth_wasm_bg.wasm', import.meta.url));
const module = new WebAssembly.Module(readFileSync(path));
const imports = WebAssembly.Module.imports(module);

// wasm-bindgen names the glue of `--target web` `wbg`; other targets use the JS file.
const GLUE_MODULES = new Set(['wbg', './aadauth_wasm_bg.js']);
// Whole words (split at `_` and camelCase) that must not appear: `now` would otherwise
// match `unknown`, `date` would match `update`.
const FORBIDDEN_WORDS = new Set(['date', 'now', 'random', 'crypto', 'fetch', 'performance', 'window', 'document']);
// Substrings that must not appear anywhere in a name, case-insensitively.
const FORBIDDEN_SUBSTRINGS = ['xmlhttprequest', 'getrandomvalues', 'crypto', 'fetch', 'performance',
  'window', 'document', 'random', 'websocket', 'settimeout', 'setinterval', 'navigator', 'location', 'localstorage'];

const words = (name) => name
  .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
  .split(/[_$]+/)
  .filter(Boolean)
  .map((w) => w.toLowerCase());

const problems = [];
for (const imp of imports) {
  const label = `${imp.module}.${imp.name} (${imp.kind})`;
  if (!GLUE_MODULES.has(imp.module)) problems.push(`${label}: not from the wasm-bindgen glue module`);
  if (!/^__wbindgen_|^__wbg_/.test(imp.name)) problems.push(`${label}: not a wasm-bindgen glue import`);
  const bad = words(imp.name).filter((w) => FORBIDDEN_WORDS.has(w));
  const lower = imp.name.toLowerCase();
  bad.push(...FORBIDDEN_SUBSTRINGS.filter((s) => lower.includes(s)));
  if (bad.length) problems.push(`${label}: mentions ${[...new Set(bad)].join(', ')}`);
}

// What each import does: its body in the generated glue, and the inline JS snippets it
// calls, must not name a clock, random source, network or DOM global either.
const FORBIDDEN_GLOBALS = /\b(Date|performance|crypto|Math\.random|fetch|XMLHttpRequest|WebSocket|window|document|navigator|location|localStorage|globalThis|self|setTimeout|setInterval|process|require)\b|\bimport\s*\(/;
const pkgDir = new URL('.', `file://${path}`);
let glue = null;
try {
  glue = readFileSync(new URL('aadauth_wasm.js', pkgDir), 'utf8');
} catch {
  problems.push('aadauth_wasm.js not found next to the module: cannot inspect the glue');
}
if (glue !== null) {
  const lines = glue.split('\n');
  for (const imp of imports) {
    const start = lines.findIndex((l) => l.trimStart().startsWith(`${imp.name}: function`));
    if (start < 0) {
      problems.push(`${imp.name}: no implementation found in aadauth_wasm.js`);
      continue;
    }
    const indent = lines[start].length - lines[start].trimStart().length;
    let end = start + 1;
    while (end < lines.length && !(lines[end].length - lines[end].trimStart().length <= indent && lines[end].trim() !== '')) end++;
    const body = lines.slice(start, end).join('\n');
    const m = body.match(FORBIDDEN_GLOBALS);
    if (m) problems.push(`${imp.name}: its glue uses ${m[0]}`);
  }
  for (const [, snippet] of glue.matchAll(/from '(\.\/snippets\/[^']+)'/g)) {
    const text = readFileSync(new URL(snippet, pkgDir), 'utf8');
    const m = text.match(FORBIDDEN_GLOBALS);
    if (m) problems.push(`${snippet}: uses ${m[0]}`);
  }
}

console.log(`${path}: ${imports.length} imports`);
for (const imp of imports) console.log(`  ${imp.module}.${imp.name} (${imp.kind})`);
if (problems.length) {
  console.error(`\nforbidden imports:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('ok: only wasm-bindgen glue, no clock / random / network / DOM imports');
