// The role tester page: arranges what the user pasted into the `evaluate` input of the
// aadauth WebAssembly core and shows what the core answers. It implements no Vault rule of
// its own. The only network request it can make (besides loading itself from its own
// server) is fetching Microsoft's signing keys, on an explicit click.

import { $, $$, h, fill, toLocalInput, fromLocalInput, utcTime, toBase64Url, fromBase64Url, debounce } from './dom.js';
import { renderVerdict, renderInputProblem, renderChecks, renderArmRequests, renderAuth, renderDecoded } from './render.js';

const LOGIN_FIELDS = ['role', 'subscription_id', 'resource_group_name', 'vm_name', 'vmss_name', 'resource_id'];
const TEXT_FIELDS = ['token', 'config', 'role', 'imds', 'arm', 'keys', 'remote_addr', 'mount'];
const FIELDS = {
  token: { label: 'Access token', anchor: 'token' },
  config: { label: 'Vault config', anchor: 'config' },
  role: { label: 'Vault role', anchor: 'role' },
  login: { label: 'Login request', anchor: 'login-role' },
  imds: { label: 'Instance metadata', anchor: 'imds' },
  arm: { label: 'Azure facts', anchor: 'arm' },
  keys: { label: 'Signing keys', anchor: 'keys' },
  now: { label: 'Evaluate as of', anchor: 'now' },
};
const SHARE_VERSION = 1;

let aad = null;
let demo = { now: null, cases: [] };
let activeDemo = null;
let edited = false;
let evaluations = 0;
let lastEnvironment = null;
// Notes that outlive one evaluation (until the field is edited).
const sticky = { token: null, keys: null, imds: null };

const schedule = debounce(evaluateNow, 150);

// ---------------------------------------------------------------------------------------
// Start-up.

async function main() {
  wireEvents();
  try {
    const mod = await import('/pkg/aadauth_wasm.js');
    if (typeof mod.default === 'function') await mod.default();
    aad = mod;
  } catch (e) {
    showBanner(`The WebAssembly core could not be loaded (${e && e.message ? e.message : e}). Build it with scripts/build-wasm.sh, then reload.`);
    fill($('#verdict'), h('p', { class: 'msg error' }, 'The core is not loaded: nothing can be evaluated.'));
    return;
  }
  const v = aad.version();
  $('#version').textContent = `v${v}`;
  $('#footer-version').textContent = `v${v}`;
  updateKeysUrl();

  await loadDemos();
  if (!(location.hash.length > 1 && restoreFromHash())) {
    if (demo.cases.length) loadDemo(0);
    else setNow(Math.floor(Date.now() / 1000));
  }
  evaluateNow();
  document.body.dataset.ready = 'true';
}

async function loadDemos() {
  const list = $('#demo-list');
  try {
    const res = await fetch('/demo/demo.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    demo = await res.json();
  } catch (e) {
    fill(list, h('li', { class: 'muted' }, `No examples (${e.message}).`));
    return;
  }
  fill(list, demo.cases.map((c, i) => {
    let allowed = null;
    try {
      allowed = aad.evaluate(c.input).allowed;
    } catch {
      // An example the core cannot read is still listed.
    }
    return h('li', {},
      h('button', {
        type: 'button', class: 'demo', 'data-demo': c.name, 'aria-pressed': 'false',
        'aria-describedby': 'demo-note', onclick: () => { loadDemo(i); evaluateNow(); },
      },
      allowed === null ? null
        : h('span', { class: `demo-icon ${allowed ? 'ok' : 'no'}`, 'aria-hidden': 'true' }, allowed ? '✓' : '✗'),
      c.title));
  }));
}

function loadDemo(i) {
  const c = demo.cases[i];
  const input = c.input || {};
  const login = input.login || {};
  let role = input.role;
  if (!role && input.roles) {
    const names = Object.keys(input.roles);
    const name = names.find((n) => n.toLowerCase() === String(login.role || '').toLowerCase()) || names[0];
    role = name ? { name, ...unwrapData(input.roles[name]) } : null;
  }
  writeState({
    token: login.jwt || '',
    config: pretty(input.config),
    role: pretty(role),
    login: Object.fromEntries(LOGIN_FIELDS.map((k) => [k, login[k] || ''])),
    remote_addr: input.remote_addr || '',
    mount: '',
    imds: '',
    arm: pretty(input.arm),
    keys_mode: input.skip_signature ? 'decode' : 'jwks',
    keys: typeof input.keys === 'string' ? input.keys : pretty(input.keys),
    now: input.now ?? demo.now ?? Math.floor(Date.now() / 1000),
  });
  for (const k of Object.keys(sticky)) sticky[k] = null;
  activeDemo = c;
  edited = false;
  $$('#demo-list button.demo').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.demo === c.name)));
  updateDemoNote();
}

function unwrapData(r) {
  return r && typeof r === 'object' && r.data && typeof r.data === 'object' ? r.data : r;
}

function pretty(v) {
  return v === undefined || v === null ? '' : JSON.stringify(v, null, 2);
}

function updateDemoNote() {
  const note = $('#demo-note');
  if (!activeDemo) {
    fill(note);
    return;
  }
  fill(note, h('strong', {}, activeDemo.title), edited ? ' (edited)' : '', ' — ', activeDemo.description);
}

// ---------------------------------------------------------------------------------------
// State: the form <-> a plain object (also what the shareable link holds).

function readState() {
  return {
    token: $('#token').value,
    config: $('#config').value,
    role: $('#role').value,
    login: Object.fromEntries(LOGIN_FIELDS.map((k) => [k, $(`#login-${k}`).value])),
    remote_addr: $('#remote_addr').value,
    mount: $('#mount').value,
    imds: $('#imds').value,
    arm: $('#arm').value,
    keys_mode: $('#keys-mode-decode').checked ? 'decode' : 'jwks',
    keys: $('#keys').value,
    cloud: $('#cloud').value,
    now: fromLocalInput($('#now').value),
  };
}

function writeState(s) {
  for (const k of TEXT_FIELDS) $(`#${k}`).value = typeof s[k] === 'string' ? s[k] : '';
  const login = s.login && typeof s.login === 'object' ? s.login : {};
  for (const k of LOGIN_FIELDS) $(`#login-${k}`).value = typeof login[k] === 'string' ? login[k] : '';
  $(s.keys_mode === 'decode' ? '#keys-mode-decode' : '#keys-mode-jwks').checked = true;
  if (s.cloud && $(`#cloud option[value="${CSS.escape(s.cloud)}"]`)) $('#cloud').value = s.cloud;
  $('#imds-details').open = Boolean(s.imds);
  lastEnvironment = null;
  syncKeysMode();
  updateKeysUrl();
  if (Number.isFinite(s.now)) setNow(s.now);
}

function setNow(unix) {
  $('#now').value = toLocalInput(unix);
}

function shareLink(s, includeToken) {
  const shared = { v: SHARE_VERSION };
  for (const [k, v] of Object.entries(s)) {
    if (k === 'token' && !includeToken) continue;
    if (k === 'login') {
      const login = Object.fromEntries(Object.entries(v).filter(([, x]) => x));
      if (Object.keys(login).length) shared.login = login;
    } else if (k === 'keys' && s.keys_mode === 'decode') {
      continue;
    } else if (v !== '' && v !== null && !(k === 'keys_mode' && v === 'jwks')) {
      shared[k] = v;
    }
  }
  const url = new URL(location.href);
  url.hash = `s=${toBase64Url(JSON.stringify(shared))}`;
  return url.toString();
}

/** Restores the form from `#s=…`; false when the fragment is not ours. */
function restoreFromHash() {
  const m = /^#s=([A-Za-z0-9_-]*)$/.exec(location.hash);
  if (!m) return false;
  let s;
  try {
    s = JSON.parse(fromBase64Url(m[1]));
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw new Error('not an object');
  } catch (e) {
    showBanner(`The link's inputs could not be read (${e.message}); showing an example instead.`);
    return false;
  }
  hideBanner();
  writeState({ ...s, now: Number.isFinite(s.now) ? s.now : Math.floor(Date.now() / 1000) });
  for (const k of Object.keys(sticky)) sticky[k] = null;
  if (!s.token) {
    sticky.token = { kind: 'info', text: 'The link you opened does not include the token (links leave it out unless asked): paste it here.' };
  }
  activeDemo = null;
  $$('#demo-list button.demo').forEach((b) => b.setAttribute('aria-pressed', 'false'));
  updateDemoNote();
  return true;
}

// ---------------------------------------------------------------------------------------
// Evaluation.

function evaluateNow() {
  delete document.body.dataset.pending;
  if (!aad) return;
  const s = readState();
  const msgs = Object.fromEntries(Object.keys(FIELDS).map((k) => [k, []]));
  const problems = [];
  const problem = (field, text) => {
    msgs[field].push({ kind: 'error', text });
    problems.push([FIELDS[field].anchor, FIELDS[field].label, text]);
  };
  for (const [k, note] of Object.entries(sticky)) if (note) msgs[k].push(note);

  // The evaluate input, as JSON text: pasted documents go in as the user wrote them.
  const members = [];

  if (s.now === null) problem('now', 'Pick a date and time.');
  else msgs.now.push({ kind: 'info', text: `${utcTime(s.now)} · Unix time ${s.now}` });

  let jwt = '';
  if (s.token.trim()) {
    try {
      jwt = aad.extractJwt(s.token);
    } catch (e) {
      problem('token', e.message);
    }
  }

  if (s.config.trim()) {
    try {
      const config = aad.parseConfig(s.config);
      members.push(`"config":${s.config}`);
      if (config.unknown_fields.length) {
        msgs.config.push({ kind: 'warn', text: `Vault ignores unknown fields: ${config.unknown_fields.join(', ')}.` });
      }
      syncCloud(config.environment);
    } catch (e) {
      problem('config', e.message);
    }
  }

  if (s.role.trim()) {
    let ok = true;
    try {
      const role = aad.parseRole(s.role);
      if (role.unknown_fields.length) {
        msgs.role.push({ kind: 'warn', text: `Vault ignores unknown fields: ${role.unknown_fields.join(', ')}.` });
      }
    } catch (e) {
      if (e.code === 'role_invalid') {
        msgs.role.push({ kind: 'warn', text: `vault write would refuse to store this role: ${e.message}` });
      } else {
        ok = false;
        problem('role', e.message);
      }
    }
    if (ok) members.push(`"role":${s.role}`);
  }

  const login = {};
  for (const k of LOGIN_FIELDS) if (s.login[k] !== '') login[k] = s.login[k];
  if (jwt) login.jwt = jwt;
  members.push(`"login":${JSON.stringify(login)}`);
  if (s.remote_addr !== '') members.push(`"remote_addr":${JSON.stringify(s.remote_addr)}`);

  if (s.arm.trim()) {
    try {
      const arm = aad.armFromPasted(s.arm);
      members.push(`"arm":${JSON.stringify(arm)}`);
      const paths = Object.keys(arm);
      msgs.arm.push({ kind: 'info', text: `Read ${paths.length} resource${paths.length === 1 ? '' : 's'}: ${paths.join(' · ')}`, id: 'arm-summary' });
    } catch (e) {
      problem('arm', e.message);
    }
  }

  if (s.keys_mode === 'decode') {
    members.push('"skip_signature":true');
    msgs.keys.push({ kind: 'warn', text: 'Decode only: the signature is not checked, so the result gives no signature verdict.' });
  } else if (s.keys.trim()) {
    // As the key endpoint served it: the core answers a bad key set as Vault would.
    members.push(`"keys":${JSON.stringify(s.keys)}`);
  } else {
    msgs.keys.push({ kind: 'warn', text: 'No key set: the signature check cannot pass. Paste the tenant\'s keys, fetch them, or choose "Decode only".' });
  }
  if (s.now !== null) members.push(`"now":${s.now}`);

  let out = null;
  if (!problems.length) {
    try {
      out = aad.evaluate(`{${members.join(',')}}`);
    } catch (e) {
      problem(fieldOf(e.field), e.message);
    }
  }

  evaluations += 1;
  renderMessages(msgs);
  $('#checks-card').hidden = !out;
  if (out) {
    renderVerdict($('#verdict'), out);
    renderChecks($('#checks'), out);
    renderArmRequests($('#arm-requests'), out);
    renderAuth($('#auth-card'), $('#auth'), out);
    announce(out.allowed ? `Allowed, HTTP ${out.status}` : `Refused, HTTP ${out.status}: ${out.error}`);
    fill($('#jump'), h('span', { 'aria-hidden': 'true' }, out.allowed ? '✓ ' : '✗ '),
      `Result: ${out.allowed ? 'allowed' : 'refused'} (HTTP ${out.status}) — jump to it`);
  } else {
    renderInputProblem($('#verdict'), problems);
    fill($('#checks'));
    fill($('#arm-requests'));
    renderAuth($('#auth-card'), $('#auth'), { auth: null });
    announce('Cannot evaluate: fix the input first.');
    fill($('#jump'), 'Result: cannot evaluate yet — jump to it');
  }

  // The decoded token, with times relative to "evaluate as of".
  if (jwt) {
    try {
      renderDecoded($('#decoded'), aad.decodeToken(jwt, s.now ?? undefined), null);
    } catch (e) {
      renderDecoded($('#decoded'), null, `The token cannot be decoded: ${e.message}`);
    }
  } else {
    renderDecoded($('#decoded'), null, null);
  }

  try {
    $('#command').textContent = aad.vaultLoginCommand({ ...login, jwt: jwt || '$JWT' }, s.mount);
  } catch (e) {
    $('#command').textContent = e.message;
  }

  updateShareLink(s);
  document.body.dataset.evaluations = String(evaluations);
}

function fieldOf(path) {
  const head = String(path || '').split('.')[0];
  if (head === 'roles') return 'role';
  if (head === 'remote_addr' || head === 'login') return 'login';
  if (head === 'skip_signature') return 'keys';
  return FIELDS[head] ? head : 'token';
}

function renderMessages(msgs) {
  for (const [field, list] of Object.entries(msgs)) {
    const el = $(`#${field}-msg`);
    if (!el) continue;
    fill(el, list.map((m) => h('p', { class: `msg ${m.kind}`, id: m.id || null },
      m.kind === 'info' ? null : h('span', { 'aria-hidden': 'true' }, m.kind === 'error' ? '✗ ' : '⚠ '),
      m.kind === 'error' ? h('span', { class: 'visually-hidden' }, 'Error: ') : null,
      m.text)));
    const invalid = list.some((m) => m.kind === 'error');
    const control = field === 'login' ? null : $(`#${FIELDS[field].anchor}`);
    if (control) {
      if (invalid) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    }
    const container = $(`#field-${field}`);
    if (container) container.classList.toggle('has-error', invalid);
  }
}

let lastAnnouncement = '';
function announce(text) {
  if (text === lastAnnouncement) return;
  lastAnnouncement = text;
  $('#live').textContent = text;
}

// ---------------------------------------------------------------------------------------
// Keys.

function syncKeysMode() {
  const decode = $('#keys-mode-decode').checked;
  $('#keys-jwks').hidden = decode;
}

function cloudUrl(environment) {
  try {
    return aad.keysUrl(environment);
  } catch {
    return null;
  }
}

function updateKeysUrl() {
  if (!aad) return;
  $('#keys-url').textContent = cloudUrl($('#cloud').value) || '';
}

/** Follows config.environment with the cloud the keys are fetched from. */
function syncCloud(environment) {
  if (environment === lastEnvironment) return;
  lastEnvironment = environment;
  const url = cloudUrl(environment);
  if (!url) return;
  for (const opt of $('#cloud').options) {
    if (cloudUrl(opt.value) === url) $('#cloud').value = opt.value;
  }
  updateKeysUrl();
}

async function fetchKeys() {
  const url = cloudUrl($('#cloud').value);
  if (!url) return;
  const button = $('#fetch-keys');
  button.disabled = true;
  sticky.keys = { kind: 'info', text: `Fetching ${url} …` };
  evaluateNow();
  try {
    const res = await fetch(url, { mode: 'cors', credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
    const text = await res.text();
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`);
    $('#keys').value = text;
    $('#keys-mode-jwks').checked = true;
    syncKeysMode();
    sticky.keys = { kind: 'info', text: `Fetched from ${url} at ${new Date().toLocaleTimeString()}.` };
  } catch (e) {
    sticky.keys = { kind: 'error', text: `Could not fetch ${url} (${e.message}). Paste the key set instead: curl -s ${url}` };
  } finally {
    button.disabled = false;
  }
  markEdited();
  evaluateNow();
}

// ---------------------------------------------------------------------------------------
// IMDS instance metadata → login fields (the core reads it as Vault's client does).

function fillFromImds() {
  const text = $('#imds').value;
  if (!text.trim()) {
    sticky.imds = null;
    return;
  }
  try {
    const login = aad.loginFromImds(text);
    const filled = [];
    for (const k of ['subscription_id', 'resource_group_name', 'vm_name', 'vmss_name']) {
      $(`#login-${k}`).value = login[k] || '';
      if (login[k]) filled.push(k);
    }
    sticky.imds = { kind: 'info', text: `Filled ${filled.join(', ')} from the metadata.`, id: 'imds-filled' };
  } catch (e) {
    sticky.imds = { kind: 'error', text: e.message };
  }
}

// ---------------------------------------------------------------------------------------
// Share and copy.

function updateShareLink(s) {
  const include = $('#share-token').checked;
  $('#share-warn').hidden = !include;
  $('#share-link').value = shareLink(s, include);
}

async function copy(button) {
  const source = $(`#${button.dataset.copy}`);
  const text = 'value' in source && source.tagName === 'INPUT' ? source.value : source.textContent;
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = 'Copied';
  } catch {
    if (source.tagName === 'INPUT') source.select();
    button.textContent = 'Press Ctrl+C';
  }
  setTimeout(() => { button.textContent = label; }, 1500);
}

// ---------------------------------------------------------------------------------------
// Events.

function markEdited() {
  if (activeDemo && !edited) {
    edited = true;
    updateDemoNote();
  }
}

function wireEvents() {
  const form = $('#inputs');
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('input', (e) => {
    if (!aad) return;
    const id = e.target.id;
    if (id === 'token') sticky.token = null;
    if (id === 'keys') sticky.keys = null;
    if (id === 'imds') fillFromImds();
    markEdited();
    document.body.dataset.pending = 'true';
    schedule();
  });
  form.addEventListener('change', (e) => {
    if (!aad) return;
    if (e.target.name === 'keys_mode') syncKeysMode();
    if (e.target.id === 'cloud') updateKeysUrl();
    markEdited();
    document.body.dataset.pending = 'true';
    schedule();
  });
  $('#fetch-keys').addEventListener('click', () => { if (aad) fetchKeys(); });
  $('#now-button').addEventListener('click', () => {
    setNow(Math.floor(Date.now() / 1000));
    markEdited();
    schedule.flush();
  });
  $('#share-token').addEventListener('change', () => { if (aad) updateShareLink(readState()); });
  for (const b of $$('button.copy')) b.addEventListener('click', () => copy(b));
  window.addEventListener('hashchange', () => {
    if (aad && restoreFromHash()) evaluateNow();
  });
}

function showBanner(text) {
  const b = $('#banner');
  b.textContent = text;
  b.hidden = false;
}

function hideBanner() {
  $('#banner').hidden = true;
}

main();
