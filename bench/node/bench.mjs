// aadauth's `evaluate` (the wasm package in pkg/) next to jose's `jwtVerify` with a local
// key set, on the same token, key and time, in one process. `evaluate` does Vault's whole
// login decision (parse the input, verify the RS256 signature in wasm, every claim and
// binding check, ARM lookups in the snapshot, the auth block, JSON out); jose verifies the
// signature (WebCrypto, native) and the standard claims.
//
//   cd bench/node && npm install && node bench.mjs [--iterations N] [--json FILE]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';
import init, { evaluate, version } from '../../pkg/aadauth_wasm.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const iterations = Number(opt('--iterations', 3000));
const warmup = Math.max(100, Math.floor(iterations / 10));

await init({ module_or_path: readFileSync(new URL('../../pkg/aadauth_wasm_bg.wasm', import.meta.url)) });

// A typical VM login: the first vector whose name starts with allowed_vm.
const dir = new URL('../../tests/vectors/', import.meta.url);
const file = readdirSync(dir).filter((f) => f.startsWith('allowed_vm') && f.endsWith('.json')).sort()[0];
if (!file) throw new Error('no tests/vectors/allowed_vm*.json vector');
const vector = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
const input = vector.input;
const token = input.login.jwt;
const jwks = typeof input.keys === 'string' ? JSON.parse(input.keys) : input.keys;
const currentDate = new Date(input.now * 1000);
const joseOptions = {
  currentDate,
  algorithms: ['RS256'],
  issuer: `https://sts.windows.net/${input.config.tenant_id}/`,
  audience: input.config.resource,
};
const keySet = createLocalJWKSet(jwks);
const inputText = JSON.stringify(input);

// Both must accept the token before their times mean anything.
const first = evaluate(input);
if (!first.allowed) throw new Error(`evaluate refused ${file}: ${first.error}`);
const { payload } = await jwtVerify(token, keySet, joseOptions);
if (payload.oid !== first.claims.oid) throw new Error('jose and aadauth disagree on the claims');

function stats(samples) {
  const s = Float64Array.from(samples).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, median_us: at(0.5), p99_us: at(0.99), mean_us: mean, min_us: s[0] };
}

async function measure(fn) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = new Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return stats(samples);
}

const results = {
  vector: file,
  node: process.version,
  aadauth: version(),
  jose: JSON.parse(readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8')).version,
  iterations,
  cases: {},
};
// Sync calls are measured the same way (an await on a non-promise costs well under 1 µs).
results.cases['aadauth evaluate(object)'] = await measure(() => evaluate(input));
results.cases['aadauth evaluate(JSON text)'] = await measure(() => evaluate(inputText));
results.cases['jose jwtVerify (local JWKS)'] = await measure(() => jwtVerify(token, keySet, joseOptions));

console.log(`${file}: ${iterations} iterations after ${warmup} warm-up, Node ${process.version}, jose ${results.jose}`);
console.log('case                              median µs      p99 µs     mean µs');
for (const [name, r] of Object.entries(results.cases)) {
  console.log(`${name.padEnd(32)} ${r.median_us.toFixed(1).padStart(10)} ${r.p99_us.toFixed(1).padStart(11)} ${r.mean_us.toFixed(1).padStart(11)}`);
}
const out = opt('--json');
if (out) writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
