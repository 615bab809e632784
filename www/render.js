// Renders what the core answered. Nothing here decides anything: every verdict, check,
// hint and warning comes from the WebAssembly core (evaluate, decodeToken).

import { h, fill, localTime, seconds } from './dom.js';

const OUTCOME = {
  pass: { icon: '✓', label: 'Pass' },
  fail: { icon: '✗', label: 'Fail' },
  skip: { icon: '–', label: 'Skipped' },
  not_reached: { icon: '○', label: 'Not reached' },
};

const REASON = {
  200: 'OK', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error',
};

/** The verdict as Vault answers it. */
export function renderVerdict(el, out) {
  const failed = out.checks.find((c) => c.outcome === 'fail');
  const http = `HTTP ${out.status}${REASON[out.status] ? ` ${REASON[out.status]}` : ''}`;
  const decodeOnly = out.decode_only
    ? h('p', { class: 'decode-only', id: 'decode-only-note' },
        h('span', { class: 'tag tag-attention' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), 'Decode only: no signature verdict'),
        ' The signature was not checked. This result holds only if the token really was signed by the tenant\'s key.')
    : null;
  if (out.allowed) {
    fill(el, h('div', { class: 'verdict verdict-allowed', id: 'verdict-box' },
      h('p', { class: 'verdict-head' },
        h('span', { class: 'verdict-icon', 'aria-hidden': 'true' }, '✓'),
        h('span', { class: 'verdict-word', id: 'verdict-word' }, 'Allowed'),
        h('span', { class: 'http', id: 'verdict-status' }, http)),
      h('p', { class: 'verdict-text' },
        'Vault issues a token',
        out.auth && out.auth.policies.length ? [' with policies ', joinCode(out.auth.policies)] : ' with no role policies',
        out.auth ? [' to ', h('code', {}, out.auth.display_name)] : null, '.'),
      decodeOnly));
    return;
  }
  fill(el, h('div', { class: 'verdict verdict-refused', id: 'verdict-box' },
    h('p', { class: 'verdict-head' },
      h('span', { class: 'verdict-icon', 'aria-hidden': 'true' }, '✗'),
      h('span', { class: 'verdict-word', id: 'verdict-word' }, 'Refused'),
      h('span', { class: 'http', id: 'verdict-status' }, http)),
    h('p', { class: 'verdict-label' }, 'Vault answers:'),
    h('pre', { class: 'code error-text', id: 'verdict-error', tabindex: '0', 'aria-label': 'Vault\'s error message' }, out.error ?? ''),
    failed
      ? h('div', { class: 'verdict-why' },
          h('p', {}, 'Decided by the check ', h('a', { href: `#check-${failed.id}` }, h('code', {}, failed.id)), ': ', failed.detail),
          failed.hint ? h('p', { class: 'hint', id: 'verdict-hint' }, h('strong', {}, 'How to fix: '), failed.hint) : null)
      : null,
    decodeOnly));
}

function joinCode(list) {
  const out = [];
  list.forEach((item, i) => {
    if (i) out.push(i === list.length - 1 ? ' and ' : ', ');
    out.push(h('code', {}, item));
  });
  return out;
}

/** An input problem: nothing was evaluated. */
export function renderInputProblem(el, problems) {
  fill(el, h('div', { class: 'verdict verdict-input', id: 'verdict-box' },
    h('p', { class: 'verdict-head' },
      h('span', { class: 'verdict-icon', 'aria-hidden': 'true' }, '!'),
      h('span', { class: 'verdict-word', id: 'verdict-word' }, 'Cannot evaluate yet')),
    h('p', {}, 'Fix the input first:'),
    h('ul', { class: 'problems' }, problems.map(([field, label, message]) =>
      h('li', {}, h('a', { href: `#${field}` }, label), ': ', message)))));
}

/** Every check in Vault's order. */
export function renderChecks(list, out) {
  fill(list, out.checks.map((c) => {
    const o = OUTCOME[c.outcome] || { icon: '?', label: c.outcome };
    return h('li', { class: `check check-${c.outcome}`, id: `check-${c.id}`, 'data-outcome': c.outcome },
      h('span', { class: `outcome outcome-${c.outcome}` }, h('span', { 'aria-hidden': 'true' }, `${o.icon} `), o.label),
      h('div', { class: 'check-body' },
        h('p', { class: 'check-line' }, h('code', { class: 'check-id' }, c.id), ' ', h('span', { class: 'check-detail' }, c.detail)),
        c.hint ? h('p', { class: 'hint' }, h('strong', {}, 'How to fix: '), c.hint) : null));
  }));
}

export function renderArmRequests(el, out) {
  if (!out.arm_requests.length) {
    fill(el);
    return;
  }
  fill(el, h('details', { class: 'sub' },
    h('summary', {}, `Azure resources Vault read (${out.arm_requests.length})`),
    h('ul', { class: 'paths' }, out.arm_requests.map((p) => h('li', {}, h('code', {}, p))))));
}

/** The auth block Vault returns on success. */
export function renderAuth(card, el, out) {
  const a = out.auth;
  card.hidden = !a;
  if (!a) {
    fill(el);
    return;
  }
  const ttl = (n) => (n ? `${seconds(n)} (${n} s)` : '0 (not set)');
  fill(el,
    h('dl', { class: 'facts' },
      fact('Policies', a.policies.length ? h('span', { class: 'chips' }, a.policies.map((p) => h('code', { class: 'chip' }, p))) : 'none'),
      fact('No default policy', String(a.no_default_policy)),
      fact('Display name', h('code', {}, a.display_name)),
      fact('Token type', h('code', {}, a.token_type)),
      fact('TTL', ttl(a.ttl)),
      fact('Max TTL', ttl(a.max_ttl)),
      fact('Explicit max TTL', ttl(a.explicit_max_ttl)),
      fact('Period', ttl(a.period)),
      fact('Number of uses', a.num_uses ? String(a.num_uses) : '0 (unlimited)'),
      fact('Bound CIDRs', a.bound_cidrs.length ? joinCode(a.bound_cidrs) : 'none'),
      fact('Renewable', String(a.renewable)),
      fact('Entity alias', h('code', {}, a.alias.name)),
      fact('Group aliases', a.group_aliases.length ? joinCode(a.group_aliases.map((g) => g.name)) : 'none')),
    h('h4', {}, 'Token metadata'),
    table(['key', 'value'], Object.entries(a.metadata)),
    h('h4', {}, 'Alias metadata'),
    table(['key', 'value'], Object.entries(a.alias.metadata)),
    h('details', { class: 'sub' },
      h('summary', {}, 'The auth block as JSON'),
      h('pre', { class: 'code', tabindex: '0' }, JSON.stringify(a, null, 2))));
}

function fact(name, value) {
  return [h('dt', {}, name), h('dd', {}, value)];
}

function table(headers, rows, caption, { plainKeys = false } = {}) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'group', 'aria-label': caption || headers.join(', ') },
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((cell, i) =>
        i === 0 ? h('th', { scope: 'row' }, plainKeys ? cell : h('code', {}, cell)) : h('td', {}, cell)))))));
}

const PATH_PARTS = [
  ['subscription_id', 'Subscription'],
  ['resource_group', 'Resource group'],
  ['provider', 'Provider'],
  ['resource_type', 'Type'],
  ['name', 'Name'],
  ['scale_set', 'Scale set'],
  ['kind', 'What it is'],
];

/** The decoded token with Azure explanations (decodeToken's output). */
export function renderDecoded(el, decoded, error) {
  if (error) {
    fill(el, h('p', { class: 'msg error' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), error));
    return;
  }
  if (!decoded) {
    fill(el, h('p', { class: 'muted' }, 'Paste a token to see what it says.'));
    return;
  }
  const az = decoded.azure;
  const claims = decoded.claims;
  const summary = h('dl', { class: 'facts' },
    fact('Token version', az.version ? `v${az.version}` : 'unknown'),
    az.principal_kind ? fact('Identity', az.principal_kind) : null,
    az.issuer ? fact('Issuer', [h('code', {}, az.issuer.issuer),
      az.issuer.version ? ` — v${az.issuer.version}${az.issuer.clouds.length ? `, ${az.issuer.clouds.join(' or ')}` : ''}` : '']) : null,
    az.issuer && az.issuer.tenant ? fact('Tenant', h('code', {}, az.issuer.tenant)) : null,
    claims.oid !== undefined ? fact('Object id (oid)', h('code', {}, String(claims.oid))) : null,
    claims.appid !== undefined ? fact('Client id (appid)', h('code', {}, String(claims.appid))) : null,
    claims.aud !== undefined ? fact('Audience (aud)', Array.isArray(claims.aud) ? joinCode(claims.aud.map(String)) : h('code', {}, String(claims.aud))) : null);

  const warnings = az.warnings.length
    ? h('div', { class: 'warnings', id: 'token-warnings' },
        h('h3', { class: 'sub-h' }, 'Warnings'),
        h('ul', {}, az.warnings.map((w) => h('li', {}, h('span', { 'aria-hidden': 'true' }, '⚠ '), w))))
    : null;

  const paths = [['xms_mirid', az.xms_mirid], ['xms_az_rid', az.xms_az_rid]]
    .filter(([, p]) => p)
    .map(([claim, p]) => h('div', { class: 'mirid', id: `decoded-${claim}` },
      h('h3', { class: 'sub-h' }, h('code', {}, claim), ' — ', az.claims[claim] || ''),
      h('p', { class: 'path' }, h('code', {}, String(claims[claim]))),
      table(['part', 'value'], PATH_PARTS.filter(([k]) => p[k]).map(([k, label]) => [label, p[k]]), `${claim}, split into its parts`, { plainKeys: true })));

  const times = Object.entries(az.times);
  const timeTable = times.length
    ? [h('h3', { class: 'sub-h' }, 'Times'),
       table(['claim', 'your local time', 'UTC', 'relative to "evaluate as of"'],
         times.map(([k, t]) => [k, localTime(t.unix), t.utc, t.relative || '']), 'Time claims')]
    : null;

  const opaque = new Set(az.opaque);
  const claimRows = Object.entries(claims).map(([k, v]) => [
    k,
    h('code', { class: 'value' }, typeof v === 'string' ? v : JSON.stringify(v)),
    [az.claims[k] || '', opaque.has(k) ? h('span', { class: 'tag' }, 'opaque') : null],
  ]);

  fill(el,
    summary,
    warnings,
    paths,
    timeTable,
    h('details', { class: 'sub', id: 'all-claims' },
      h('summary', {}, `All claims, with what they mean (${claimRows.length})`),
      table(['claim', 'value', 'meaning'], claimRows, 'Claims')),
    h('details', { class: 'sub' },
      h('summary', {}, 'Header and payload as JSON'),
      h('pre', { class: 'code', tabindex: '0' }, JSON.stringify({ header: decoded.header, payload: claims }, null, 2))));
}
