// Checks pkg/aadauth_wasm.d.ts: the exported functions are typed with the contract's
// interfaces (no `any`), and a TypeScript program using them compiles under --strict
// (types-check.ts; needs `npm install` in tests/node).
//
//   node tests/node/check-dts.mjs
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const dts = readFileSync(new URL('../../pkg/aadauth_wasm.d.ts', import.meta.url), 'utf8');
const problems = [];

const want = {
  evaluate: 'export function evaluate(input: EvaluateInput | string): EvaluateOutput;',
  decodeToken: 'export function decodeToken(jwt: string, now?: number | null): Decoded;',
  parseRole: 'export function parseRole(json: RoleInput | VaultReadOutput<RoleInput> | string): Role;',
  parseConfig: 'export function parseConfig(json: ConfigInput | VaultReadOutput<ConfigInput> | string): Config;',
  version: 'export function version(): string;',
};
for (const [name, line] of Object.entries(want)) {
  if (!dts.includes(line)) problems.push(`${name}: expected the declaration ${line}`);
}
for (const line of dts.split('\n')) {
  if (/^export function /.test(line) && /\bany\b/.test(line)) problems.push(`\`any\` in: ${line.trim()}`);
}
for (const iface of ['EvaluateInput', 'EvaluateOutput', 'Check', 'Auth', 'Decoded', 'Role', 'Config', 'AadauthError']) {
  if (!new RegExp(`export interface ${iface}\\b`).test(dts)) problems.push(`no interface ${iface}`);
}
// Between the custom section's first line and the generated init types, no `any` at all.
const custom = dts.slice(dts.indexOf('aadauth contract types'));
const anyLine = custom.split('\n').find((l) => /\bany\b/.test(l.replace(/\/\*\*.*|^\s*\*.*/, '')) && !/readonly |InitInput|InitOutput|SyncInitInput|initSync|module_or_path/.test(l));
if (anyLine) problems.push(`\`any\` in the contract types: ${anyLine.trim()}`);

const tsc = `${here}node_modules/typescript/bin/tsc`;
if (!existsSync(tsc)) {
  problems.push('typescript is not installed: run `npm install` in tests/node');
} else {
  try {
    execFileSync(
      process.execPath,
      [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
        // No esnext.disposable here: the .d.ts references the lib itself (its classes
        // declare [Symbol.dispose]), so a project on plain es2022 compiles against it.
        '--lib', 'es2022,dom', 'types-check.ts'],
      { cwd: here, encoding: 'utf8', stdio: 'pipe' },
    );
  } catch (e) {
    problems.push(`tsc --strict types-check.ts failed:\n${e.stdout}${e.stderr}`);
  }
}

if (problems.length) {
  console.error(`pkg/aadauth_wasm.d.ts:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('ok: .d.ts declares the contract types, no `any` in the API, types-check.ts compiles under --strict');
