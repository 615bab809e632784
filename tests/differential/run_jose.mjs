// Runner (b): the npm `jose` library's verdict on each case of cases.json.
//
// Settings chosen to match what Vault enforces (spec/vault-azure-login.md §3.2, §3.3):
// - key set: createLocalJWKSet(base input's JWKS). With a kid, only keys with that kid are
//   candidates. Without one, jose throws JWKSMultipleMatchingKeys, whose async iterator
//   yields each candidate key: the runner tries them in turn (jose's documented pattern),
//   as go-oidc tries every key of the set when the token has no kid.
// - algorithms: ['RS256'] (Vault accepts RS256 only).
// - issuer: the base token's expected issuer (https://sts.windows.net/{tenant_id}/), exact.
// - audience: config.resource, exact, a string or an array containing it.
// - currentDate: new Date(now * 1000), the case's evaluation time.
// - clockTolerance: 0. Vault's effective leeway is 0 for both exp (go-oidc) and nbf: go-oidc
//   allows 5 minutes on nbf, but the Azure plugin then re-checks nbf with none, so a token
//   is refused whenever nbf > now. (jose's exp boundary differs: it refuses exp == now,
//   Vault accepts it; see REPORT.md.)
// - requiredClaims: ['exp', 'iss', 'aud']: a token without exp is expired for Vault
//   (go-oidc reads it as 0001-01-01); iss and aud must match.
// - iat: not compared (no maxTokenAge), as in Vault; jose still type-checks it.
//
// Usage: node run_jose.mjs CASES.json BASE_VECTOR.json OUT.json
import { readFileSync, writeFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [casesPath, basePath, outPath] = process.argv.slice(2);
const corpus = JSON.parse(readFileSync(casesPath, 'utf8'));
const base = JSON.parse(readFileSync(basePath, 'utf8')).input;
const env = base.config.environment || 'AzurePublicCloud';
if (env !== 'AzurePublicCloud') throw new Error(`unexpected environment ${env}`);
const issuer = `https://sts.windows.net/${base.config.tenant_id}/`;
const audience = base.config.resource;
const keys = createLocalJWKSet(base.keys);

async function verify(token, now) {
  const options = {
    algorithms: ['RS256'],
    issuer,
    audience,
    currentDate: new Date(now * 1000),
    clockTolerance: 0,
    requiredClaims: ['exp', 'iss', 'aud'],
  };
  try {
    return await jwtVerify(token, keys, options);
  } catch (e) {
    if (e?.code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw e;
    let last = e;
    for await (const key of e) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        if (inner?.code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw inner;
        last = inner;
      }
    }
    throw last;
  }
}

const verdicts = {};
for (const c of corpus.cases) {
  try {
    await verify(c.token, c.now);
    verdicts[c.name] = { verdict: 'accept', detail: 'verified' };
  } catch (e) {
    verdicts[c.name] = { verdict: 'refuse', detail: `${e.code || e.name}: ${e.message}` };
  }
}
const version = JSON.parse(readFileSync(new URL('./node_modules/jose/package.json', import.meta.url), 'utf8')).version;
writeFileSync(outPath, JSON.stringify({ runner: 'jose', version, verdicts }, null, 1));
const accepted = Object.values(verdicts).filter((v) => v.verdict === 'accept').length;
console.log(`jose ${version}: ${Object.keys(verdicts).length} cases, ${accepted} accepted`);
