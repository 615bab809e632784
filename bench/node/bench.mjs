// The Node rows of scripts/bench.sh, on one token, key and time, in one process:
//
//   wasm_evaluate_json_text  aadauth's `evaluate` (pkg/, wasm) on the input as JSON text:
//                            parse the input and the JWKS, prepare the key, verify RS256 in
//                            wasm, every claim and binding check, ARM lookups in the
//                            snapshot, the output as a JS object. The "cold" path.
//   wasm_evaluate_object     the same on the input as a JS object.
//   wasm_verifier_evaluate   Verifier.evaluate(input JSON text without keys): the key set
//                            loaded once (as jose's createLocalJWKSet), a new evaluation
//                            otherwise: parse, verify, every check, the output object.
//   wasm_gateway_new_token   Gateway.check with cache_size 0: claims, RS256 with the prepared
//                            key, the role's bindings, a small decision object.
//   wasm_gateway_cached      Gateway.check on a token verified before: SHA-256 + lookup,
//                            exp re-checked, the role's bindings, the decision object.
//   wasm_gateway_cached_node_sha
//                            the same with the SHA-256 taken by Node (crypto.hash, or
//                            createHash before Node 20.12) and
//                            Gateway.checkCached(digest, ...): the token itself does not
//                            cross into wasm.
//   jose_jwt_verify          jose's jwtVerify with createLocalJWKSet (RS256, issuer,
//                            audience, currentDate = the vector's now): WebCrypto (OpenSSL)
//                            signature + the standard claims.
//   node_crypto_verify       crypto.verify('RSA-SHA256', signingInput, keyObject, signature)
//                            with a KeyObject created once: OpenSSL's RSA verification with
//                            nothing around it, the floor every row is compared to.
//   wasm_verifier_evaluate_no_signature
//                            Verifier.evaluate on the same input with skip_signature: true
//                            (decode-only: every check but the signature's, the same output
//                            document): the rest of an evaluation, the part a faster RSA
//                            could not shorten.
//   js_json_parse_output     JSON.parse of Verifier.evaluate's output document as JSON text
//                            (no wasm): what building the contract's output object costs
//                            in JavaScript by itself, a floor under every JS `evaluate`.
//
//   cd bench/node && npm install && node bench.mjs [--vector FILE] [--iterations N] [--json FILE] [--no-wasm]
//
// --no-wasm leaves out the wasm rows (when pkg/ has not been built: scripts/build-wasm.sh).
//
// Each operation is timed on its own (process.hrtime.bigint) after a warm-up, the rows
// taking turns; --json writes the raw samples too, which scripts/bench.sh pools over its
// rounds.
import * as nodeCrypto from 'node:crypto';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLocalJWKSet, jwtVerify } from 'jose';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const iterations = Number(opt('--iterations', 2000));
const warmup = Math.max(200, Math.floor(iterations / 5));
const vectorPath = opt(
  '--vector',
  fileURLToPath(new URL('../../tests/vectors/allowed_vm_system_assigned.json', import.meta.url)),
);

const withWasm = !args.includes('--no-wasm');
let evaluate = null;
let version = () => null;
let Verifier = null;
let Gateway = null;
if (withWasm) {
  const pkg = await import('../../pkg/aadauth_wasm.js');
  await pkg.default({ module_or_path: readFileSync(new URL('../../pkg/aadauth_wasm_bg.wasm', import.meta.url)) });
  ({ evaluate, version, Verifier, Gateway } = pkg);
}

const doc = JSON.parse(readFileSync(vectorPath, 'utf8'));
const input = doc.input ?? doc;
const token = input.login.jwt;
const jwks = typeof input.keys === 'string' ? JSON.parse(input.keys) : input.keys;
const inputText = JSON.stringify(input);
const { keys: _keys, ...inputWithoutKeys } = input;
const inputWithoutKeysText = JSON.stringify(inputWithoutKeys);
const inputNoSignatureText = JSON.stringify({ ...inputWithoutKeys, skip_signature: true });

// jose: the issuer Vault's v1 tokens carry, the configured audience, the vector's clock.
const joseOptions = {
  currentDate: new Date(input.now * 1000),
  algorithms: ['RS256'],
  issuer: `https://sts.windows.net/${input.config.tenant_id}/`,
  audience: input.config.resource,
};
const keySet = createLocalJWKSet(jwks);

// crypto.verify: the token's own key (by kid) as a KeyObject, the signature decoded once.
const dot = token.lastIndexOf('.');
const signingInput = Buffer.from(token.slice(0, dot));
const signature = Buffer.from(token.slice(dot + 1), 'base64url');
const header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString());
const jwk = jwks.keys.find((k) => k.kid === header.kid) ?? jwks.keys[0];
const keyObject = createPublicKey({ key: jwk, format: 'jwk' });

// Everything must accept the token before its time means anything.
const { payload } = await jwtVerify(token, keySet, joseOptions);
if (withWasm) {
  const first = evaluate(inputText);
  if (!first.allowed) throw new Error(`evaluate refused the token: ${first.error}`);
  if (!evaluate(input).allowed) throw new Error('evaluate(object) refused the token');
  if (payload.oid !== first.claims.oid) throw new Error('jose and aadauth disagree on the claims');
}
if (!cryptoVerify('RSA-SHA256', signingInput, keyObject, signature)) throw new Error('crypto.verify refused the signature');

// The stateful classes: keys loaded once; the gateway admits the token's identity.
let verifier = null;
let gatewayNew = null;
let gatewayCached = null;
let outputText = null;
if (withWasm) {
  verifier = new Verifier(jwks);
  if (!verifier.evaluate(inputWithoutKeysText).allowed) throw new Error('Verifier.evaluate refused the token');
  const settings = {
    tenant_id: input.config.tenant_id,
    audiences: [input.config.resource],
    roles: { bench: { bound_service_principal_ids: [payload.oid] } },
  };
  outputText = JSON.stringify(verifier.evaluate(inputWithoutKeysText));
  const decodeOnly = verifier.evaluate(inputNoSignatureText);
  const skipped = decodeOnly.checks.find((c) => c.id === 'token.signature');
  if (!decodeOnly.allowed || skipped?.outcome !== 'skip') {
    throw new Error(`Verifier.evaluate with skip_signature: allowed ${decodeOnly.allowed}, token.signature ${skipped?.outcome}`);
  }
  gatewayNew = new Gateway({ ...settings, cache_size: 0 }, jwks);
  gatewayCached = new Gateway(settings, jwks);
  const d = gatewayNew.check(token, input.now, 'bench');
  if (!d.allowed || d.cached) throw new Error(`Gateway.check refused the token: ${d.message}`);
  gatewayCached.check(token, input.now, 'bench');
  if (!gatewayCached.check(token, input.now, 'bench').cached) throw new Error('Gateway did not cache the token');
}

function stats(samples) {
  const s = Float64Array.from(samples).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, median_us: at(0.5), p99_us: at(0.99), mean_us: mean, min_us: s[0] };
}

// Every case is warmed up, then the cases take turns in SLICES slices of their samples, so
// that a busy spell of the machine does not land on one row only.
const SLICES = 10;
async function measure(cases) {
  for (const c of cases) {
    for (let i = 0; i < warmup; i++) {
      if (c.async) await c.fn();
      else c.fn();
    }
  }
  const samples = cases.map(() => []);
  for (let slice = 0; slice < SLICES; slice++) {
    const n = Math.floor((iterations * (slice + 1)) / SLICES) - Math.floor((iterations * slice) / SLICES);
    for (const [k, c] of cases.entries()) {
      const out = samples[k];
      if (c.async) {
        for (let i = 0; i < n; i++) {
          const t0 = process.hrtime.bigint();
          await c.fn();
          out.push(Number(process.hrtime.bigint() - t0) / 1000);
        }
      } else {
        for (let i = 0; i < n; i++) {
          const t0 = process.hrtime.bigint();
          c.fn();
          out.push(Number(process.hrtime.bigint() - t0) / 1000);
        }
      }
    }
  }
  return samples;
}

// Node's one-shot SHA-256 (crypto.hash, Node ≥ 20.12), else createHash.
const sha256 = typeof nodeCrypto.hash === 'function'
  ? (s) => nodeCrypto.hash('sha256', s, 'buffer')
  : (s) => nodeCrypto.createHash('sha256').update(s).digest();
const check = (ok, what) => {
  if (!ok) throw new Error(`${what} failed during the benchmark`);
};
const cases = [
  { id: 'wasm_evaluate_json_text', label: 'wasm evaluate (Node, JSON text in)', wasm: true,
    what: 'evaluate(input JSON text) in wasm: parse input + JWKS, prepare the key, verify, every check',
    fn: () => check(evaluate(inputText).allowed, 'evaluate') },
  { id: 'wasm_evaluate_object', label: 'wasm evaluate (Node, JS object in)', wasm: true,
    what: 'evaluate(input object) in wasm: the same, the input converted from a JS object',
    fn: () => check(evaluate(input).allowed, 'evaluate') },
  { id: 'wasm_verifier_evaluate', label: 'wasm Verifier.evaluate (keys loaded once)', wasm: true,
    what: 'Verifier.evaluate(input JSON text without keys): key set loaded once, verify, every check',
    fn: () => check(verifier.evaluate(inputWithoutKeysText).allowed, 'Verifier.evaluate') },
  { id: 'wasm_gateway_new_token', label: 'wasm Gateway.check (new token)', wasm: true,
    what: 'Gateway.check, cache_size 0: claims, RS256 with the prepared key, role bindings',
    fn: () => check(gatewayNew.check(token, input.now, 'bench').allowed, 'Gateway.check') },
  { id: 'wasm_gateway_cached_token', label: 'wasm Gateway.check (cached token)', wasm: true,
    what: 'Gateway.check on a verified token: SHA-256 + lookup, exp re-checked, role bindings',
    fn: () => check(gatewayCached.check(token, input.now, 'bench').cached, 'Gateway.check cached') },
  { id: 'wasm_gateway_cached_node_sha', label: 'wasm Gateway.checkCached (Node SHA-256)', wasm: true,
    what: "Node's SHA-256 of the token (crypto.hash) + Gateway.checkCached(digest): lookup, exp, role bindings",
    fn: () => check(gatewayCached.checkCached(sha256(token), input.now, 'bench')?.cached, 'Gateway.checkCached') },
  { id: 'wasm_verifier_evaluate_no_signature', label: 'wasm Verifier.evaluate, no signature', wasm: true,
    what: 'Verifier.evaluate with skip_signature: true (decode-only): every check but the signature, the same output object',
    fn: () => check(verifier.evaluate(inputNoSignatureText).allowed, 'Verifier.evaluate skip_signature') },
  { id: 'js_json_parse_output', label: 'JSON.parse of the evaluate output', wasm: true,
    what: "JSON.parse of Verifier.evaluate's output as JSON text: the output object alone, no wasm",
    fn: () => check(JSON.parse(outputText).allowed, 'JSON.parse') },
  { id: 'jose_jwt_verify', label: 'jose jwtVerify (createLocalJWKSet)', async: true,
    what: 'jose jwtVerify: RS256 via WebCrypto, iss, aud, exp/nbf at currentDate; local JWKS',
    fn: () => jwtVerify(token, keySet, joseOptions) },
  { id: 'node_crypto_verify', label: 'Node crypto.verify (OpenSSL floor)',
    what: "crypto.verify('RSA-SHA256', signingInput, KeyObject, signature): the signature alone",
    fn: () => check(cryptoVerify('RSA-SHA256', signingInput, keyObject, signature), 'crypto.verify') },
].filter((c) => withWasm || !c.wasm);

const results = {
  tool: 'bench/node/bench.mjs',
  vector: vectorPath,
  node: process.version,
  openssl: process.versions.openssl,
  v8: process.versions.v8,
  aadauth: version(),
  jose: JSON.parse(readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8')).version,
  iterations,
  warmup,
  rows: [],
};
const samples = await measure(cases);
for (const [k, { id, label, what }] of cases.entries()) {
  const s = samples[k];
  results.rows.push({ id, label, what, ...stats(s), samples_us: s.map((x) => Math.round(x * 1000) / 1000) });
}

console.error(`${vectorPath}: ${iterations} iterations after ${warmup} warm-up, Node ${process.version} (OpenSSL ${process.versions.openssl}), jose ${results.jose}`);
console.error('case                                      median µs      p99 µs     mean µs');
for (const r of results.rows) {
  console.error(`${r.label.padEnd(40)} ${r.median_us.toFixed(1).padStart(10)} ${r.p99_us.toFixed(1).padStart(11)} ${r.mean_us.toFixed(1).padStart(11)}`);
}
const out = opt('--json');
if (out) writeFileSync(out, `${JSON.stringify(results)}\n`);
