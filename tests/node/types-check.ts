// Compiled (not run) by check-dts.mjs with `tsc --strict`: the package's declarations give
// the contract's shapes, and no `any` leaks where the contract defines one (each
// `@ts-expect-error` fails the compile if its line stops being an error).
import init, { decodeToken, evaluate, Gateway, parseConfig, parseRole, Verifier, version } from '../../pkg/aadauth_wasm.js';
import type {
  AadauthError,
  Auth,
  Check,
  Config,
  Decoded,
  EvaluateInput,
  EvaluateOutput,
  GatewayDecision,
  GatewayOptions,
  KeyInfo,
  Outcome,
  Role,
} from '../../pkg/aadauth_wasm.js';

await init({ module_or_path: new Uint8Array() });

const input: EvaluateInput = {
  config: { tenant_id: 't', resource: 'https://management.azure.com/', environment: 'AzurePublicCloud' },
  role: { name: 'web', bound_service_principal_ids: 'a,b', bound_resource_groups: ['rg'], token_ttl: '1h' },
  login: { role: 'web', jwt: 'eyJ…', subscription_id: 's', resource_group_name: 'rg', vm_name: 'vm' },
  keys: { keys: [{ kty: 'RSA', kid: 'k', n: 'AQAB', e: 'AQAB' }] },
  arm: { '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm': { location: 'eastus' } },
  now: 1764500000,
  remote_addr: '10.0.0.4',
};
const out: EvaluateOutput = evaluate(input);
const fromText: EvaluateOutput = evaluate(JSON.stringify(input));
const allowed: boolean = out.allowed && fromText.allowed;
const status: number = out.status;
const error: string | null = out.error;
const checks: Check[] = out.checks;
const outcome: Outcome = checks[0].outcome;
const hint: string | undefined = checks[0].hint;
const auth: Auth | null = out.auth;
const ttl: number | undefined = auth?.ttl;
const policies: string[] | undefined = auth?.policies;
const arm: string[] = out.arm_requests;

const decoded: Decoded = decodeToken('Bearer eyJ…', 1764500000);
const issuer: string | undefined = decoded.azure.issuer?.tenant;
const warnings: string[] = decodeToken('eyJ…').azure.warnings;
const role: Role = parseRole({ bound_group_ids: 'g', token_policies: 'p' });
const roleTtl: number = role.token.ttl;
const config: Config = parseConfig('{"tenant_id": "t"}');
const tenant: string = config.tenant_id;
const v: string = version();

try {
  evaluate('{');
} catch (e) {
  const err = e as AadauthError;
  const code: 'input_invalid' | 'role_invalid' | 'token_undecodable' = err.code;
  const field: string = err.field;
  console.log(code, field, err.message);
}

const verifier = new Verifier({ keys: [] });
const viaKeys: EvaluateOutput = verifier.evaluate({ now: 1764500000 });
const keyInfo: KeyInfo[] = verifier.keys();
const gatewayOptions: GatewayOptions = {
  tenant_id: 't',
  audiences: ['https://management.azure.com/'],
  roles: { web: { bound_service_principal_ids: ['x'] } },
};
const gateway = new Gateway(gatewayOptions, '{"keys": []}');
const decision: GatewayDecision = gateway.check('eyJ…', 1764500000, 'web', '10.0.0.4');
const oid: string | undefined = decision.claims?.oid;
const cachedTokens: number = gateway.cachedTokens;
const maybe: GatewayDecision | undefined = gateway.checkCached(new Uint8Array(32), 1764500000, 'web');
// @ts-expect-error `check` returns a GatewayDecision, not `any`
const n5: number = gateway.check('eyJ…', 1764500000, 'web');
// @ts-expect-error the options need `tenant_id`
const badOptions: GatewayOptions = { audiences: [], roles: {} };
console.log(viaKeys, keyInfo, oid, cachedTokens, maybe, n5, badOptions);

// @ts-expect-error `now` is required
evaluate({ login: { role: 'web' } });
// @ts-expect-error the input is an object or JSON text
evaluate(42);
// @ts-expect-error the output is not `any`
const n1: number = evaluate(input);
// @ts-expect-error an outcome is one of four strings
const o1: 'passed' = checks[0].outcome;
// @ts-expect-error `decodeToken` returns a Decoded, not `any`
const n2: number = decodeToken('x');
// @ts-expect-error `parseRole` returns a Role, not `any`
const n3: number = parseRole('{}');
// @ts-expect-error `parseConfig` returns a Config, not `any`
const n4: number = parseConfig('{}');
// @ts-expect-error the jwt is a string
decodeToken(42);

console.log(allowed, status, error, outcome, hint, ttl, policies, arm, issuer, warnings, roleTtl, tenant, v, n1, o1, n2, n3, n4);
