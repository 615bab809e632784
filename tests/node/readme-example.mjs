// The README's Node example, run as a user would run it, with the verdict asserted.
//
// The lines between the README markers are the example; they are written (with paths
// from the repository root instead of from this folder) to README-snippet.md, and that
// text is run too, from a scratch folder laid out like the repository root.
//
//   node tests/node/readme-example.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';

// README:begin
import { readFileSync } from 'node:fs';
import init, { evaluate, version } from '../../pkg/aadauth_wasm.js';

// In Node, hand over the module's bytes; in a browser, `await init()` fetches
// aadauth_wasm_bg.wasm from next to aadauth_wasm.js.
await init({ module_or_path: readFileSync(new URL('../../pkg/aadauth_wasm_bg.wasm', import.meta.url)) });

const { cases } = JSON.parse(readFileSync(new URL('../../demo/demo.json', import.meta.url), 'utf8'));
const out = evaluate(cases[0].input); // a plain object in, a plain object out

console.log(`aadauth ${version()}: ${cases[0].title}`);
console.log(out.allowed, out.status, out.error); // true 200 null
for (const check of out.checks) {
  console.log(check.outcome.padEnd(11), check.id, check.hint ?? '');
}
// README:end

// The verdict of the first demo case.
assert.equal(out.allowed, true, `first demo case refused: ${out.error}`);
assert.equal(out.status, 200);
assert.equal(out.error, null);
assert.ok(out.auth && Array.isArray(out.auth.policies), 'auth block with policies');
assert.ok(out.checks.length > 0 && out.checks.every((c) => c.outcome !== 'fail'));
assert.equal(Object.getPrototypeOf(out), Object.prototype, 'a plain object');

// Every demo case says in its title whether Vault allows it.
for (const c of cases) {
  const o = evaluate(c.input);
  const want = /^Allowed\b/i.test(c.title) ? true : /^Refused\b/i.test(c.title) ? false : null;
  if (want !== null) assert.equal(o.allowed, want, `${c.name}: ${c.title}: got ${o.error}`);
}

// The snippet, as pasted into the README, and run from a folder laid out like the root.
const self = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8');
const body = self.split('// README:begin\n')[1].split('// README:end\n')[0];
const snippet = body.replaceAll("'../../", "'./");
assert.ok(!snippet.includes('../'), 'the README snippet uses paths from the repository root');
const here = new URL('.', import.meta.url);
fs.writeFileSync(
  new URL('README-snippet.md', here),
  'Node (ES module, run from the repository root after `scripts/build-wasm.sh`):\n\n```js\n' +
    snippet +
    '```\n',
);
const root = fileURLToPath(new URL('../../', here));
const scratch = `${root}target/readme-example`;
fs.rmSync(scratch, { recursive: true, force: true });
fs.mkdirSync(scratch, { recursive: true });
fs.symlinkSync(`${root}pkg`, `${scratch}/pkg`);
fs.symlinkSync(`${root}demo`, `${scratch}/demo`);
fs.writeFileSync(`${scratch}/example.mjs`, snippet);
const printed = execFileSync(process.execPath, ['example.mjs'], { cwd: scratch, encoding: 'utf8' });
assert.match(printed.split('\n')[1], /^true 200 null$/, printed);

console.log(`\nreadme example: ok (${cases.length} demo cases; README-snippet.md written)`);
