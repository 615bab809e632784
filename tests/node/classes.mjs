// The package's stateful classes, through the built pkg/ in Node:
//
//   Verifier  a key set loaded once: verifier.evaluate(input without keys) must equal
//             evaluate(input) on every test vector that carries keys;
//   Gateway   the gateway profile with prepared keys and a verified-token cache: the first
//             decision verifies, a repeated token comes from the cache with the same
//             verdict, exp is re-checked, roles are decided on every request, errors name
//             the member.
//
//   node tests/node/classes.mjs
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import init, { evaluate, Gateway, keysUrl, vaultLoginCommand, Verifier } from '../../pkg/aadauth_wasm.js';

await init({ module_or_path: readFileSync(new URL('../../pkg/aadauth_wasm_bg.wasm', import.meta.url)) });

const dir = new URL('../vectors/', import.meta.url);
const load = (f) => JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
const failures = [];
let compared = 0;

// --- Verifier: same output as evaluate with the keys in the input -------------------------
for (const f of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const { input } = load(f);
  if (input.keys === undefined || input.keys === null) continue;
  let verifier;
  try {
    verifier = new Verifier(input.keys);
  } catch (err) {
    // A key set evaluate reports as undecodable cannot be loaded: the error names `keys`.
    if (err.code !== 'input_invalid' || err.field !== 'keys') failures.push(`${f}: ${err.code} ${err.field} ${err.message}`);
    continue;
  }
  const { keys, ...rest } = input;
  const want = JSON.stringify(evaluate(input));
  const got = JSON.stringify(verifier.evaluate(rest));
  const again = JSON.stringify(verifier.evaluate(JSON.stringify(rest)));
  if (got !== want || again !== want) failures.push(`${f}: Verifier.evaluate differs from evaluate`);
  compared++;
  verifier.free();
}
assert.ok(compared >= 80, `only ${compared} vectors compared`);

{
  const { input } = load('allowed_vm_system_assigned.json');
  const verifier = new Verifier(JSON.stringify(input.keys));
  const keys = verifier.keys();
  assert.ok(keys.length >= 1 && keys.every((k) => k.usable && k.kty === 'RSA' && k.bits === 2048), JSON.stringify(keys));
  assert.throws(() => verifier.evaluate(input), (e) => e.code === 'input_invalid' && e.field === 'keys');
  assert.throws(() => new Verifier('{"keys": 3}'), (e) => e.code === 'input_invalid' && e.field === 'keys');
  assert.throws(() => new Verifier('not json'), (e) => e.code === 'input_invalid' && e.field === 'keys');
}

// --- Gateway ------------------------------------------------------------------------------
{
  const { input } = load('allowed_vm_system_assigned.json');
  const token = input.login.jwt;
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  const settings = {
    tenant_id: input.config.tenant_id,
    audiences: [input.config.resource],
    claims: ['oid', 'subscription_id'],
    roles: {
      web: { bound_service_principal_ids: [claims.oid] },
      other: { bound_service_principal_ids: ['00000000-0000-4000-8000-000000000000'] },
    },
  };
  const gw = new Gateway(settings, input.keys);
  const now = input.now;

  const first = gw.check(token, now, 'web');
  assert.equal(first.allowed, true, JSON.stringify(first));
  assert.equal(first.status, 200);
  assert.equal(first.cached, false);
  assert.equal(first.claims.oid, claims.oid);
  assert.deepEqual(Object.keys(first.claims), ['oid', 'subscription_id']);
  assert.match(first.claims.subscription_id, /^[0-9a-f-]{36}$/);
  assert.equal(gw.cachedTokens, 1);

  const second = gw.check(`Bearer ${token}`, now, 'web');
  assert.equal(second.cached, true);
  assert.deepEqual({ ...second, cached: false }, first);

  // checkCached: the SHA-256 computed by Node, the answer from the cache alone.
  const digest = createHash('sha256').update(token).digest();
  const fresh = new Gateway(settings, input.keys);
  assert.equal(fresh.checkCached(digest, now, 'web'), undefined);
  assert.equal(fresh.check(token, now, 'web').cached, false);
  assert.deepEqual(fresh.checkCached(digest, now, 'web'), fresh.check(token, now, 'web'));
  assert.equal(fresh.checkCached(new Uint8Array(digest), now, 'web').cached, true);
  assert.equal(fresh.checkCached(digest, now, 'nope').check, 'role.exists');
  assert.throws(() => fresh.checkCached(digest.subarray(0, 31), now, 'web'), (e) => e.code === 'input_invalid' && e.field === 'sha256' && /got 31 bytes/.test(e.message));
  // Only a Uint8Array (a Buffer is one) is a digest: a string, an array of numbers or an
  // ArrayBuffer is refused, where the glue used to copy anything array-like (a 32-character
  // string became 32 zero bytes, and the answer `undefined`).
  for (const wrong of ['a'.repeat(32), digest.toString('hex'), digest.toString('base64'), Array.from(digest), digest.buffer.slice(digest.byteOffset, digest.byteOffset + 32), 5, {}]) {
    assert.throws(() => fresh.checkCached(wrong, now, 'web'), (e) => e.code === 'input_invalid' && e.field === 'sha256' && /Uint8Array/.test(e.message), String(wrong));
  }
  assert.equal(fresh.checkCached(Buffer.from(digest), now, 'web').cached, true);
  assert.equal(fresh.checkCached(Buffer.concat([Buffer.alloc(5), digest, Buffer.alloc(3)]).subarray(5, 37), now, 'web').cached, true);
  for (const missing of [null, undefined]) {
    assert.throws(() => fresh.checkCached(missing, now, 'web'), (e) => e.code === 'input_invalid' && e.field === 'sha256', String(missing));
  }
  assert.equal(fresh.checkCached(createHash('sha256').update(`${token}x`).digest(), now, 'web'), undefined);

  const refused = gw.check(token, now, 'other');
  assert.equal(refused.allowed, false);
  assert.equal(refused.status, 403);
  assert.equal(refused.check, 'bindings.service_principal');
  assert.equal(refused.cached, true);

  const noRole = gw.check(token, now, 'nope');
  assert.equal(noRole.status, 500);
  assert.equal(noRole.check, 'role.exists');

  const late = gw.check(token, claims.exp + 61, 'web');
  assert.equal(late.allowed, false);
  assert.equal(late.status, 401);
  assert.equal(late.check, 'token.expiry');
  assert.equal(gw.cachedTokens, 0);

  const garbage = gw.check('abc.def', now, 'web');
  assert.equal(garbage.status, 401);
  assert.equal(garbage.cached, false);
  assert.ok(garbage.message.length > 0);

  // No key for the token's kid: said so, so that the caller loads the key set again.
  const empty = new Gateway(settings, { keys: [] });
  const unknown = empty.check(token, now, 'web');
  assert.equal(unknown.unknown_key, true);
  assert.equal(unknown.status, 401);
  empty.setKeys(input.keys);
  assert.equal(empty.check(token, now, 'web').allowed, true);

  // Default claims: oid, appid, tid.
  const { claims: _c, ...plain } = settings;
  const d = new Gateway(plain, input.keys).check(token, now, 'web');
  assert.deepEqual(d.claims, { appid: claims.appid, oid: claims.oid, tid: claims.tid });

  assert.throws(() => gw.check(token, Number.NaN, 'web'), (e) => e.code === 'input_invalid' && e.field === 'now');

  const bad = (patch, field) =>
    assert.throws(
      () => new Gateway({ ...settings, ...patch }, input.keys),
      (e) => e.code === 'input_invalid' && e.field === field && e.message.startsWith(`${field}:`),
      `${JSON.stringify(patch)} should be refused naming ${field}`,
    );
  bad({ tenant_id: 'contoso.com' }, 'tenant_id');
  bad({ audiences: [] }, 'audiences');
  bad({ roles: {} }, 'roles');
  bad({ cache_size: -1 }, 'cache_size');
  bad({ clock_skew_seconds: 99999 }, 'clock_skew_seconds');
  bad({ environment: 'Mars' }, 'environment');
  bad({ tenantid: 'x' }, 'tenantid');
  bad({ roles: { web: { bound_locations: ['eastus'], bound_service_principal_ids: ['x'] } } }, 'roles.web.bound_locations');
}

// --- Strings in: copied with TextEncoder.encodeInto, not wasm-bindgen's per-character loop --
{
  const { input } = load('allowed_vm_system_assigned.json');
  const { keys, ...rest } = input;
  const verifier = new Verifier(keys);
  // Non-ASCII text (2-, 3- and 4-byte UTF-8), in JSON text and in an object: the same
  // output either way.
  for (const odd of ['wéb', 'ウェブ', 'web😀']) {
    const patched = { ...rest, login: { ...rest.login, role: odd } };
    const fromText = verifier.evaluate(JSON.stringify(patched));
    const fromObject = verifier.evaluate(patched);
    assert.deepEqual(fromText, fromObject, odd);
    assert.equal(fromText.allowed, false, odd);
    // The text arrived intact: the role name comes back in the explanation.
    assert.ok(fromText.checks.find((c) => c.id === 'request.role').detail.includes(odd), odd);
  }
  const oid = JSON.parse(Buffer.from(input.login.jwt.split('.')[1], 'base64url').toString()).oid;
  const settings = { tenant_id: input.config.tenant_id, audiences: [input.config.resource], roles: { web: { bound_service_principal_ids: [oid] } } };
  const gw = new Gateway(settings, keys);
  assert.equal(gw.check(input.login.jwt, input.now, 'web').allowed, true);
  // A lone surrogate becomes U+FFFD; the longest string takes wasm-bindgen's own copy.
  for (const odd of [`${input.login.jwt}é`, `é${input.login.jwt}`, `${input.login.jwt}\ud800`, '', ' '.repeat(70000), 'x'.repeat(2_000_000)]) {
    const d = gw.check(odd, input.now, 'web');
    assert.equal(d.allowed, false, odd.slice(0, 20));
    assert.equal(d.status, 401, odd.slice(0, 20));
  }
  for (const notString of [undefined, null, 42, {}, ['a'], new String('x')]) {
    assert.throws(() => gw.check(notString, input.now, 'web'), (e) => e.code === 'input_invalid' && e.field === 'token', String(notString));
  }
  // The other string parameters: an error naming the parameter, never a WebAssembly trap
  // (wasm-bindgen's own string glue traps on a number or an object); the module works on.
  const digest = createHash('sha256').update(input.login.jwt).digest();
  for (const notString of [42, {}, ['a'], true]) {
    const named = (field) => (e) => e.code === 'input_invalid' && e.field === field;
    assert.throws(() => gw.check(input.login.jwt, input.now, notString), named('role'), String(notString));
    assert.throws(() => gw.check(input.login.jwt, input.now, 'web', notString), named('remoteAddr'), String(notString));
    assert.throws(() => gw.checkCached(digest, input.now, notString), named('role'), String(notString));
    assert.throws(() => gw.checkCached(digest, input.now, 'web', notString), named('remoteAddr'), String(notString));
    assert.throws(() => keysUrl(notString), named('config.environment'), String(notString));
    assert.throws(() => vaultLoginCommand(input.login, notString), named('mount'), String(notString));
  }
  for (const absent of [undefined, null]) {
    assert.equal(gw.check(input.login.jwt, input.now, 'web', absent).allowed, true);
    assert.equal(keysUrl(absent), keysUrl('AzurePublicCloud'));
    assert.match(vaultLoginCommand(input.login, absent), /auth\/azure\/login/);
  }
  assert.equal(gw.check(input.login.jwt, input.now, 'web').allowed, true);
}

if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`classes: Verifier equals evaluate on ${compared} vectors; Gateway checks passed`);
