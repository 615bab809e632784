/// <reference lib="esnext.disposable" />

// ---------------------------------------------------------------------------------------
// aadauth contract types (spec/evaluate-contract.md). Member names are the JSON members the
// Rust core reads and writes (snake_case), so documents can be passed between the
// JavaScript package, the command line and Vault unchanged.
// ---------------------------------------------------------------------------------------

/** A list field: a JSON array, or a comma-separated string (Vault's `TypeCommaStringSlice`). */
export type StringList = string[] | string;

/** Seconds, or a string of seconds or of a Go duration such as `"30m"`, `"1h30m"`, `"2d"`. */
export type Duration = number | string;

/** The decision profile. `"vault"` (the default) reproduces Vault exactly. */
export type Profile = "vault";

/** `vault read -format=json` output: the fields are under `data`. */
export interface VaultReadOutput<T> {
  data: T;
  request_id?: string;
  lease_id?: string;
  lease_duration?: number;
  renewable?: boolean;
  warnings?: string[] | null;
  [member: string]: unknown;
}

/** The body of `vault write auth/azure/config`. Unknown members are reported, not refused. */
export interface ConfigInput {
  tenant_id?: string;
  resource?: string;
  /** `AzurePublicCloud` (default), `AzureUSGovernmentCloud`, `AzureChinaCloud`, … */
  environment?: string;
  client_id?: string;
  client_secret?: string;
  max_retries?: number | string;
  retry_delay?: Duration;
  max_retry_delay?: Duration;
  root_password_ttl?: Duration;
  [member: string]: unknown;
}

/** The body of `vault write auth/azure/role/NAME`, plus an optional `name`. */
export interface RoleInput {
  /** Defaults to the login's role name. */
  name?: string;
  bound_service_principal_ids?: StringList;
  bound_group_ids?: StringList;
  bound_subscription_ids?: StringList;
  bound_resource_groups?: StringList;
  bound_locations?: StringList;
  bound_scale_sets?: StringList;
  token_policies?: StringList;
  token_ttl?: Duration;
  token_max_ttl?: Duration;
  token_explicit_max_ttl?: Duration;
  token_period?: Duration;
  token_num_uses?: number | string;
  token_no_default_policy?: boolean | string | number;
  token_bound_cidrs?: StringList;
  token_type?: TokenType;
  /** Deprecated alias of `token_policies`. */
  policies?: StringList;
  /** Deprecated alias of `token_ttl`. */
  ttl?: Duration;
  /** Deprecated alias of `token_max_ttl`. */
  max_ttl?: Duration;
  /** Deprecated alias of `token_period`. */
  period?: Duration;
  /** Deprecated alias of `token_num_uses`. */
  num_uses?: number | string;
  [member: string]: unknown;
}

/** The body of `vault write auth/azure/login`. */
export interface LoginInput {
  role?: string;
  /** The access token (a JWT). */
  jwt?: string;
  subscription_id?: string;
  resource_group_name?: string;
  vm_name?: string;
  vmss_name?: string;
  resource_id?: string;
}

/** One JSON Web Key of the tenant's key set. */
export interface Jwk {
  kty: string;
  kid?: string;
  use?: string;
  alg?: string;
  n?: string;
  e?: string;
  x5c?: string[];
  x5t?: string;
  [member: string]: unknown;
}

/** The tenant's key set, as served at its `jwks_uri`. */
export interface Jwks {
  keys: Jwk[];
}

/** An Azure Resource Manager GET response body (e.g. a VM with its `identity` and `location`). */
export interface ArmResponse {
  [member: string]: unknown;
}

/** The input of `evaluate`: everything a decision depends on, including the time. */
export interface EvaluateInput {
  /** The body of `vault write auth/azure/config`, or `vault read -format=json` output. */
  config?: ConfigInput | VaultReadOutput<ConfigInput> | null;
  /** The role, or `vault read -format=json auth/azure/role/NAME` output. */
  role?: RoleInput | VaultReadOutput<RoleInput> | null;
  /** Role name → role, instead of `role` (so that "role not found" can be tested). */
  roles?: { [name: string]: RoleInput | VaultReadOutput<RoleInput> } | null;
  /** The body of `vault write auth/azure/login`. */
  login?: LoginInput | null;
  /** The tenant's key set (an object, or the text the key endpoint served). */
  keys?: Jwks | string | null;
  /** ARM answers keyed by resource path (case-insensitive); an absent path answered 404. */
  arm?: { [path: string]: ArmResponse } | null;
  /** The evaluation time, Unix seconds. Required. */
  now: number;
  /** The caller's address, for `token_bound_cidrs`. */
  remote_addr?: string | null;
  profile?: Profile | null;
  /** Decode-only mode: do not check the signature (the output says `decode_only: true`). */
  skip_signature?: boolean | null;
}

/** How one check came out. */
export type Outcome = "pass" | "fail" | "skip" | "not_reached";

/** One check of Vault's login path, in Vault's order. */
export interface Check {
  /** Stable, dotted, lower-case name, e.g. `token.audience`. */
  id: string;
  outcome: Outcome;
  /** What was compared, in words. */
  detail: string;
  /** How to fix a failure, in one sentence. */
  hint?: string;
}

/** The alias Vault creates for the identity. */
export interface Alias {
  name: string;
  metadata: { [key: string]: string };
}

export interface GroupAlias {
  name: string;
}

export interface InternalData {
  role: string;
}

/** The `auth` block Vault returns on success. Durations are integer seconds, 0 when unset. */
export interface Auth {
  display_name: string;
  policies: string[];
  no_default_policy: boolean;
  metadata: { [key: string]: string };
  alias: Alias;
  group_aliases: GroupAlias[];
  internal_data: InternalData;
  ttl: number;
  max_ttl: number;
  explicit_max_ttl: number;
  period: number;
  num_uses: number;
  bound_cidrs: string[];
  token_type: string;
  renewable: boolean;
}

/** A token's decoded JSON payload (verified or not). */
export interface Claims {
  [claim: string]: unknown;
}

/** A token's decoded JOSE header. */
export interface JwtHeader {
  [member: string]: unknown;
}

/** The output of `evaluate`: Vault's verdict and every check, explained. */
export interface EvaluateOutput {
  allowed: boolean;
  /** 200 on success, else the HTTP status Vault answers. */
  status: number;
  /** Vault's exact message; `null` on success. */
  error: string | null;
  /** Vault's `auth` block; `null` on failure. */
  auth: Auth | null;
  /** Every check, in Vault's order. */
  checks: Check[];
  /** The decoded token payload, also when the signature fails; `null` when undecodable. */
  claims: Claims | null;
  /** The ARM paths the decision consulted, in order. */
  arm_requests: string[];
  /** The profile that decided. */
  profile: string;
  /** Present (and `true`) only when the signature was deliberately not checked. */
  decode_only?: true;
}

/** The parts of an Azure resource id named by `xms_mirid` / `xms_az_rid`. */
export interface ManagedIdentityPath {
  subscription_id: string;
  resource_group: string;
  provider: string;
  resource_type: string;
  name: string;
  /** What kind of workload the path names, e.g. `virtual machine`. */
  kind: string;
  /** For scale sets and flexible scale-set instances, the scale set's name. */
  scale_set?: string;
}

/** Who issued the token. */
export interface IssuerNote {
  issuer: string;
  /** `"1.0"` or `"2.0"`; empty when not a Microsoft Entra ID issuer. */
  version: string;
  clouds: string[];
  tenant: string;
}

/** A time claim. */
export interface TimeNote {
  unix: number;
  /** RFC 3339, UTC. */
  utc: string;
  /** Relative to `now`, when `now` was given. */
  relative?: string;
}

/** What the claims mean on Azure. */
export interface Annotations {
  /** `"1.0"` or `"2.0"`. */
  version: string | null;
  issuer: IssuerNote | null;
  /** `managed identity`, `application (service principal)`, `user`, … */
  principal_kind: string | null;
  xms_mirid: ManagedIdentityPath | null;
  xms_az_rid: ManagedIdentityPath | null;
  /** `exp`, `nbf`, `iat` and friends. */
  times: { [claim: string]: TimeNote };
  /** A short meaning of each claim present. */
  claims: { [claim: string]: string };
  /** Claims that are opaque by Microsoft's documentation. */
  opaque: string[];
  warnings: string[];
}

/** A decoded token: verifies nothing, explains what the token says. */
export interface Decoded {
  header: JwtHeader;
  claims: Claims;
  azure: Annotations;
}

/** Vault's token types. */
export type TokenType = "default-service" | "service" | "batch" | "default" | "default-batch";

/** Vault's common token parameters, durations in seconds. */
export interface TokenFields {
  policies: string[];
  ttl: number;
  max_ttl: number;
  explicit_max_ttl: number;
  period: number;
  num_uses: number;
  no_default_policy: boolean;
  bound_cidrs: string[];
  token_type: TokenType;
}

/** A role as Vault stores it (names lower-cased, lists split, durations in seconds). */
export interface Role {
  name: string;
  bound_service_principal_ids: string[];
  bound_group_ids: string[];
  bound_subscription_ids: string[];
  bound_resource_groups: string[];
  bound_locations: string[];
  bound_scale_sets: string[];
  token: TokenFields;
  /** Members Vault would ignore with a warning ("unrecognized parameters"). */
  unknown_fields: string[];
}

/** The auth method's configuration as Vault reads it (secrets are never echoed). */
export interface Config {
  tenant_id: string;
  resource: string;
  environment: string;
  max_retries: number;
  retry_delay: number;
  max_retry_delay: number;
  root_password_ttl: number;
  /** Members Vault would ignore, e.g. a misspelt `tenantid`. */
  unknown_fields: string[];
}

/** A key of a loaded key set (`Verifier.keys()`). */
export interface KeyInfo {
  kid: string | null;
  kty: string;
  /** Modulus size for RSA keys. */
  bits: number | null;
  /** Whether the key can verify tokens. */
  usable: boolean;
  /** Why it cannot, when it cannot. */
  reason?: string;
}

/** The settings of a `Gateway` (the `gateway` profile, as the Envoy filter decides). */
export interface GatewayOptions {
  /** The tenant's GUID (token issuers name it). Required. */
  tenant_id: string;
  /** The Azure cloud: `AzurePublicCloud` (default), `AzureUSGovernmentCloud`, `AzureChinaCloud`. */
  environment?: string | null;
  /** Accepted audiences (exact). Required: e.g. `["https://management.azure.com/"]`. */
  audiences: string[];
  /** Accepted token versions, default `["v1"]`. */
  token_versions?: ("v1" | "v2")[] | null;
  /** Applied to `exp` and `nbf`; default 60. */
  clock_skew_seconds?: number | null;
  /** Verified tokens remembered (0 to 100000, default 1000). */
  cache_size?: number | null;
  /** The claims each decision returns (token claims, or `subscription_id`, `resource_group`, `scale_set`, `resource_name` read from the resource id); default `["oid", "appid", "tid"]`. */
  claims?: string[] | null;
  /** Role name → Vault role. Required. */
  roles: { [name: string]: RoleInput | VaultReadOutput<RoleInput> };
}

/** What `Gateway.check` decided. */
export interface GatewayDecision {
  allowed: boolean;
  /** 200 allowed; 401 bad or missing token; 403 refused by the role; 500 a role the gateway cannot use. */
  status: number;
  /** The check that refused (`token.expiry`, `bindings.service_principal`); `""` when allowed. */
  check: string;
  /** Why; `""` when allowed. */
  message: string;
  /** The token came from the verified-token cache (no signature verification ran). */
  cached: boolean;
  /** No key of the set could be tried: load the key set again (`setKeys`). */
  unknown_key: boolean;
  /** The claims the options name (default `oid`, `appid`, `tid`) of a verified token, also when the role refused it; absent when the token was refused. */
  claims?: { [claim: string]: string };
}

/** `code` of the errors this package throws. */
export type AadauthErrorCode = "input_invalid" | "role_invalid" | "token_undecodable";

/**
 * What every function of this package throws: an `Error` (`instanceof Error`) whose `name`
 * is `AadauthInputError`, `AadauthRoleError` or `AadauthDecodeError`.
 */
export interface AadauthError extends Error {
  name: "AadauthInputError" | "AadauthRoleError" | "AadauthDecodeError";
  /** `input_invalid`: the document is malformed; `role_invalid`: Vault would refuse to store the role; `token_undecodable`: the text is not a JWT. */
  code: AadauthErrorCode;
  /** Dotted path of the offending member (`now`, `role.token_ttl`, `input`, `jwt`). */
  field: string;
}
