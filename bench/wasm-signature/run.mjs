// Times the RSA public operation of one or more builds of bench/wasm-signature in turns,
// in one Node process, next to crypto.verify of the same signature; every build's result
// must equal BigInt's modpow first. Usage: node run.mjs LABEL=DIR... [--rounds N]
// (scripts/ab-signature-wasm.sh builds the DIRs).
//
// With --count K (one build): checks the result, runs WARMUP operations and then K more,
// and times nothing: the instruction counter's workload (scripts/ab-signature-wasm.sh
// --callgrind runs it under valgrind at K = 0 and K > 0 and takes the difference).
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const rounds = at >= 0 ? Number(args[at + 1]) : 40;
const countAt = args.indexOf('--count');
const count = countAt >= 0 ? Number(args[countAt + 1]) : null;
const valueAt = new Set([at + 1, countAt + 1].filter((i) => i > 0));
const builds = args.filter((a, i) => a.includes('=') && !valueAt.has(i));
const known = args.every((a, i) => valueAt.has(i) || a === '--rounds' || a === '--count' || a.includes('='));
if (!known || !builds.length || !(Number.isInteger(rounds) && rounds > 0)
    || (count !== null && !(Number.isInteger(count) && count >= 0 && builds.length === 1))) {
  console.error('usage: node run.mjs LABEL=DIR... [--rounds N] | node run.mjs LABEL=DIR --count K');
  process.exit(2);
}
const vector = JSON.parse(readFileSync(new URL('../../tests/vectors/allowed_vm_system_assigned.json', import.meta.url), 'utf8'));
const input = vector.input ?? vector;
const jwks = typeof input.keys === 'string' ? JSON.parse(input.keys) : input.keys;
const token = input.login.jwt;
const [head, , sigText] = token.split('.');
const jwk = jwks.keys.find((k) => k.kid === JSON.parse(Buffer.from(head, 'base64url')).kid);
const n = Buffer.from(jwk.n, 'base64url');
const e = Buffer.from(jwk.e, 'base64url');
const sig = Buffer.from(sigText, 'base64url');

const big = (b) => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
let want = 1n;
for (let base = big(sig) % big(n), x = big(e); x > 0n; x >>= 1n, base = (base * base) % big(n)) {
  if (x & 1n) want = (want * base) % big(n);
}
const cases = builds.map((b) => {
  const [label, dir] = [b.slice(0, b.indexOf('=')), b.slice(b.indexOf('=') + 1)];
  let Bench;
  try {
    ({ Bench } = require(resolve(dir, 'aadauth_bench_wasm_signature.js')));
  } catch (err) {
    console.error(`run.mjs: ${label}: no build in ${resolve(dir)} (scripts/ab-signature-wasm.sh builds it): ${err.code ?? err.message}`);
    process.exit(2);
  }
  const bench = new Bench(n, e);
  if (big(bench.result(sig)) !== want) throw new Error(`${label}: wrong result`);
  return { label, fn: (k) => bench.run(sig, k) };
});
// The instruction counter's workload: the same warm-up at every K, so that the difference
// between two counts is K operations of optimised code.
const WARMUP = 2000;
if (count !== null) {
  cases[0].fn(WARMUP);
  cases[0].fn(count);
  process.exit(0);
}
const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
const signingInput = Buffer.from(token.slice(0, token.lastIndexOf('.')));
cases.push({
  label: 'crypto.verify',
  fn: (k) => {
    for (let i = 0; i < k; i++) verify('RSA-SHA256', signingInput, keyObject, sig);
  },
});
const PER_ROUND = 200;
for (const c of cases) c.fn(2000);
const times = cases.map(() => []);
for (let r = 0; r < rounds; r++) {
  for (const [i, c] of cases.entries()) {
    const t0 = process.hrtime.bigint();
    c.fn(PER_ROUND);
    times[i].push(Number(process.hrtime.bigint() - t0) / PER_ROUND / 1000);
  }
}
console.log(`µs per operation, ${rounds} rounds of ${PER_ROUND} in turns (min / p25 / median):`);
for (const [i, c] of cases.entries()) {
  const s = times[i].sort((x, y) => x - y);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  console.log(`  ${c.label.padEnd(24)} ${q(0)} / ${q(0.25)} / ${q(0.5)}`);
}
