// End-to-end tests of the role tester page (www/) in Debian's chromium (never a downloaded
// browser). Run: `node --test tests/e2e/` (or scripts/test-www.sh, which installs what is
// needed first). Starts `aadauth serve` itself on a free port.
//
// Inputs come from tests/vectors/*.json and demo/demo.json; every scenario pastes them into
// the page the way a user would and checks what the page shows.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const SHOTS = path.join(HERE, 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The folder served (its www/, pkg/ and demo/); another build's folder can be tested with
// AADAUTH_SITE=/path.
const SITE = process.env.AADAUTH_SITE || ROOT;
const AXE = path.join(HERE, 'node_modules/axe-core/axe.min.js');

const vector = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/vectors', `${name}.json`), 'utf8'));
const DEMO = JSON.parse(fs.readFileSync(path.join(ROOT, 'demo/demo.json'), 'utf8'));

let server;
let base;
let context;
let userDataDir;
const requests = [];
const pageErrors = [];

// ---------------------------------------------------------------------------------------
// Setup.

function findBinary() {
  for (const p of ['target/release/aadauth', 'target/debug/aadauth']) {
    const full = path.join(ROOT, p);
    if (fs.existsSync(full)) return full;
  }
  const r = spawnSync('cargo', ['build', '-q', '-p', 'aadauth-cli'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('cargo build -p aadauth-cli failed');
  return path.join(ROOT, 'target/debug/aadauth');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitForServer(url, proc) {
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`aadauth serve exited with ${proc.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`aadauth serve did not answer at ${url}`);
}

const LAUNCH = {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-quic'],
  timezoneId: 'UTC',
  locale: 'en-US',
  viewport: { width: 1280, height: 900 },
};

before(async () => {
  assert.ok(fs.existsSync(path.join(SITE, 'pkg/aadauth_wasm.js')), 'pkg/ is missing: run scripts/build-wasm.sh');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  const bin = findBinary();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['serve', '--dir', 'www', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: SITE, stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForServer(`${base}/`, server);
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aadauth-e2e-chromium-'));
  // Playwright takes the profile folder as an argument rather than as --user-data-dir.
  context = await chromium.launchPersistentContext(userDataDir, LAUNCH);
});

after(async () => {
  if (context) await context.close();
  if (server) server.kill();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// Helpers.

async function openPage(hash = '', viewport = { width: 1280, height: 900 }, ctx = context, log = requests) {
  const page = await ctx.newPage();
  await page.setViewportSize(viewport);
  page.on('request', (r) => log.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${base}/${hash}`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 15000 });
  return page;
}

/** Waits until the debounced evaluation after the last edit has run. */
async function settle(page) {
  await page.waitForFunction(() => document.body.dataset.ready === 'true' && !document.body.dataset.pending);
}

const localInput = (unix) => new Date(unix * 1000).toISOString().slice(0, 19); // the browser runs in UTC

/** Pastes an `evaluate` input into the page's fields, as a user would. */
async function paste(page, input, { roleText, armText } = {}) {
  const login = input.login || {};
  await page.fill('#token', login.jwt || '');
  await page.fill('#config', input.config ? JSON.stringify(input.config, null, 2) : '');
  await page.fill('#role', roleText ?? (input.role ? JSON.stringify(input.role, null, 2) : ''));
  for (const k of ['role', 'subscription_id', 'resource_group_name', 'vm_name', 'vmss_name', 'resource_id']) {
    await page.fill(`#login-${k}`, login[k] || '');
  }
  await page.fill('#remote_addr', input.remote_addr || '');
  await page.fill('#arm', armText ?? (input.arm ? JSON.stringify(input.arm, null, 2) : ''));
  if (input.skip_signature) {
    await page.check('#keys-mode-decode');
  } else {
    await page.check('#keys-mode-jwks');
    await page.fill('#keys', typeof input.keys === 'string' ? input.keys : JSON.stringify(input.keys || ''));
  }
  await page.fill('#now', localInput(input.now));
  await settle(page);
}

async function text(page, selector) {
  return page.locator(selector).textContent();
}

/** Checks what the page shows against a vector's `expect`. */
async function assertExpect(page, expect, label) {
  const word = await text(page, '#verdict-word');
  assert.equal(word, expect.allowed ? 'Allowed' : 'Refused', `${label}: verdict`);
  if (expect.status !== undefined) {
    assert.match(await text(page, '#verdict-status'), new RegExp(`^HTTP ${expect.status}\\b`), `${label}: status`);
  }
  if (expect.error) {
    assert.equal(await text(page, '#verdict-error'), expect.error, `${label}: exact error text`);
  }
  for (const [id, outcome] of Object.entries(expect.checks || {})) {
    const li = page.locator(`li[id="check-${id}"]`);
    assert.equal(await li.getAttribute('data-outcome'), outcome, `${label}: check ${id}`);
    const labelText = { pass: 'Pass', fail: 'Fail', skip: 'Skipped', not_reached: 'Not reached' }[outcome];
    assert.ok((await li.locator('.outcome').textContent()).includes(labelText), `${label}: ${id} says ${labelText} in words`);
  }
  for (const [id, part] of Object.entries(expect.hint_contains || {})) {
    const hint = await page.locator(`li[id="check-${id}"] .hint`).textContent();
    assert.ok(hint.includes(part), `${label}: hint of ${id} (${hint}) mentions ${part}`);
    assert.ok((await text(page, '#verdict-hint')).includes(part), `${label}: the verdict repeats the hint`);
  }
  if (!expect.allowed) {
    const failed = page.locator('#checks li[data-outcome="fail"]');
    assert.equal(await failed.count(), 1, `${label}: exactly one failing check`);
  }
  if (expect.auth) {
    const auth = await text(page, '#auth');
    for (const p of expect.auth.policies || []) assert.ok(auth.includes(p), `${label}: policy ${p} shown`);
    for (const [k, v] of Object.entries(expect.auth.metadata || {})) {
      assert.ok(auth.includes(k) && auth.includes(v), `${label}: metadata ${k}=${v} shown`);
    }
  } else if (expect.allowed === false) {
    assert.equal(await page.locator('#auth-card').isHidden(), true, `${label}: no auth preview on refusal`);
  }
}

async function runVector(name, options) {
  const v = vector(name);
  const page = await openPage();
  await paste(page, v.input, options);
  await assertExpect(page, v.expect, name);
  return { page, v };
}

// ---------------------------------------------------------------------------------------
// Scenarios.

test('first load without a fragment shows the first demo case', async () => {
  const page = await openPage();
  const first = DEMO.cases[0];
  assert.equal(await page.locator(`button.demo[data-demo="${first.name}"]`).getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('button.demo').count(), DEMO.cases.length);
  assert.equal(await page.inputValue('#now'), localInput(first.input.now ?? DEMO.now), 'evaluated as of the demo time');
  const v = vector(first.name);
  await assertExpect(page, v.expect, `demo ${first.name}`);
  await page.close();
});

test('every demo case loads with one click and shows its vector verdict', async () => {
  const page = await openPage();
  for (const c of DEMO.cases) {
    await page.click(`button.demo[data-demo="${c.name}"]`);
    await settle(page);
    const file = path.join(ROOT, 'tests/vectors', `${c.name}.json`);
    if (fs.existsSync(file)) await assertExpect(page, vector(c.name).expect, `demo ${c.name}`);
    assert.ok((await text(page, '#demo-note')).includes(c.title));
  }
  await page.close();
});

test('allowed VM: verdict, auth preview and the redacted vault command', async () => {
  const { page, v } = await runVector('allowed_vm_system_assigned');
  assert.equal(await page.locator('#auth-card').isVisible(), true);
  const auth = await text(page, '#auth');
  assert.ok(auth.includes('web-read'));
  assert.ok(auth.includes('1h (3600 s)'), 'TTL shown with its unit');
  const cmd = await text(page, '#command');
  assert.ok(cmd.startsWith('vault write auth/azure/login'), cmd);
  assert.ok(cmd.includes('jwt="$JWT"'));
  assert.ok(cmd.includes('vm_name=web-01'));
  assert.ok(!cmd.includes(v.input.login.jwt), 'the JWT is not in the command');
  // The decoded token: xms_mirid split into parts.
  const mirid = await text(page, '#decoded-xms_mirid');
  assert.ok(mirid.includes('web-01') && mirid.includes('rg-web') && mirid.includes('virtualMachines'), mirid);
  assert.ok((await text(page, '#decoded')).includes('v1.0'));
  await page.fill('#mount', 'azure-prod');
  await settle(page);
  assert.ok((await text(page, '#command')).startsWith('vault write auth/azure-prod/login'));

  // The token as users have it on their clipboard: `Bearer …` or the IMDS token response.
  const jwt = v.input.login.jwt;
  const imdsAnswer = { access_token: jwt, client_id: 'c0ffee00-1111-4222-8333-444455556666', expires_in: '86399', expires_on: '1764586199', ext_expires_in: '86399', not_before: '1764499499', resource: 'https://management.azure.com/', token_type: 'Bearer' };
  for (const pasted of [`Bearer ${jwt}`, JSON.stringify(imdsAnswer, null, 2)]) {
    await page.fill('#token', pasted);
    await settle(page);
    await assertExpect(page, v.expect, `token pasted as ${pasted.slice(0, 12)}…`);
  }
  await page.close();
});

test('audience with a trailing slash: exact error, failing check and hint', async () => {
  const { page } = await runVector('audience_trailing_slash');
  assert.ok((await text(page, '#token-warnings')).includes('ends with a slash'), 'decoded token warns about aud');
  await page.close();
});

test('expired token', async () => {
  const { page } = await runVector('token_expired');
  assert.ok((await text(page, '#decoded')).includes('expired'), 'decoded token says it expired');
  await page.close();
});

test('wrong resource group', async () => {
  const { page } = await runVector('resource_group_not_authorized');
  assert.equal(await page.locator('li[id="check-bound.resource_group"]').getAttribute('data-outcome'), 'fail');
  await page.close();
});

test('scale set allowed', async () => {
  const { page } = await runVector('allowed_vmss_uniform');
  const mirid = await text(page, '#decoded-xms_mirid');
  assert.ok(mirid.includes('api-vmss'), mirid);
  assert.ok((await text(page, '#command')).includes('vmss_name=api-vmss'));
  await page.close();
});

test('role pasted as `vault read -format=json` output', async () => {
  const v = vector('role_from_vault_read_output');
  assert.ok(v.input.role.data, 'the vector holds vault read output');
  const { page } = await runVector('role_from_vault_read_output', {
    roleText: JSON.stringify({ request_id: '7c1f', lease_id: '', lease_duration: 0, renewable: false, ...v.input.role, warnings: null }, null, 2),
  });
  await page.close();
});

test('`az vm show -o json` output pasted as ARM facts', async () => {
  const v = vector('allowed_vm_system_assigned');
  const [[vmPath, vm]] = Object.entries(v.input.arm);
  // What `az vm show -o json` prints: the VM itself, not a path → body map.
  const azVmShow = JSON.stringify({ ...vm, resourceGroup: 'rg-web', provisioningState: 'Succeeded', hardwareProfile: { vmSize: 'Standard_B2s' } }, null, 2);
  const { page } = await runVector('allowed_vm_system_assigned', { armText: azVmShow });
  assert.ok((await text(page, '#arm-summary')).includes(vmPath), 'the page says which resource it read');

  // Several documents one after another (a VM, then `az identity list`).
  const identities = JSON.stringify([{ id: '/subscriptions/8d2f4a1c-3b5e-4c6d-9e7f-a1b2c3d4e5f6/resourcegroups/rg-web/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web-id', name: 'web-id', clientId: 'c0ffee00-1111-4222-8333-444455556666', principalId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d' }], null, 2);
  await page.fill('#arm', `${azVmShow}\n${identities}`);
  await settle(page);
  assert.equal(await text(page, '#verdict-word'), 'Allowed');
  assert.ok((await text(page, '#arm-summary')).includes('userAssignedIdentities/web-id'));

  // Without the facts, ARM answers "not found", as Vault would be told.
  await page.fill('#arm', '');
  await settle(page);
  assert.equal(await text(page, '#verdict-word'), 'Refused');
  assert.match(await text(page, '#verdict-error'), /^unable to retrieve virtual machine metadata: /);
  await page.close();
});

test('decode-only mode is marked "no signature verdict"', async () => {
  const { page } = await runVector('decode_only_mode');
  assert.equal(await page.locator('#decode-only-note').isVisible(), true);
  assert.ok((await text(page, '#decode-only-note')).includes('no signature verdict'));
  assert.equal(await page.locator('#keys').isVisible(), false, 'no key set asked for');
  await page.close();
});

test('IMDS instance metadata fills the login fields', async () => {
  const v = vector('allowed_vm_system_assigned');
  const page = await openPage();
  await paste(page, { ...v.input, login: { role: 'web', jwt: v.input.login.jwt } });
  assert.equal(await text(page, '#verdict-word'), 'Refused', 'no VM named yet');
  const imds = {
    compute: {
      azEnvironment: 'AzurePublicCloud', location: 'eastus', name: 'web-01', resourceGroupName: 'rg-web',
      subscriptionId: v.input.login.subscription_id, vmScaleSetName: '', vmSize: 'Standard_B2s',
      resourceId: Object.keys(v.input.arm)[0],
    },
    network: { interface: [] },
  };
  await page.click('#imds-details summary');
  await page.fill('#imds', JSON.stringify(imds, null, 2));
  await settle(page);
  assert.equal(await page.inputValue('#login-subscription_id'), v.input.login.subscription_id);
  assert.equal(await page.inputValue('#login-resource_group_name'), 'rg-web');
  assert.equal(await page.inputValue('#login-vm_name'), 'web-01');
  assert.equal(await page.inputValue('#login-vmss_name'), '');
  assert.ok((await text(page, '#imds-filled')).includes('vm_name'));
  await assertExpect(page, v.expect, 'after IMDS fill');

  await page.fill('#imds', '{"compute": {}}');
  await settle(page);
  assert.ok((await text(page, '#imds-msg')).includes('subscriptionId'), 'a clear message for the wrong document');
  await page.close();
});

test('shareable link round trip leaves the token out unless asked', async () => {
  const { page, v } = await runVector('audience_trailing_slash');
  const link = await page.inputValue('#share-link');
  assert.ok(link.startsWith(`${base}/#s=`), link);
  const state = JSON.parse(Buffer.from(link.split('#s=')[1], 'base64url').toString('utf8'));
  assert.equal(state.token, undefined, 'no token in the default link');
  assert.ok(!link.includes(v.input.login.jwt.split('.')[1]));

  const restored = await openPage(link.slice(base.length + 1));
  assert.equal(await restored.inputValue('#token'), '');
  assert.equal(await restored.inputValue('#config'), await page.inputValue('#config'));
  assert.equal(await restored.inputValue('#role'), await page.inputValue('#role'));
  assert.equal(await restored.inputValue('#arm'), await page.inputValue('#arm'));
  assert.equal(await restored.inputValue('#login-vm_name'), 'web-01');
  assert.equal(await restored.inputValue('#now'), localInput(v.input.now));
  assert.ok((await text(restored, '#token-msg')).includes('does not include the token'));
  assert.equal(await text(restored, '#verdict-error'), 'jwt is required');
  await restored.close();

  await page.check('#share-token');
  assert.equal(await page.locator('#share-warn').isVisible(), true);
  const withToken = await page.inputValue('#share-link');
  const again = await openPage(withToken.slice(base.length + 1));
  assert.equal(await again.inputValue('#token'), v.input.login.jwt);
  await assertExpect(again, v.expect, 'link with token');
  await again.close();
  await page.close();
});

test('input errors are shown next to the field, never as a crash', async () => {
  const page = await openPage();
  const before = pageErrors.length;
  await page.fill('#role', '{"bound_service_principal_ids": ["x"],');
  await settle(page);
  assert.equal(await page.getAttribute('#role', 'aria-invalid'), 'true');
  assert.match(await text(page, '#role-msg'), /not valid JSON/);
  assert.equal(await text(page, '#verdict-word'), 'Cannot evaluate yet');
  await page.fill('#role', '{"bound_service_principal_ids": "x", "token_ttl": "soon"}');
  await settle(page);
  assert.match(await text(page, '#role-msg'), /token_ttl/);
  await page.fill('#role', '{"bound_service_principal_ids": "x"}');
  await page.fill('#arm', 'this is not json');
  await page.fill('#config', '[1, 2]');
  await settle(page);
  assert.match(await text(page, '#arm-msg'), /^. ?(Error: )?arm: /);
  assert.match(await text(page, '#config-msg'), /config/);
  await page.fill('#token', '{"no_token": true}');
  await settle(page);
  assert.match(await text(page, '#token-msg'), /access_token/);
  assert.equal(pageErrors.length, before, `no uncaught errors: ${pageErrors.slice(before).join('; ')}`);
  await page.close();
});

test('keys are fetched from the chosen cloud only on an explicit click', async () => {
  // The Microsoft endpoint is answered by Playwright inside the browser: nothing leaves
  // the machine. These requests are kept out of the "local server only" log on purpose.
  const log = [];
  const v = vector('allowed_vm_system_assigned');
  const page = await openPage('', { width: 1280, height: 900 }, context, log);
  let served = 0;
  await page.route('https://login.chinacloudapi.cn/**', (route) => {
    served += 1;
    route.fulfill({
      status: 200,
      headers: { 'content-type': 'application/json', 'access-control-allow-origin': '*' },
      body: JSON.stringify(v.input.keys),
    });
  });
  await paste(page, { ...v.input, keys: '' });
  assert.equal(await text(page, '#verdict-word'), 'Refused', 'no key set: the signature cannot pass');
  assert.match(await text(page, '#keys-msg'), /No key set/);

  // The cloud follows config.environment; the URL shown is the core's.
  await page.fill('#config', JSON.stringify({ ...v.input.config, environment: 'azurechinacloud' }));
  await settle(page);
  assert.equal(await page.inputValue('#cloud'), 'AzureChinaCloud');
  assert.equal(await text(page, '#keys-url'), 'https://login.chinacloudapi.cn/common/discovery/keys');
  assert.equal(log.filter((u) => !u.startsWith(`${base}/`)).length, 0, 'nothing fetched before the click');

  await page.click('#fetch-keys');
  await page.waitForFunction(() => /Fetched from/.test(document.querySelector('#keys-msg').textContent));
  assert.equal(served, 1);
  assert.deepEqual(log.filter((u) => !u.startsWith(`${base}/`)), ['https://login.chinacloudapi.cn/common/discovery/keys']);
  assert.deepEqual(JSON.parse(await page.inputValue('#keys')), v.input.keys);
  // The China cloud expects another issuer: refused by issuer now, no longer by signature.
  assert.match(await text(page, '#verdict-error'), /^oidc: id token issued by a different provider/);
  await page.fill('#config', JSON.stringify(v.input.config));
  await settle(page);
  await assertExpect(page, v.expect, 'with fetched keys');
  await page.close();
});

test('no serious or critical accessibility violations (axe-core)', async () => {
  // The page's CSP (rightly) refuses the inline script addScriptTag makes of axe.min.js, so
  // axe runs in a second browser profile that bypasses CSP; every other test keeps it.
  const axeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aadauth-e2e-axe-'));
  const axeContext = await chromium.launchPersistentContext(axeDir, { ...LAUNCH, bypassCSP: true });
  try {
    await axeChecks(axeContext);
  } finally {
    await axeContext.close();
    fs.rmSync(axeDir, { recursive: true, force: true });
  }
});

async function axeChecks(ctx) {
  for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
    const page = await openPage('', viewport, ctx);
    // A refused case too: the failing check and hint are styled differently.
    for (const name of [DEMO.cases[0].name, 'audience_trailing_slash']) {
      if (await page.locator(`button.demo[data-demo="${name}"]`).count()) {
        await page.click(`button.demo[data-demo="${name}"]`);
        await settle(page);
      }
      // Everything folded away is checked too.
      await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
      await page.addScriptTag({ path: AXE });
      const result = await page.evaluate(async () => window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
        resultTypes: ['violations'],
      }));
      const bad = result.violations.filter((x) => x.impact === 'serious' || x.impact === 'critical');
      assert.deepEqual(bad.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')})`), [],
        `axe at ${viewport.width}px on ${name}`);
    }
    await page.close();
  }
}

test('keyboard: the demo buttons and the inputs are reachable with Tab, with a visible focus', async () => {
  const page = await openPage();
  await page.keyboard.press('Tab'); // skip link
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'demo');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await settle(page);
  assert.equal(await page.locator(`button.demo[data-demo="${DEMO.cases[1].name}"]`).getAttribute('aria-pressed'), 'true');
  await page.close();
});

test('screenshots of the demo case at 1280x900 and 390x844', async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const [w, hgt] of [[1280, 900], [390, 844]]) {
    const page = await openPage('', { width: w, height: hgt });
    await page.screenshot({ path: path.join(SHOTS, `demo-${w}x${hgt}.png`) });
    await page.screenshot({ path: path.join(SHOTS, `demo-${w}x${hgt}-full.png`), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at ${w}px (${overflow}px too wide)`);
    await page.close();
  }
  // A refused case as well, to look at the failing check.
  const page = await openPage('', { width: 1280, height: 900 });
  await page.click('button.demo[data-demo="audience_trailing_slash"]');
  await settle(page);
  await page.screenshot({ path: path.join(SHOTS, 'refused-1280x900-full.png'), fullPage: true });
  await page.close();
});

test('the page made no network request except to the local server', () => {
  assert.ok(requests.length > 0);
  const foreign = requests.filter((u) => !u.startsWith(`${base}/`) && !u.startsWith('data:'));
  assert.deepEqual(foreign, []);
  assert.deepEqual(pageErrors, []);
});
