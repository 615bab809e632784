//! # aadauth-wasm
//!
//! The aadauth core for browsers and Node, built with wasm-bindgen into `pkg/` by
//! `scripts/build-wasm.sh`. JavaScript gets plain objects in and out:
//!
//! - `evaluate(input)`: the `evaluate` contract (`spec/evaluate-contract.md`); the output is
//!   the same JSON document as [`aadauth::evaluate_json`] gives natively.
//! - `decodeToken(jwt, now?)`: [`aadauth::decode_token`].
//! - `parseRole(json)`, `parseConfig(json)`: [`aadauth::Role`], [`aadauth::Config`] as Vault
//!   reads them.
//! - `version()`: the crate version.
//! - `new Verifier(jwks)`: a key set loaded once; `verifier.evaluate(input)` without `keys`
//!   ([`LoadedKeys`]).
//! - `new Gateway(settings, jwks)`: the `gateway` profile with a verified-token cache;
//!   `gateway.check(token, now, role, remoteAddr?)` ([`GatewayState`], over
//!   [`aadauth::Gate`]).
//!
//! Failures are thrown as `Error`s with `code` and `field` properties (see [`ErrorCode`]).
//! The module imports nothing but wasm-bindgen glue and `JSON`: no network, clock,
//! randomness or DOM.
//!
//! The functions without JavaScript types ([`evaluate_text`], [`decode_text`],
//! [`parse_role_text`], [`parse_config_text`]) are what the exports run; they work natively
//! too, which is how the tests compare this crate with the core.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use aadauth::fields::FieldError;
use aadauth::{Config, InputError, Role};
use wasm_bindgen::prelude::*;

mod paste;

/// The TypeScript declarations of the contract types (`src/types.d.ts`), appended to the
/// generated `.d.ts`.
pub const TYPESCRIPT_TYPES: &str = include_str!("types.d.ts");

#[wasm_bindgen(typescript_custom_section)]
const TS_APPEND: &str = TYPESCRIPT_TYPES;

/// What kind of failure an error reports (its `code` in JavaScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The document is not valid JSON, or a member has the wrong type or is missing.
    InputInvalid,
    /// `vault write` would refuse to store the role (status 400).
    RoleInvalid,
    /// The text is not a decodable token.
    TokenUndecodable,
}

impl ErrorCode {
    /// The `code` property in JavaScript.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InputInvalid => "input_invalid",
            ErrorCode::RoleInvalid => "role_invalid",
            ErrorCode::TokenUndecodable => "token_undecodable",
        }
    }
}

/// An error as the JavaScript functions throw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// Dotted path of the offending member (`now`, `role.token_ttl`, `input`, `jwt`).
    pub field: String,
    /// The `Error`'s message: `field: what is wrong`, or for `role_invalid` exactly the
    /// message `vault write` answers.
    pub message: String,
}

impl ApiError {
    fn input(field: impl Into<String>, message: impl std::fmt::Display) -> ApiError {
        let field = field.into();
        ApiError {
            code: ErrorCode::InputInvalid,
            message: format!("{field}: {message}"),
            field,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        ApiError::input(e.field, e.message)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::input(e.field, e.message)
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    // Cannot fail for these types (every map key is a string); named for completeness.
    serde_json::to_string(value).map_err(|e| ApiError::input("output", e))
}

/// Parses a document, naming `field` (not `input`) when it is not JSON.
fn parse_document(text: &[u8], field: &str) -> Result<serde_json::Value, ApiError> {
    aadauth::contract::parse_input(text).map_err(|e| ApiError::input(field, e.message))
}

/// `evaluate` on JSON text: the output document as JSON text, exactly what
/// `serde_json::to_string(&aadauth::evaluate_json(input)?)` gives.
pub fn evaluate_text(input: &[u8]) -> Result<String, ApiError> {
    let out = aadauth::evaluate_json(input)?;
    to_json(&out)
}

/// `decodeToken`: the [`aadauth::Decoded`] of a raw JWT, `Bearer <jwt>`, an
/// `Authorization:` line or the IMDS token response, as JSON text.
pub fn decode_text(jwt: &str, now: Option<i64>) -> Result<String, ApiError> {
    let decoded = aadauth::decode_token(jwt, now).map_err(|e| ApiError {
        code: ErrorCode::TokenUndecodable,
        field: "jwt".into(),
        message: format!("jwt: {e}"),
    })?;
    to_json(&decoded)
}

/// `parseRole`: the role as Vault stores it, as JSON text; a role Vault would refuse to
/// store is a [`ErrorCode::RoleInvalid`] error with Vault's message.
pub fn parse_role_text(text: &[u8]) -> Result<String, ApiError> {
    let doc = parse_document(text, "role")?;
    let role = Role::from_json(&doc, "")?;
    if let Some(message) = role.write_error() {
        return Err(ApiError {
            code: ErrorCode::RoleInvalid,
            field: "role".into(),
            message: message.to_string(),
        });
    }
    to_json(&role)
}

/// `parseConfig`: the config as Vault reads it, as JSON text.
pub fn parse_config_text(text: &[u8]) -> Result<String, ApiError> {
    let doc = parse_document(text, "config")?;
    let config = Config::from_json(&doc)?;
    to_json(&config)
}

/// A key set loaded once for repeated `evaluate` calls ([`Verifier`] in JavaScript).
#[derive(Debug, Clone)]
pub struct LoadedKeys(aadauth::KeySet);

impl LoadedKeys {
    /// Reads a JWKS document (`{"keys": [...]}`) given as JSON text.
    pub fn from_text(jwks: &[u8]) -> Result<LoadedKeys, ApiError> {
        let doc = parse_document(jwks, "keys")?;
        aadauth::KeySet::from_jwks(&doc)
            .map(LoadedKeys)
            .map_err(|e| ApiError::input("keys", e))
    }

    /// `evaluate` with these keys (the input must have no `keys`), as JSON text.
    pub fn evaluate_text(&self, input: &[u8]) -> Result<String, ApiError> {
        to_json(&aadauth::evaluate_json_with_keys(input, &self.0)?)
    }

    /// A summary of each key (kid, type, size, usable and why not), as JSON text.
    pub fn info_text(&self) -> Result<String, ApiError> {
        to_json(&self.0.info())
    }
}

/// A gateway's decision state ([`Gateway`] in JavaScript): the core's [`aadauth::Gate`]
/// (verifier, prepared keys, verified-token cache) and the roles it admits for.
#[derive(Debug, Clone)]
pub struct GatewayState {
    gate: aadauth::Gate,
    roles: std::collections::BTreeMap<String, Role>,
}

/// The claims a `Gateway` returns when its settings name none.
pub const DEFAULT_GATEWAY_CLAIMS: [&str; 3] = ["oid", "appid", "tid"];

/// The role named `name` (case-insensitive; role names are stored lower-cased), without
/// an allocation for a name already in lower case.
fn find_role<'a>(
    roles: &'a std::collections::BTreeMap<String, Role>,
    name: &str,
) -> Option<&'a Role> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) || !name.is_ascii() {
        roles.get(&name.to_lowercase())
    } else {
        roles.get(name)
    }
}

/// The decision for a role the gateway does not have (500, as in the filter).
fn no_role(role: &str) -> aadauth::GateDecision {
    aadauth::GateDecision {
        allowed: false,
        status: 500,
        check: "role.exists".into(),
        message: format!("no role named {}", aadauth::gocompat::quote(role)),
        cached: false,
        unknown_key: false,
        claims: None,
    }
}

/// The members of a `Gateway`'s settings.
const GATEWAY_SETTINGS: [&str; 8] = [
    "tenant_id",
    "environment",
    "audiences",
    "token_versions",
    "clock_skew_seconds",
    "cache_size",
    "claims",
    "roles",
];

/// The largest `cache_size` (the filter's `jwt_cache_size` ceiling).
pub const MAX_CACHE_SIZE: u64 = 100_000;

impl GatewayState {
    /// Builds the state from the settings and the JWKS, both JSON text.
    pub fn from_text(settings: &[u8], jwks: &[u8]) -> Result<GatewayState, ApiError> {
        let doc = parse_document(settings, "settings")?;
        let obj = doc
            .as_object()
            .ok_or_else(|| ApiError::input("settings", "expected a JSON object"))?;
        if let Some(k) = obj.keys().find(|k| !GATEWAY_SETTINGS.contains(&k.as_str())) {
            return Err(ApiError::input(
                k.clone(),
                format!("unknown member (known: {})", GATEWAY_SETTINGS.join(", ")),
            ));
        }
        let text = |name: &str| -> Result<String, ApiError> {
            match obj.get(name) {
                None | Some(serde_json::Value::Null) => Ok(String::new()),
                Some(serde_json::Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(ApiError::input(name, "must be a string")),
            }
        };
        let cloud = match text("environment")?.as_str() {
            "" => aadauth::Cloud::AzurePublicCloud,
            name => aadauth::Cloud::from_environment(name)
                .map_err(|e| ApiError::input("environment", e))?,
        };
        let mut profile = serde_json::Map::new();
        for k in ["audiences", "token_versions", "clock_skew_seconds"] {
            if let Some(v) = obj.get(k) {
                profile.insert(k.to_string(), v.clone());
            }
        }
        let settings = aadauth::gateway::GatewaySettings::from_json(
            &serde_json::Value::Object(profile),
            "settings",
        )
        .map_err(|e| ApiError::input(e.field.trim_start_matches("settings."), e.message))?;
        let verifier = aadauth::gateway::Verifier::new(&text("tenant_id")?, cloud, &settings, "")
            .map_err(|e| ApiError::input(e.field, e.message))?;
        let cache_size = match obj.get("cache_size") {
            None | Some(serde_json::Value::Null) => 1000,
            Some(v) => match v.as_u64() {
                Some(n) if n <= MAX_CACHE_SIZE => n as usize,
                _ => {
                    return Err(ApiError::input(
                        "cache_size",
                        format!("must be a whole number from 0 to {MAX_CACHE_SIZE}"),
                    ))
                }
            },
        };
        let wanted = match obj.get("claims") {
            None | Some(serde_json::Value::Null) => DEFAULT_GATEWAY_CLAIMS
                .iter()
                .map(|c| c.to_string())
                .collect(),
            Some(v) => {
                let mut list = aadauth::fields::string_list("claims", v)?;
                let mut seen = std::collections::BTreeSet::new();
                list.retain(|c| seen.insert(c.clone()));
                list
            }
        };
        let roles = aadauth::gateway::parse_roles(
            obj.get("roles").unwrap_or(&serde_json::Value::Null),
            "roles",
        )?;
        if roles.is_empty() {
            return Err(ApiError::input(
                "roles",
                "required: an object of role name → Vault role",
            ));
        }
        let keys = LoadedKeys::from_text(jwks)?.0;
        Ok(GatewayState {
            gate: aadauth::Gate::new(verifier, keys, cache_size, wanted),
            roles,
        })
    }

    /// Decides one request (see [`aadauth::Gate::check`]) for a raw token or
    /// `Bearer <token>`; an unknown role is a 500 decision, as in the filter.
    pub fn check(
        &mut self,
        token: &str,
        now: i64,
        role: &str,
        remote_addr: Option<&str>,
    ) -> aadauth::GateDecision {
        let token = token.trim();
        let token = match token.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("bearer ") => token[7..].trim_start(),
            _ => token,
        };
        match find_role(&self.roles, role) {
            Some(r) => self.gate.check(token, now, r, remote_addr),
            None => no_role(role),
        }
    }

    /// [`aadauth::Gate::check_cached`] for a token known by its SHA-256 (32 bytes):
    /// `Ok(None)` when the token must be checked with [`GatewayState::check`].
    pub fn check_cached(
        &mut self,
        sha256: &[u8],
        now: i64,
        role: &str,
        remote_addr: Option<&str>,
    ) -> Result<Option<aadauth::GateDecision>, ApiError> {
        let digest: [u8; 32] = sha256.try_into().map_err(|_| {
            ApiError::input(
                "sha256",
                format!(
                    "must be the 32 bytes of the token's SHA-256, got {} bytes",
                    sha256.len()
                ),
            )
        })?;
        let key = aadauth::cache::CacheKey(digest);
        Ok(match find_role(&self.roles, role) {
            Some(r) => self.gate.check_cached(&key, now, r, remote_addr),
            None => Some(no_role(role)),
        })
    }

    /// Replaces the key set (JWKS JSON text) after a rotation.
    pub fn set_keys_text(&mut self, jwks: &[u8]) -> Result<(), ApiError> {
        self.gate.set_keys(LoadedKeys::from_text(jwks)?.0);
        Ok(())
    }

    /// Tokens in the verified-token cache.
    pub fn cached_tokens(&self) -> usize {
        self.gate.cached_tokens()
    }
}

// ----------------------------------------------------------------------------------------
// JavaScript side.

#[wasm_bindgen(inline_js = r#"
class AadauthError extends Error {
  constructor(name, code, field, message) {
    super(message);
    Object.defineProperty(this, 'name', { value: name, writable: true, configurable: true });
    this.code = code;
    this.field = field;
  }
}
class AadauthInputError extends AadauthError {
  constructor(field, message) { super('AadauthInputError', 'input_invalid', field, message); }
}
class AadauthRoleError extends AadauthError {
  constructor(field, message) { super('AadauthRoleError', 'role_invalid', field, message); }
}
class AadauthDecodeError extends AadauthError {
  constructor(field, message) { super('AadauthDecodeError', 'token_undecodable', field, message); }
}
export function aadauthError(code, field, message) {
  if (code === 'role_invalid') return new AadauthRoleError(field, message);
  if (code === 'token_undecodable') return new AadauthDecodeError(field, message);
  return new AadauthInputError(field, message);
}
export function jsonText(value, field) {
  if (typeof value === 'string') return value;
  let text;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new AadauthInputError(field, `${field}: not representable as JSON: ${e && e.message ? e.message : e}`);
  }
  if (text === undefined) {
    throw new AadauthInputError(field, `${field}: expected a JSON object or JSON text, got ${typeof value}`);
  }
  return text;
}
export function parseJson(text) {
  return JSON.parse(text);
}
const utf8 = new TextEncoder();
export function stringUnits(value) {
  return typeof value === 'string' ? value.length : undefined;
}
export function stringInto(value, memory, ptr, capacity) {
  return utf8.encodeInto(value, new Uint8Array(memory.buffer, ptr, capacity)).written;
}
export function digestInto(value, memory, ptr) {
  if (!(value instanceof Uint8Array)) return -1;
  if (value.length !== 32) return value.length;
  new Uint8Array(memory.buffer, ptr, 32).set(value);
  return 32;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = aadauthError)]
    fn js_error(code: &str, field: &str, message: &str) -> JsValue;

    #[wasm_bindgen(js_name = jsonText, catch)]
    fn js_json_value(value: &JsValue, field: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = stringUnits)]
    fn js_string_units(value: &JsValue) -> Option<u32>;

    #[wasm_bindgen(js_name = stringInto)]
    fn js_string_into(value: &JsValue, memory: &JsValue, ptr: u32, capacity: u32) -> u32;

    #[wasm_bindgen(js_name = parseJson, catch)]
    fn js_parse_json(text: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = digestInto)]
    fn js_digest_into(value: &JsValue, memory: &JsValue, ptr: u32) -> i32;
}

/// A SHA-256 argument: exactly a `Uint8Array` (a Node `Buffer` is one) of 32 bytes, copied
/// straight into a local array. Anything else is an `AadauthInputError` naming `sha256`:
/// a hex or base64 string, an array of numbers, `null`.
fn js_digest(value: &JsValue) -> Result<[u8; 32], JsValue> {
    let mut digest = [0u8; 32];
    let ptr = u32::try_from(digest.as_mut_ptr() as usize)
        .map_err(|_| ApiError::input("sha256", "no address for the digest"))?;
    match js_digest_into(value, &wasm_bindgen::memory(), ptr) {
        32 => Ok(digest),
        -1 => Err(ApiError::input(
            "sha256",
            "expected the 32 bytes of the token's SHA-256 as a Uint8Array or Buffer (not a string or an array)",
        )
        .into()),
        n => Err(ApiError::input(
            "sha256",
            format!("must be the 32 bytes of the token's SHA-256, got {n} bytes"),
        )
        .into()),
    }
}

#[wasm_bindgen]
extern "C" {
    /// An optional string parameter as TypeScript sees it (`name?: string | null`), taken
    /// as a plain JavaScript value and checked by [`js_optional_string_arg`].
    #[wasm_bindgen(typescript_type = "string")]
    pub type OptionalString;
}

/// Strings up to this many UTF-16 units are copied by [`js_string`]'s fast path (a scratch
/// buffer of three bytes per unit); longer ones take wasm-bindgen's own copy.
const FAST_COPY_UNITS: usize = 1 << 20;

/// A JavaScript string as UTF-8 in WebAssembly memory; `None` when `value` is not a
/// string.
///
/// Why not a `&str` parameter: wasm-bindgen copies a string in with a JavaScript loop, one
/// `charCodeAt` per character, which costs about 4 ns a character in Node 20: 5 µs for a
/// managed-identity token, more than the rest of a cached `Gateway.check`. `TextEncoder`'s
/// `encodeInto` copies the same 1.4 KB in about 0.4 µs. Lone surrogates become U+FFFD, as
/// with wasm-bindgen.
fn js_string(value: &JsValue) -> Option<String> {
    let units = js_string_units(value)? as usize;
    if units > FAST_COPY_UNITS {
        return value.as_string();
    }
    let mut buf = vec![0u8; units * 3];
    let capacity = u32::try_from(buf.len()).ok()?;
    let ptr = buf.as_mut_ptr() as usize;
    let written = js_string_into(
        value,
        &wasm_bindgen::memory(),
        u32::try_from(ptr).ok()?,
        capacity,
    );
    buf.truncate(written as usize);
    String::from_utf8(buf).ok().or_else(|| value.as_string())
}

/// A string argument: wasm-bindgen's `&str` and `String` parameters trust the JavaScript
/// caller, and given a number or an object its glue traps ("memory access out of bounds")
/// instead of throwing; taking a `JsValue` turns that into an `AadauthInputError` naming
/// the parameter.
pub(crate) fn js_string_arg(value: &JsValue, field: &str) -> Result<String, JsValue> {
    js_string(value).ok_or_else(|| ApiError::input(field, "expected a string").into())
}

/// An optional string argument (`undefined` and `null` are `None`), as [`js_string_arg`].
pub(crate) fn js_optional_string_arg(
    value: Option<&JsValue>,
    field: &str,
) -> Result<Option<String>, JsValue> {
    match value {
        None => Ok(None),
        Some(v) if v.is_undefined() || v.is_null() => Ok(None),
        Some(v) => js_string_arg(v, field).map(Some),
    }
}

/// The JSON text of `value`: a string is taken as JSON text, anything else is
/// `JSON.stringify`-ed (an `AadauthInputError` naming `field` when that fails).
fn js_json_text(value: &JsValue, field: &str) -> Result<String, JsValue> {
    let text = js_json_value(value, field)?;
    js_string(&text)
        .ok_or_else(|| ApiError::input(field, "expected a JSON object or JSON text").into())
}

impl From<ApiError> for JsValue {
    fn from(e: ApiError) -> JsValue {
        js_error(e.code.as_str(), &e.field, &e.message)
    }
}

/// Runs `f` on the JSON text of `value` (a string is taken as JSON text, anything else is
/// `JSON.stringify`-ed) and returns its JSON output as a plain object.
fn json_call(
    value: &JsValue,
    field: &str,
    f: impl FnOnce(&[u8]) -> Result<String, ApiError>,
) -> Result<JsValue, JsValue> {
    let text = js_json_text(value, field)?;
    let out = f(text.as_bytes())?;
    js_parse_json(&out)
}

/// Decides a Vault Azure login exactly as Vault's Azure auth method does, with every check
/// explained (the `evaluate` contract).
///
/// Everything the decision depends on is in the input, including the time (`now`, Unix
/// seconds): the same input always gives the same output. A login that Vault refuses is a
/// normal result with `allowed: false`.
///
/// Throws an `AadauthError` with `code: "input_invalid"` and `field` naming the member when
/// the input is not valid JSON, lacks `now`, or has a member of the wrong type.
#[wasm_bindgen(unchecked_return_type = "EvaluateOutput")]
pub fn evaluate(
    #[wasm_bindgen(
        unchecked_param_type = "EvaluateInput | string",
        param_description = "the input document, as an object or as JSON text"
    )]
    input: JsValue,
) -> Result<JsValue, JsValue> {
    json_call(&input, "input", evaluate_text)
}

/// Decodes a token and explains what it says on Azure (its version, cloud and tenant, what
/// `xms_mirid` names, its times, warnings about Vault pitfalls). Verifies nothing.
///
/// Accepts a raw JWT, `Bearer <jwt>`, an `Authorization:` header line, or the JSON the
/// Instance Metadata Service answered (`{"access_token": …}`). With `now` (Unix seconds),
/// times are also given relative to it and an expired token is flagged; the package reads
/// no clock of its own.
///
/// Throws an `AadauthError` with `code: "token_undecodable"` and `field: "jwt"` when the
/// text is not a JWT.
#[wasm_bindgen(js_name = decodeToken, unchecked_return_type = "Decoded")]
pub fn decode_token(
    #[wasm_bindgen(
        unchecked_param_type = "string",
        param_description = "the token, `Bearer <token>`, or the IMDS JSON response"
    )]
    jwt: JsValue,
    #[wasm_bindgen(param_description = "the current time in Unix seconds, for relative times")]
    now: Option<f64>,
) -> Result<JsValue, JsValue> {
    let Some(jwt) = js_string(&jwt) else {
        return Err(ApiError::input("jwt", "expected a string").into());
    };
    let now = match now {
        None => None,
        Some(f) if f.is_finite() && f.abs() < 9.2e18 => Some(f.trunc() as i64),
        Some(_) => {
            return Err(ApiError::input("now", "must be Unix seconds (a finite number)").into())
        }
    };
    let out = decode_text(&jwt, now)?;
    js_parse_json(&out)
}

/// Reads a role as Vault stores it: the body of `vault write auth/azure/role/NAME`, or the
/// JSON `vault read -format=json auth/azure/role/NAME` printed. Lists may be comma strings,
/// durations Go durations; the result has lists, seconds and a lower-cased name (`""` when
/// the document has no `name`).
///
/// Throws an `AadauthError` with `code: "role_invalid"` and exactly the message
/// `vault write` answers when Vault would refuse to store the role, and one with
/// `code: "input_invalid"` when a member cannot be read.
#[wasm_bindgen(js_name = parseRole, unchecked_return_type = "Role")]
pub fn parse_role(
    #[wasm_bindgen(
        unchecked_param_type = "RoleInput | VaultReadOutput<RoleInput> | string",
        param_description = "the role, as an object or as JSON text"
    )]
    json: JsValue,
) -> Result<JsValue, JsValue> {
    json_call(&json, "role", parse_role_text)
}

/// Reads the auth method's configuration: the body of `vault write auth/azure/config`, or
/// the JSON `vault read -format=json auth/azure/config` printed. A missing `tenant_id` or
/// `resource` is not an error here (Vault accepts such a config and fails at login).
///
/// Throws an `AadauthError` with `code: "input_invalid"` when a member cannot be read.
#[wasm_bindgen(js_name = parseConfig, unchecked_return_type = "Config")]
pub fn parse_config(
    #[wasm_bindgen(
        unchecked_param_type = "ConfigInput | VaultReadOutput<ConfigInput> | string",
        param_description = "the config, as an object or as JSON text"
    )]
    json: JsValue,
) -> Result<JsValue, JsValue> {
    json_call(&json, "config", parse_config_text)
}

/// Unix seconds from a JavaScript number.
fn unix_seconds(now: f64) -> Result<i64, JsValue> {
    if now.is_finite() && now.abs() < 9.2e18 {
        Ok(now.trunc() as i64)
    } else {
        Err(ApiError::input("now", "must be Unix seconds (a finite number)").into())
    }
}

/// A key set loaded once, for many `evaluate` calls: the keys are parsed once and each is
/// prepared for verification on first use, as jose's `createLocalJWKSet` does, instead of
/// on every call.
#[wasm_bindgen]
pub struct Verifier {
    keys: LoadedKeys,
}

#[wasm_bindgen]
impl Verifier {
    /// Loads the tenant's key set. Throws an `AadauthError` (`input_invalid`, field `keys`)
    /// when it is not a JWKS document.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(
            unchecked_param_type = "Jwks | string",
            param_description = "the JWKS, as an object or as JSON text"
        )]
        jwks: JsValue,
    ) -> Result<Verifier, JsValue> {
        let text = js_json_text(&jwks, "keys")?;
        Ok(Verifier {
            keys: LoadedKeys::from_text(text.as_bytes())?,
        })
    }

    /// `evaluate` with this key set; the input must have no `keys` member. Same output as
    /// `evaluate` with the keys in the input.
    #[wasm_bindgen(unchecked_return_type = "EvaluateOutput")]
    pub fn evaluate(
        &self,
        #[wasm_bindgen(
            unchecked_param_type = "EvaluateInput | string",
            param_description = "the input document without `keys`, as an object or as JSON text"
        )]
        input: JsValue,
    ) -> Result<JsValue, JsValue> {
        json_call(&input, "input", |t| self.keys.evaluate_text(t))
    }

    /// Each key of the set: kid, type, size, and whether it can verify tokens.
    #[wasm_bindgen(unchecked_return_type = "KeyInfo[]")]
    pub fn keys(&self) -> Result<JsValue, JsValue> {
        js_parse_json(&self.keys.info_text()?)
    }
}

/// A gateway's decisions in JavaScript: Vault-style role bindings from the token alone
/// (the `gateway` profile, as the Envoy filter decides), with the keys prepared once and a
/// bounded cache of verified tokens, so that a repeated token costs a hash and a lookup.
#[wasm_bindgen]
pub struct Gateway {
    state: GatewayState,
}

#[wasm_bindgen]
impl Gateway {
    /// Throws an `AadauthError` (`input_invalid`, `field` naming the member) for settings
    /// or keys it cannot use.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(
            unchecked_param_type = "GatewayOptions | string",
            param_description = "tenant_id, roles, and optionally environment, audiences, token_versions, clock_skew_seconds, cache_size, claims"
        )]
        settings: JsValue,
        #[wasm_bindgen(
            unchecked_param_type = "Jwks | string",
            param_description = "the JWKS, as an object or as JSON text"
        )]
        jwks: JsValue,
    ) -> Result<Gateway, JsValue> {
        let settings = js_json_text(&settings, "settings")?;
        let jwks = js_json_text(&jwks, "keys")?;
        Ok(Gateway {
            state: GatewayState::from_text(settings.as_bytes(), jwks.as_bytes())?,
        })
    }

    /// Decides one request: `token` (raw, or `Bearer <token>`) for `role` at
    /// `now` (Unix seconds), from `remoteAddr` (for `token_bound_cidrs`).
    #[wasm_bindgen(unchecked_return_type = "GatewayDecision")]
    pub fn check(
        &mut self,
        #[wasm_bindgen(
            unchecked_param_type = "string",
            param_description = "the raw token or `Bearer <token>`"
        )]
        token: JsValue,
        now: f64,
        #[wasm_bindgen(unchecked_param_type = "string")] role: JsValue,
        #[wasm_bindgen(js_name = remoteAddr)] remote_addr: Option<OptionalString>,
    ) -> Result<JsValue, JsValue> {
        let Some(token) = js_string(&token) else {
            return Err(ApiError::input("token", "expected a string").into());
        };
        let now = unix_seconds(now)?;
        let role = js_string_arg(&role, "role")?;
        let remote_addr =
            js_optional_string_arg(remote_addr.as_ref().map(AsRef::as_ref), "remoteAddr")?;
        let d = self.state.check(&token, now, &role, remote_addr.as_deref());
        js_parse_json(&to_json(&d)?)
    }

    /// The decision for a token known by its SHA-256, when the cache (or the client's
    /// address) decides it; `undefined` when the token is not in the cache and must go
    /// through `check`. For hosts with a fast SHA-256 of their own (Node's `crypto`): a
    /// repeated token then crosses into WebAssembly as 32 bytes, not as the whole token.
    ///
    /// ```js
    /// const digest = createHash('sha256').update(token).digest();
    /// const d = gateway.checkCached(digest, now, role) ?? gateway.check(token, now, role);
    /// ```
    #[wasm_bindgen(js_name = checkCached, unchecked_return_type = "GatewayDecision | undefined")]
    pub fn check_cached(
        &mut self,
        // A plain value, checked by `js_digest`: wasm-bindgen's byte-slice glue copies
        // anything array-like (a string of 32 characters became 32 zero bytes, and the
        // answer `undefined`); typed as the Uint8Array it must be.
        #[wasm_bindgen(
            param_description = "the SHA-256 of the raw token, without `Bearer ` (32 bytes)",
            unchecked_param_type = "Uint8Array"
        )]
        sha256: JsValue,
        now: f64,
        #[wasm_bindgen(unchecked_param_type = "string")] role: JsValue,
        #[wasm_bindgen(js_name = remoteAddr)] remote_addr: Option<OptionalString>,
    ) -> Result<JsValue, JsValue> {
        let sha256 = js_digest(&sha256)?;
        let now = unix_seconds(now)?;
        let role = js_string_arg(&role, "role")?;
        let remote_addr =
            js_optional_string_arg(remote_addr.as_ref().map(AsRef::as_ref), "remoteAddr")?;
        match self
            .state
            .check_cached(&sha256, now, &role, remote_addr.as_deref())?
        {
            Some(d) => js_parse_json(&to_json(&d)?),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// Replaces the key set after a rotation; cached tokens of a key that left the set are
    /// forgotten (verified again on their next request), the others stay.
    #[wasm_bindgen(js_name = setKeys)]
    pub fn set_keys(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Jwks | string")] jwks: JsValue,
    ) -> Result<(), JsValue> {
        let jwks = js_json_text(&jwks, "keys")?;
        Ok(self.state.set_keys_text(jwks.as_bytes())?)
    }

    /// Tokens in the verified-token cache.
    #[wasm_bindgen(getter, js_name = cachedTokens)]
    pub fn cached_tokens(&self) -> usize {
        self.state.cached_tokens()
    }
}

/// The aadauth version this package was built from.
#[wasm_bindgen]
pub fn version() -> String {
    aadauth::VERSION.to_string()
}
