// Every test vector (tests/vectors/*.json) through the built package in pkg/ — the
// optimized module users get — compared with the vector's expectations.
//
//   node tests/node/vectors.mjs
import { readdirSync, readFileSync } from 'node:fs';
import init, { evaluate } from '../../pkg/aadauth_wasm.js';

await init({ module_or_path: readFileSync(new URL('../../pkg/aadauth_wasm_bg.wasm', import.meta.url)) });

const dir = new URL('../vectors/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
if (files.length === 0) {
  console.error('no test vectors in tests/vectors/');
  process.exit(1);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Every member of `want` equals the one in `got` (objects member-wise, recursively).
function subset(want, got, path, errors) {
  if (want && typeof want === 'object' && !Array.isArray(want) && got && typeof got === 'object' && !Array.isArray(got)) {
    for (const [k, w] of Object.entries(want)) {
      if (!(k in got)) errors.push(`${path}.${k}: missing`);
      else subset(w, got[k], `${path}.${k}`, errors);
    }
  } else if (!same(want, got)) {
    errors.push(`${path}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
}

function check(doc, got) {
  const errors = [];
  const e = doc.expect;
  for (const k of ['allowed', 'status']) if (e[k] !== got[k]) errors.push(`${k}: want ${e[k]}, got ${got[k]}`);
  if ('error' in e && e.error !== got.error) errors.push(`error: want ${JSON.stringify(e.error)}, got ${JSON.stringify(got.error)}`);
  if ('error_prefix' in e && !(typeof got.error === 'string' && got.error.startsWith(e.error_prefix))) {
    errors.push(`error: want prefix ${JSON.stringify(e.error_prefix)}, got ${JSON.stringify(got.error)}`);
  }
  const byId = new Map(got.checks.map((c) => [c.id, c]));
  for (const [id, outcome] of Object.entries(e.checks ?? {})) {
    const c = byId.get(id);
    if (!c) errors.push(`check ${id}: missing`);
    else if (c.outcome !== outcome) errors.push(`check ${id}: want ${outcome}, got ${c.outcome} (${c.detail})`);
  }
  for (const [id, needle] of Object.entries(e.hint_contains ?? {})) {
    const hint = byId.get(id)?.hint ?? '';
    if (!hint.includes(needle)) errors.push(`hint of ${id}: want ${JSON.stringify(needle)} in ${JSON.stringify(hint)}`);
  }
  if ('auth' in e) subset(e.auth, got.auth, 'auth', errors);
  if ('arm_requests' in e && !same(e.arm_requests, got.arm_requests)) {
    errors.push(`arm_requests: want ${JSON.stringify(e.arm_requests)}, got ${JSON.stringify(got.arm_requests)}`);
  }
  if ('decode_only' in e && e.decode_only !== (got.decode_only ?? false)) errors.push(`decode_only: want ${e.decode_only}`);
  if (got.allowed !== (got.auth !== null) || got.allowed !== (got.error === null)) errors.push('allowed, auth and error disagree');
  const fails = got.checks.filter((c) => c.outcome === 'fail').length;
  if (fails !== (got.allowed ? 0 : 1)) errors.push(`${fails} failing checks for allowed=${got.allowed}`);
  return errors;
}

let passed = 0;
const failures = [];
for (const f of files) {
  const doc = JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
  let errors;
  try {
    const got = evaluate(doc.input);
    errors = check(doc, got);
    if (!errors.length && JSON.stringify(evaluate(JSON.stringify(doc.input))) !== JSON.stringify(got)) {
      errors.push('evaluate(JSON text) differs from evaluate(object)');
    }
  } catch (err) {
    errors = [`threw ${err.name} (${err.code}, ${err.field}): ${err.message}`];
  }
  if (errors.length) failures.push(`${f}:\n  ${errors.join('\n  ')}`);
  else passed++;
}
if (failures.length) console.error(failures.join('\n'));
console.log(`pkg vectors: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
