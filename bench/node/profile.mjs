// Where the wasm Verifier.evaluate row's time goes: V8's sampling CPU profiler over many
// evaluations of the benchmark token, the samples attributed to the phases of an
// evaluation by the wasm functions on their stacks.
//
//   scripts/profile-wasm.sh            (builds a module that keeps its function names)
//   node bench/node/profile.mjs DIR [--iterations N] [--top N] [--under RE] [--not-under RE]
//
// DIR holds aadauth_wasm.js and aadauth_wasm_bg.wasm. pkg/ itself has no function names
// (wasm-opt drops them), so its samples cannot be attributed: the script says so.
//
// A phase's share is the fraction of samples with one of its functions on the stack
// (inclusive). Shares are of the whole run, the JS glue and the timing loop included.
// --under / --not-under (regular expressions on function names) restrict the list of top
// functions to samples with (without) such a function on the stack: for example
// `--under 'Run::login$' --not-under 'verify_rs256$'` lists the checks without the signature.
import { Session } from 'node:inspector/promises';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const dir = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
if (!dir) {
  console.error('usage: node bench/node/profile.mjs DIR [--iterations N] [--top N]');
  process.exit(2);
}
const iterations = Number(opt('--iterations', 20000));
const top = Number(opt('--top', 15));
let under = null;
let notUnder = null;
try {
  under = opt('--under') === undefined ? null : new RegExp(opt('--under'));
  notUnder = opt('--not-under') === undefined ? null : new RegExp(opt('--not-under'));
} catch (e) {
  console.error(`profile: --under and --not-under take regular expressions: ${e.message}`);
  process.exit(2);
}
if (!(Number.isInteger(iterations) && iterations > 0 && Number.isInteger(top) && top >= 0)) {
  console.error('profile: --iterations takes a positive whole number, --top a whole number');
  process.exit(2);
}
for (const file of ['aadauth_wasm.js', 'aadauth_wasm_bg.wasm']) {
  if (!existsSync(resolve(dir, file))) {
    console.error(`profile: ${resolve(dir, file)} does not exist (scripts/profile-wasm.sh builds the package)`);
    process.exit(2);
  }
}

const pkg = await import(pathToFileURL(resolve(dir, 'aadauth_wasm.js')).href);
await pkg.default({ module_or_path: readFileSync(resolve(dir, 'aadauth_wasm_bg.wasm')) });
const vectorPath = fileURLToPath(new URL('../../tests/vectors/allowed_vm_system_assigned.json', import.meta.url));
const doc = JSON.parse(readFileSync(vectorPath, 'utf8'));
const input = doc.input ?? doc;
const { keys, ...rest } = input;
const text = JSON.stringify(rest);
const verifier = new pkg.Verifier(keys);
if (!verifier.evaluate(text).allowed) throw new Error('Verifier.evaluate refused the token');
for (let i = 0; i < 2000; i++) verifier.evaluate(text);

const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 50 });
await session.post('Profiler.start');
const t0 = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) verifier.evaluate(text);
const elapsedUs = Number(process.hrtime.bigint() - t0) / 1000 / iterations;
const { profile } = await session.post('Profiler.stop');
session.disconnect();

// The phases, by the (demangled, hash-less) names of the functions that run them.
const PHASES = [
  ['signature (RS256: SHA-256 + modular exponentiation)', /RsaVerifier::verify_rs256$/],
  ['JSON.parse of the output (JS)', /^parseJson$/],
  ['writing the output JSON', /aadauth_wasm::to_json/],
  ['reading the input', /aadauth::contract::read_input$/],
  ['dropping the output', /drop_in_place<aadauth::decision::Output>/],
  ['the checks, without the signature', /aadauth::flow::Run::login$/],
];
const name = (n) => n.callFrame.functionName.replace(/::h[0-9a-f]{16}$/, '');
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const hits = new Map();
for (const s of profile.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
let total = 0;
const inclusive = new Map();
const self = new Map();
for (const [id, count] of hits) {
  total += count;
  const seen = new Set();
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const k = name(byId.get(x));
    if (!seen.has(k)) {
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + count);
    }
  }
  const stack = [...seen];
  if ((!under || stack.some((k) => under.test(k))) && !(notUnder && stack.some((k) => notUnder.test(k)))) {
    self.set(name(byId.get(id)), (self.get(name(byId.get(id))) ?? 0) + count);
  }
}
const share = (re) => {
  let n = 0;
  for (const [k, c] of inclusive) if (re.test(k)) n = Math.max(n, c);
  return n / total;
};
if (![...inclusive.keys()].some((k) => k.startsWith('aadauth::'))) {
  console.error(`${dir}: the module has no function names (pkg/ is built without them); run scripts/profile-wasm.sh`);
  process.exit(1);
}
const pct = (x) => `${(100 * x).toFixed(1).padStart(5)}%`;
console.log(`Verifier.evaluate: ${iterations} evaluations, ${elapsedUs.toFixed(1)} µs each while profiled; ${total} samples`);
const shares = Object.fromEntries(PHASES.map(([label, re]) => [label, share(re)]));
const signature = shares[PHASES[0][0]];
shares[PHASES[5][0]] = Math.max(0, shares[PHASES[5][0]] - signature);
for (const [label, x] of Object.entries(shares)) console.log(`${pct(x)}  ${label}`);
const where = [under && `under /${under.source}/`, notUnder && `not under /${notUnder.source}/`].filter(Boolean);
console.log(`\nTop ${top} functions by self time${where.length ? ` (samples ${where.join(', ')})` : ''}:`);
for (const [k, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${pct(c / total)}  ${k.slice(0, 120)}`);
}
