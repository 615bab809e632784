//! The `evaluate` contract: one JSON document in, one out (`spec/evaluate-contract.md`).
//!
//! [`evaluate`] drives a [`LoginFlow`] with everything the input holds: the key set is what
//! the tenant's key endpoint serves, and the `arm` snapshot is what ARM answers (a path that
//! is absent answered 404). Malformed input is an [`InputError`] naming the field; a login
//! that Vault refuses is a normal [`Output`] with `allowed: false`.
//!
//! # The `gateway` profile
//!
//! `"profile": "gateway"` decides as the Envoy filter does ([`crate::gateway`]): Vault's
//! token checks and service-principal / group rules, resource bindings read from the
//! token's `xms_az_rid` / `xms_mirid` (the `arm` snapshot and the login's resource fields
//! are not used), and the gateway's statuses (401 bad or missing token, 403 refused by the
//! role, 500 configuration, 503 key set unavailable). An optional member tunes it:
//!
//! ```json
//! "gateway": {
//!   "clock_skew_seconds": 60,
//!   "audiences": ["https://management.azure.com/"],
//!   "token_versions": ["v1"]
//! }
//! ```
//!
//! - `clock_skew_seconds` (0–3600, default 60): leeway applied to `exp` and `nbf`.
//! - `audiences` (array or comma string; default `[config.resource]`): accepted `aud`
//!   values, compared exactly.
//! - `token_versions` (`v1`, `v2`; default `["v1"]`): accepted token versions; each adds
//!   its issuer for `config.tenant_id` in `config.environment`.
//!
//! A role with `bound_locations` is an input error under this profile (field
//! `role.bound_locations` or `roles.NAME.bound_locations`): a token carries no location,
//! so a gateway can never check it. The `gateway` member with another profile is an
//! input error too.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::json::{Json, JsonObject, View};

use crate::config::Config;
use crate::decision::Output;
use crate::fields::FieldError;
use crate::flow::{KeyFetchError, LoginContext, LoginFlow, Profile, Step};
use crate::gateway::{self, GatewaySettings};
use crate::keys::KeySet;
use crate::login::LoginRequest;
use crate::resources::ArmAnswer;
use crate::role::Role;

/// Inputs larger than this are refused (a real input is a few KiB).
pub const MAX_INPUT_BYTES: usize = 8 * 1024 * 1024;

/// Input that cannot be evaluated: names the field and says what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Dotted path of the offending member (`now`, `role.token_ttl`, `input`).
    pub field: String,
    pub message: String,
}

impl InputError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for InputError {}

impl From<FieldError> for InputError {
    fn from(e: FieldError) -> Self {
        InputError::new(e.field, e.message)
    }
}

/// A parsed `evaluate` input.
#[derive(Debug, Clone)]
pub struct EvaluateInput {
    pub context: LoginContext,
    /// `Ok` key set, or what go-oidc would say about the key endpoint's answer.
    pub keys: Result<KeySet, KeyFetchError>,
    pub arm: BTreeMap<String, ArmAnswer>,
    /// Settings of the gateway profile (defaults when the input has no `gateway` member).
    pub gateway: GatewaySettings,
}

/// The `arm` or `keys` member, given apart from the rest of the input.
enum Arm<'a, J> {
    /// Owned: ARM bodies are moved into the input.
    Owned(Value),
    /// In the document: ARM bodies are copied out of it.
    Ref(&'a J),
}

impl EvaluateInput {
    /// Parses the input document.
    pub fn from_json(v: &Value) -> Result<EvaluateInput, InputError> {
        EvaluateInput::parse(
            v,
            v.get("arm").cloned().map(Arm::Owned),
            v.get("keys").map(Arm::Ref),
        )
    }

    /// [`EvaluateInput::from_json`] taking the document: the ARM bodies are moved into the
    /// input rather than copied.
    pub fn from_value(mut v: Value) -> Result<EvaluateInput, InputError> {
        let arm = v.as_object_mut().and_then(|o| o.remove("arm"));
        let keys = v.as_object_mut().and_then(|o| o.remove("keys"));
        EvaluateInput::parse(&v, arm.map(Arm::Owned), keys.map(Arm::Owned))
    }

    /// Parses an input document from its text (or bytes): the same input, or the same
    /// [`InputError`], as [`parse_input`] then [`EvaluateInput::from_value`]. The text is
    /// read in place ([`crate::json::Borrowed`]), with about forty fewer allocations than a
    /// `serde_json::Value` of it takes.
    pub fn from_slice(input: &[u8]) -> Result<EvaluateInput, InputError> {
        read_input(input, false)
    }

    /// The input of `v`, with its `arm` and `keys` members given apart (taken out of `v`,
    /// a copy, or in `v`).
    fn parse<J: Json>(
        v: &J,
        arm_member: Option<Arm<'_, J>>,
        keys_member: Option<Arm<'_, J>>,
    ) -> Result<EvaluateInput, InputError> {
        let obj = v
            .as_object()
            .ok_or_else(|| InputError::new("input", "expected a JSON object"))?;
        let present = |k: &str| obj.get(k).filter(|v| !v.is_null());
        let now = match present("now").map(Json::view) {
            None => {
                return Err(InputError::new(
                    "now",
                    "required: the evaluation time in Unix seconds",
                ))
            }
            Some(View::Number(n)) => match n.as_i64() {
                Some(i) => i,
                None => match n.as_f64() {
                    Some(f) if f.is_finite() && f.abs() < 9.2e18 => f.trunc() as i64,
                    _ => return Err(InputError::new("now", "must be Unix seconds (an integer)")),
                },
            },
            Some(_) => return Err(InputError::new("now", "must be Unix seconds (an integer)")),
        };
        let profile = match present("profile").map(Json::view) {
            None => Profile::Vault,
            Some(View::String(s)) => Profile::parse(s).ok_or_else(|| {
                InputError::new(
                    "profile",
                    format!(
                        "unknown profile {} (known: \"vault\", \"gateway\")",
                        crate::gocompat::quote(s)
                    ),
                )
            })?,
            Some(_) => return Err(InputError::new("profile", "must be a string")),
        };
        let config = match present("config") {
            None => Config::default(),
            Some(c) => Config::from_json(c)?,
        };
        let login = match present("login") {
            None => LoginRequest::default(),
            Some(l) => LoginRequest::from_json(l)?,
        };
        let mut roles = BTreeMap::new();
        match (present("role"), obj.get("roles").map(Json::view)) {
            (Some(r), _) => {
                let role = Role::from_json(r, &login.role).map_err(|e| with_prefix(e, "role"))?;
                roles.insert(role.name.clone(), role);
            }
            (_, Some(View::Object(map))) => {
                for (name, r) in map.members() {
                    let role = Role::from_json(r, name)
                        .map_err(|e| with_prefix(e, &format!("roles.{name}")))?;
                    // The map key is the role's name, whatever the body says.
                    let mut role = role;
                    role.name = name.to_lowercase();
                    roles.insert(role.name.clone(), role);
                }
            }
            (_, Some(View::Null)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(InputError::new(
                    "roles",
                    "expected an object of role name → role",
                ))
            }
        }
        let gateway = match present("gateway") {
            None => GatewaySettings::default(),
            Some(_) if profile != Profile::Gateway => {
                return Err(InputError::new(
                    "gateway",
                    "only used with \"profile\": \"gateway\"",
                ))
            }
            Some(g) => g.with_value(|g| GatewaySettings::from_json(g, "gateway"))?,
        };
        if profile == Profile::Gateway {
            for role in roles.values() {
                if !role.bound_locations.is_empty() {
                    let field = if present("role").is_some() {
                        "role.bound_locations".to_string()
                    } else {
                        format!("roles.{}.bound_locations", role.name)
                    };
                    return Err(InputError::new(
                        field,
                        gateway::bound_locations_message(&role.name),
                    ));
                }
            }
        }
        let from_value = |k: &Value| match k {
            Value::String(text) => {
                KeySet::from_jwks_str(text).map_err(|e| KeyFetchError::decode(&e, text))
            }
            k => KeySet::from_jwks(k).map_err(|e| KeyFetchError::decode(&e, &k.to_string())),
        };
        let keys = match keys_member {
            None | Some(Arm::Owned(Value::Null)) => Ok(KeySet::default()),
            Some(Arm::Owned(k)) => from_value(&k),
            Some(Arm::Ref(k)) if k.is_null() => Ok(KeySet::default()),
            Some(Arm::Ref(k)) => k.with_value(from_value),
        };
        let not_arm = || {
            InputError::new(
                "arm",
                "expected an object of resource path → ARM response body",
            )
        };
        let mut arm = BTreeMap::new();
        let mut add = |path: &str, body: Value| {
            let key = path.split('?').next().unwrap_or(path);
            let key = strip_arm_host(key);
            arm.insert(key.to_lowercase(), ArmAnswer::from_snapshot_value(body));
        };
        match arm_member {
            None | Some(Arm::Owned(Value::Null)) => {}
            Some(Arm::Owned(Value::Object(map))) => {
                for (path, body) in map {
                    add(&path, body);
                }
            }
            Some(Arm::Owned(_)) => return Err(not_arm()),
            Some(Arm::Ref(a)) => match a.view() {
                View::Null => {}
                View::Object(map) => {
                    for (path, body) in map.members() {
                        add(path, body.to_value());
                    }
                }
                _ => return Err(not_arm()),
            },
        }
        let remote_addr = match present("remote_addr").map(Json::view) {
            None => None,
            Some(View::String(s)) => Some(s.to_string()),
            Some(_) => return Err(InputError::new("remote_addr", "must be a string")),
        };
        let skip_signature = match present("skip_signature").map(Json::view) {
            None => false,
            Some(View::Bool(b)) => b,
            Some(_) => return Err(InputError::new("skip_signature", "must be true or false")),
        };
        Ok(EvaluateInput {
            context: LoginContext {
                config,
                roles,
                login,
                now,
                remote_addr,
                profile,
                skip_signature,
            },
            keys,
            arm,
            gateway,
        })
    }

    /// Runs the flow to its decision with the facts of the input.
    pub fn evaluate(self) -> Output {
        let profile = self.context.profile;
        let mut flow = LoginFlow::new(self.context)
            .arm_snapshot(self.arm)
            .gateway_settings(self.gateway);
        // The input holds the key set already: handing it over before the first step
        // spares the flow a run up to the signature that would only end in `NeedKeys`
        // (a fifth of an evaluation). The decision is the same either way: a halted run
        // leaves nothing behind.
        flow.provide_keys(self.keys);
        // Bounded: with the keys given and ARM in snapshot mode the flow settles at once.
        for _ in 0..4 {
            match flow.next() {
                Step::Done(out) => return *out,
                // Cannot happen with the keys given; reported below if it ever did.
                Step::NeedKeys => break,
                Step::NeedArm(reqs) => {
                    for r in reqs {
                        flow.provide_arm(&r.path, ArmAnswer::NotFound);
                    }
                }
            }
        }
        match flow.next() {
            Step::Done(out) => *out,
            _ => Output {
                allowed: false,
                status: 500,
                error: Some("internal error: the login flow did not settle".into()),
                auth: None,
                checks: Vec::new(),
                claims: None,
                arm_requests: Vec::new(),
                profile: profile.name().into(),
                decode_only: false,
            },
        }
    }
}

/// ARM paths may be pasted as full URLs; keep the path.
fn strip_arm_host(key: &str) -> &str {
    match key.find("://") {
        Some(i) => {
            let rest = &key[i + 3..];
            rest.find('/').map(|j| &rest[j..]).unwrap_or("/")
        }
        None => key,
    }
}

fn with_prefix(e: FieldError, prefix: &str) -> InputError {
    let field = match e.field.split_once('.') {
        Some((_, rest)) => format!("{prefix}.{rest}"),
        None => prefix.to_string(),
    };
    InputError::new(field, e.message)
}

/// `evaluate(input) -> output` on a parsed JSON document.
pub fn evaluate(input: &Value) -> Result<Output, InputError> {
    Ok(EvaluateInput::from_json(input)?.evaluate())
}

/// `evaluate` on JSON text (or bytes): the entry point of the CLI and the bindings.
pub fn evaluate_json(input: &[u8]) -> Result<Output, InputError> {
    Ok(EvaluateInput::from_slice(input)?.evaluate())
}

/// `evaluate` with a key set loaded (and prepared) once by the caller, for repeated
/// evaluations: the input must then have no `keys` member (one source of keys, never two).
/// The signature check runs with `keys` exactly as with the same set given in the input.
pub fn evaluate_json_with_keys(input: &[u8], keys: &KeySet) -> Result<Output, InputError> {
    let mut parsed = read_input(input, true)?;
    parsed.keys = Ok(keys.clone());
    Ok(parsed.evaluate())
}

/// The `keys` member when the caller loaded a key set.
fn keys_given_twice() -> InputError {
    InputError::new(
        "keys",
        "given in the input and as a loaded key set; give one of them",
    )
}

/// Reads an input document from its text, in place ([`crate::json::parse_borrowed_apart`]);
/// with `keys_loaded`, a `keys` member is an error (the caller holds the key set).
///
/// In WebAssembly too: there it is about 1% faster than a `Value` tree (137 against
/// 138 µs a `Verifier.evaluate`, in turns in Node) and makes the module 44 KB larger
/// (13 KB gzipped, 5%); one reader on every target is worth that.
fn read_input(input: &[u8], keys_loaded: bool) -> Result<EvaluateInput, InputError> {
    // Read into `Value`s, not in place: ARM bodies are kept as `Value`s, and a key set is
    // read from one.
    const APART: [&str; 2] = ["arm", "keys"];
    let text = input_text(input)?;
    let (doc, [arm, keys]) = crate::json::parse_borrowed_apart(text, APART).map_err(not_json)?;
    if keys_loaded && keys.as_ref().is_some_and(|k| !k.is_null()) {
        return Err(keys_given_twice());
    }
    let keys = if keys_loaded {
        None
    } else {
        keys.map(Arm::Owned)
    };
    EvaluateInput::parse(&doc, arm.map(Arm::Owned), keys)
}

/// Parses an input document with the size limit and a message naming the problem.
pub fn parse_input(input: &[u8]) -> Result<Value, InputError> {
    serde_json::from_str(input_text(input)?).map_err(not_json)
}

/// The input as text: within the size limit, and UTF-8.
fn input_text(input: &[u8]) -> Result<&str, InputError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(InputError::new(
            "input",
            format!(
                "{} bytes is over the {} byte limit",
                input.len(),
                MAX_INPUT_BYTES
            ),
        ));
    }
    std::str::from_utf8(input)
        .map_err(|e| InputError::new("input", format!("not valid UTF-8: {e}")))
}

fn not_json(e: serde_json::Error) -> InputError {
    InputError::new("input", format!("not valid JSON: {e}"))
}
