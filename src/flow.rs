//! The login flow: every check of `spec/vault-azure-login.md` §3 in Vault's order, as a
//! sans-I/O state machine.
//!
//! An adapter creates a [`LoginFlow`], then calls [`LoginFlow::next`] until it gets
//! [`Step::Done`]. When the flow answers [`Step::NeedKeys`] (no cached key verified the
//! token: Vault re-fetches the key set once) or [`Step::NeedArm`] (a fact from Azure
//! Resource Manager is missing), the adapter does that I/O and feeds the result back with
//! [`LoginFlow::provide_keys`] / [`LoginFlow::provide_arm`]. Time is always passed in.
//!
//! The flow keeps going after the first failure, so that every later check can say what it
//! *would* have answered (`not_reached` with details); the first failure alone decides the
//! response, as in Vault. After a failure the flow asks for no more I/O unless
//! [`LoginFlow::explore`] was requested.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::clouds::{self, Cloud};
use crate::config::Config;
use crate::decision::{Alias, Auth, Check, GroupAlias, InternalData, Outcome, Output};
use crate::gateway::{self, Applied, GatewayClaims, GatewaySettings, Verifier};
use crate::gocompat::{self, quote, Quoted};
use crate::keys::{KeySet, Verification};
use crate::login::{self, LoginRequest};
use crate::resources::{self, ArmAnswer, ResourceId};
use crate::role::{self, Role};
use crate::token::{self, AzureClaims, Members, OidcClaims};

/// `format!` for the flow's details, hints and messages: one allocation with room for a
/// typical explanation (a UUID or two and a path), where `format!`'s estimate from the
/// literal pieces alone usually needs one or two regrowths. A login formats about forty
/// of these (with `format!`, growing strings and vectors took about 26 reallocations per
/// login; `text!` removed 2.2% of an evaluation's instructions, callgrind).
macro_rules! text {
    ($($arg:tt)*) => {
        $crate::flow::formatted(format_args!($($arg)*))
    };
}

/// See [`text!`].
fn formatted(args: std::fmt::Arguments<'_>) -> String {
    if let Some(s) = args.as_str() {
        return s.to_string();
    }
    let mut s = String::with_capacity(TEXT_ROOM);
    // Writing into a String cannot fail; a Display impl that reports an error leaves what
    // it wrote, as `format!` would not (it panics), which is the better failure here.
    let _ = s.write_fmt(args);
    s
}

/// Room reserved by [`text!`]: 94% of the details and hints of the 98 test vectors'
/// outputs fit (median 44 bytes; the longest, an ARM error with its URL, 941).
const TEXT_ROOM: usize = 128;

/// Which rules decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Vault's Azure auth method, exactly (quirks included).
    Vault,
    /// A gateway admitting requests by token: Vault's token checks and SP/group rules,
    /// resource bindings judged from the token itself, configurable clock skew, audiences
    /// and token versions ([`crate::gateway`]; settings via
    /// [`LoginFlow::gateway_settings`]).
    Gateway,
}

impl Profile {
    pub fn parse(name: &str) -> Option<Profile> {
        match name {
            "vault" => Some(Profile::Vault),
            "gateway" => Some(Profile::Gateway),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Profile::Vault => "vault",
            Profile::Gateway => "gateway",
        }
    }
}

/// Everything a login decision depends on, besides keys and ARM facts.
#[derive(Debug, Clone)]
pub struct LoginContext {
    pub config: Config,
    /// Roles by lower-cased name.
    pub roles: BTreeMap<String, Role>,
    pub login: LoginRequest,
    /// Unix seconds.
    pub now: i64,
    /// The caller's address, for `token_bound_cidrs`.
    pub remote_addr: Option<String>,
    pub profile: Profile,
    /// Decode-only: do not check the signature (the verdict is then conditional).
    pub skip_signature: bool,
}

/// What ARM read the flow needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArmRequest {
    pub kind: ArmReadKind,
    /// The resource path (no host, no query string); the ARM adapter picks the api-version.
    pub path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArmReadKind {
    VirtualMachine,
    ScaleSet,
    UserAssignedIdentity,
    /// A generic resource by id (the adapter resolves the api-version via the providers
    /// endpoint, as Vault does).
    Resource,
    /// `userAssignedIdentities` in a resource group; answer with all pages merged into
    /// `{"value": [...]}`.
    IdentityList,
}

/// What the flow asks of its adapter next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// No cached key verified the token: fetch the key set (again) and call
    /// [`LoginFlow::provide_keys`].
    NeedKeys,
    /// Read these from ARM and call [`LoginFlow::provide_arm`] for each.
    NeedArm(Vec<ArmRequest>),
    /// The decision.
    Done(Box<Output>),
}

/// Why a key fetch failed, as go-oidc words it (the text after `fetching keys `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFetchError(pub String);

impl KeyFetchError {
    /// The key endpoint answered a non-200 status.
    pub fn http(status: u16, status_text: &str, body: &str) -> Self {
        KeyFetchError(text!(
            "oidc: get keys failed: {status} {status_text} {body}"
        ))
    }

    /// The key endpoint answered something that is not a key set.
    pub fn decode(detail: &str, body: &str) -> Self {
        KeyFetchError(text!("oidc: failed to decode keys: {detail} {body}"))
    }

    /// OIDC discovery failed before any key could be fetched (go-oidc's provider setup).
    pub fn discovery(url: &str, detail: &str) -> Self {
        KeyFetchError(text!(
            "oidc: discovery failed: Get {}: {detail}",
            Quoted(url)
        ))
    }

    /// The request itself failed (DNS, TLS, timeout).
    pub fn transport(url: &str, detail: &str) -> Self {
        KeyFetchError(text!(
            "oidc: get keys failed: Get {}: {detail}",
            Quoted(url)
        ))
    }
}

/// A login in progress.
#[derive(Debug, Clone)]
pub struct LoginFlow {
    ctx: LoginContext,
    cached_keys: Option<KeySet>,
    fresh_keys: Option<Result<KeySet, KeyFetchError>>,
    arm: BTreeMap<String, ArmAnswer>,
    snapshot: bool,
    explore: bool,
    memo: SigMemo,
    gateway: GatewaySettings,
}

#[derive(Debug, Clone, Default)]
struct SigMemo {
    cached: Option<Verification>,
    fresh: Option<Verification>,
}

impl LoginFlow {
    pub fn new(ctx: LoginContext) -> LoginFlow {
        LoginFlow {
            ctx,
            cached_keys: None,
            fresh_keys: None,
            arm: BTreeMap::new(),
            snapshot: false,
            explore: false,
            memo: SigMemo::default(),
            gateway: GatewaySettings::default(),
        }
    }

    /// Settings of the [`Profile::Gateway`] profile (clock skew, audiences, token
    /// versions); ignored by the vault profile. Default: [`GatewaySettings::default`].
    pub fn gateway_settings(mut self, settings: GatewaySettings) -> Self {
        self.gateway = settings;
        self
    }

    /// Keys the adapter already holds (Vault's cache); tried before any fetch.
    pub fn with_cached_keys(mut self, keys: KeySet) -> Self {
        self.cached_keys = Some(keys);
        self.memo.cached = None;
        self
    }

    /// Keep asking for I/O after the first failure, so that every check is evaluated
    /// (for `explain`); a gateway leaves this off.
    pub fn explore(mut self) -> Self {
        self.explore = true;
        self
    }

    /// The result of the key fetch the flow asked for.
    pub fn provide_keys(&mut self, keys: Result<KeySet, KeyFetchError>) {
        self.fresh_keys = Some(keys);
        self.memo.fresh = None;
    }

    /// ARM's answer for a path the flow asked for (matched case-insensitively).
    pub fn provide_arm(&mut self, path: &str, answer: ArmAnswer) {
        self.arm.insert(path.to_lowercase(), answer);
    }

    /// Treat every ARM path not provided as a 404 (the `evaluate` snapshot rule).
    pub fn arm_snapshot(mut self, arm: BTreeMap<String, ArmAnswer>) -> Self {
        self.arm = arm
            .into_iter()
            .map(|(k, v)| (k.to_lowercase(), v))
            .collect();
        self.snapshot = true;
        self
    }

    pub fn context(&self) -> &LoginContext {
        &self.ctx
    }

    /// Runs the checks as far as the facts at hand allow.
    // Not an `Iterator`: the adapter must feed facts between calls.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Step {
        let mut run = Run {
            ctx: &self.ctx,
            arm: &self.arm,
            snapshot: self.snapshot,
            explore: self.explore,
            cached_keys: self.cached_keys.as_ref(),
            fresh_keys: self.fresh_keys.as_ref(),
            memo: &mut self.memo,
            // A full login records about forty checks: one allocation, not six regrowths.
            checks: Vec::with_capacity(48),
            failure: None,
            arm_requests: Vec::new(),
            gateway: &self.gateway,
            gateway_claims: None,
            claims_json: None,
        };
        match run.login() {
            Ok(out) => Step::Done(Box::new(out)),
            Err(Halt::NeedKeys) => Step::NeedKeys,
            Err(Halt::NeedArm(req)) => Step::NeedArm(vec![req]),
        }
    }
}

enum Halt {
    NeedKeys,
    NeedArm(ArmRequest),
}

struct Failure {
    status: u16,
    error: String,
}

struct Run<'a> {
    ctx: &'a LoginContext,
    arm: &'a BTreeMap<String, ArmAnswer>,
    snapshot: bool,
    explore: bool,
    cached_keys: Option<&'a KeySet>,
    fresh_keys: Option<&'a Result<KeySet, KeyFetchError>>,
    memo: &'a mut SigMemo,
    checks: Vec<Check>,
    failure: Option<Failure>,
    arm_requests: Vec<String>,
    gateway: &'a GatewaySettings,
    /// Gateway profile: the verified claims, for the auth block.
    gateway_claims: Option<GatewayClaims>,
    /// The decoded payload, for the output's `claims` (decoded once).
    claims_json: Option<Value>,
}

/// The result of one check before it is recorded.
enum R {
    Pass(String),
    Fail {
        status: u16,
        error: String,
        detail: String,
        hint: Option<String>,
    },
    Skip(String),
    /// The check cannot be computed from what is known (an earlier step failed).
    Unknown(String),
}

fn fail(
    status: u16,
    error: impl Into<String>,
    detail: impl Into<String>,
    hint: Option<String>,
) -> R {
    R::Fail {
        status,
        error: error.into(),
        detail: detail.into(),
        hint,
    }
}

/// A failure whose detail is the message itself.
fn fail500(error: impl Into<String>, hint: Option<String>) -> R {
    let e = error.into();
    R::Fail {
        status: 500,
        detail: e.clone(),
        error: e,
        hint,
    }
}

impl R {
    fn passed(&self) -> bool {
        matches!(self, R::Pass(_) | R::Skip(_))
    }
}

impl<'a> Run<'a> {
    fn decided(&self) -> bool {
        self.failure.is_some()
    }

    fn gw(&self) -> bool {
        self.ctx.profile == Profile::Gateway
    }

    /// Gateway profile: the checks shared with the vault profile answer the gateway's
    /// statuses and messages (the same as [`gateway::Verifier::verify`]).
    fn gateway_translate(&self, id: &str, r: R) -> R {
        let R::Fail {
            status,
            error,
            detail,
            hint,
        } = r
        else {
            return r;
        };
        let (status, error) = match id {
            "request.jwt" if self.ctx.login.jwt.is_empty() => (401, gateway::msg_missing()),
            "request.jwt" => (401, gateway::msg_too_large(self.ctx.login.jwt.len())),
            "token.format" | "token.algorithm" => (401, gateway::msg_malformed(&error)),
            "token.claims" | "token.distributed_claims" | "claims.read" => {
                (401, gateway::msg_bad_claims(&error))
            }
            "request.role" | "role.exists" | "role.valid" => (500, error),
            _ => (status, error),
        };
        R::Fail {
            status,
            error,
            detail,
            hint,
        }
    }

    fn record(&mut self, id: &'static str, r: R) -> bool {
        let r = if self.gw() {
            self.gateway_translate(id, r)
        } else {
            r
        };
        let ok = r.passed();
        let decided = self.decided();
        let (outcome, detail, hint) = match r {
            R::Pass(d) if !decided => (Outcome::Pass, d, None),
            R::Pass(d) => (Outcome::NotReached, text!("would pass: {d}"), None),
            R::Skip(d) if !decided => (Outcome::Skip, d, None),
            R::Skip(d) => (Outcome::NotReached, text!("would be skipped: {d}"), None),
            R::Fail {
                status,
                error,
                detail,
                hint,
            } => {
                if decided {
                    let d = if detail == error {
                        text!("would fail: {error}")
                    } else {
                        text!("would fail: {error} ({detail})")
                    };
                    (Outcome::NotReached, d, hint)
                } else {
                    self.failure = Some(Failure { status, error });
                    (Outcome::Fail, detail, hint)
                }
            }
            R::Unknown(d) => (Outcome::NotReached, d, None),
        };
        self.checks.push(Check {
            id: Cow::Borrowed(id),
            outcome,
            detail,
            hint,
        });
        ok
    }

    /// An ARM read: `Ok(None)` when the answer is unknown and the flow may not ask for it.
    /// Borrowed from the answers the adapter provided (a VM's body is a tree of a dozen
    /// allocations; a login reads it once or twice).
    fn arm_read(&mut self, kind: ArmReadKind, path: &str) -> Result<Option<&'a ArmAnswer>, Halt> {
        // Only reads Vault actually makes (before the deciding failure) are listed.
        if !self.decided() {
            self.arm_requests.push(path.to_string());
        }
        let arm: &'a BTreeMap<String, ArmAnswer> = self.arm;
        if let Some(a) = arm.get(&path.to_lowercase()) {
            return Ok(Some(a));
        }
        if self.snapshot {
            static NOT_FOUND: ArmAnswer = ArmAnswer::NotFound;
            return Ok(Some(&NOT_FOUND));
        }
        if self.decided() && !self.explore {
            return Ok(None);
        }
        Err(Halt::NeedArm(ArmRequest {
            kind,
            path: path.to_string(),
        }))
    }

    fn arm_error(&self, path: &str, answer: &ArmAnswer) -> String {
        let endpoint = Cloud::from_environment(&self.ctx.config.environment)
            .unwrap_or(Cloud::AzurePublicCloud)
            .arm_endpoint();
        match answer {
            ArmAnswer::NotFound => {
                let (code, message) = resources::not_found_message(path);
                resources::azure_error(endpoint, path, 404, &code, &message)
            }
            ArmAnswer::Failed {
                status,
                code,
                message,
            } => resources::azure_error(endpoint, path, *status, code, message),
            ArmAnswer::Found { .. } => String::new(),
        }
    }

    fn login(&mut self) -> Result<Output, Halt> {
        let ctx = self.ctx;
        let login = &ctx.login;

        // §3.1 request checks.
        let jwt_len = login.jwt.len();
        self.record(
            "request.jwt",
            if login.jwt.is_empty() {
                fail(400, "jwt is required", "the login has no jwt", Some("send the managed identity's access token as `jwt` (from IMDS: GET /metadata/identity/oauth2/token)".into()))
            } else if jwt_len > token::MAX_TOKEN_BYTES {
                fail(
                    400,
                    text!("jwt is too large: {jwt_len} bytes (aadauth accepts at most {})", token::MAX_TOKEN_BYTES),
                    "aadauth refuses tokens over 64 KiB before parsing them (Vault has no such limit; Azure tokens are 1–3 KiB)",
                    Some("check that `jwt` holds only the access token, not a whole response or a file".into()),
                )
            } else {
                R::Pass(text!("jwt given ({jwt_len} bytes)"))
            },
        );
        self.record(
            "request.role",
            if login.role.is_empty() {
                fail(
                    400,
                    "role is required",
                    "the login names no role",
                    Some("send the Vault role name as `role`".into()),
                )
            } else {
                R::Pass(text!("role {}", Quoted(&login.role)))
            },
        );
        let role = ctx.roles.get(&login.role.to_lowercase());
        self.record(
            "role.exists",
            match (login.role.is_empty(), role) {
                (true, _) => R::Unknown("no role named".into()),
                (false, Some(r)) => R::Pass(text!("role {} found", Quoted(&r.name))),
                (false, None) => {
                    let known: Vec<&str> = ctx.roles.keys().map(String::as_str).collect();
                    fail(
                        400,
                        text!("invalid role name {}", Quoted(&login.role)),
                        text!(
                            "no role named {} (roles given: {})",
                            Quoted(&login.role),
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                        Some(
                            "check `vault list auth/azure/role`; role names are case-insensitive"
                                .into(),
                        ),
                    )
                }
            },
        );
        self.record(
            "role.valid",
            match role {
                None => R::Unknown("no role to check".into()),
                Some(r) => match r.write_error() {
                    Some(e) => fail(
                        400,
                        e,
                        text!("Vault refuses to store this role: `vault write auth/azure/role/{}` answers 400 {}", r.name, Quoted(e)),
                        Some("fix the role definition; Vault never stores it, so no login can use it".into()),
                    ),
                    None if ctx.profile == Profile::Gateway && !r.bound_locations.is_empty() => fail500(
                        gateway::bound_locations_message(&r.name),
                        Some("remove bound_locations from the role: bind by subscription, resource group or scale set, which the token names".into()),
                    ),
                    None if !r.unknown_fields.is_empty() => R::Pass(text!(
                        "Vault would store this role, ignoring unrecognized fields: {}",
                        r.unknown_fields.iter().map(|f| did_you_mean(f)).collect::<Vec<_>>().join(", ")
                    )),
                    None => R::Pass("Vault would store this role".into()),
                },
            },
        );
        self.record("role.bound_cidrs", self.bound_cidrs(role));

        type FormatRule<'a> = (&'static str, &'a str, fn(&str) -> bool, &'a str);
        let formats: [FormatRule; 4] = [
            (
                "request.subscription_id",
                &login.subscription_id,
                login::valid_subscription_id,
                "invalid subscription id",
            ),
            (
                "request.resource_group_name",
                &login.resource_group_name,
                login::valid_resource_group_name,
                "invalid resource group name",
            ),
            (
                "request.vmss_name",
                &login.vmss_name,
                login::valid_compute_name,
                "invalid vmss_name",
            ),
            (
                "request.vm_name",
                &login.vm_name,
                login::valid_compute_name,
                "invalid vm name",
            ),
        ];
        for (id, value, valid, message) in formats {
            let r = if ctx.profile == Profile::Gateway {
                R::Skip(
                    "not used by the gateway profile: the resource is read from the token".into(),
                )
            } else if value.is_empty() {
                R::Skip("not given".into())
            } else if valid(value) {
                R::Pass(text!("{} is well-formed", Quoted(value)))
            } else {
                let hint = match id {
                    "request.vm_name" if value.starts_with(|c: char| c.is_ascii_digit()) => Some("Vault's vm_name pattern requires a leading letter (a known Vault quirk); such a VM cannot log in with vm_name — use resource_id or rename the VM".to_string()),
                    "request.subscription_id" => Some("use the subscription's GUID (compute.subscriptionId in IMDS metadata), not its name".to_string()),
                    "request.resource_group_name" => Some("resource group names may not end with '.' and may hold only letters, digits, '-', '_', '.', '(' and ')'".to_string()),
                    _ => Some("names must start with a letter, hold only letters, digits, '.', '-', '_', and end with a letter, digit or '_'".to_string()),
                };
                fail(
                    400,
                    text!("{message} {}", Quoted(value)),
                    text!("{} does not match Vault's pattern", Quoted(value)),
                    hint,
                )
            };
            self.record(id, r);
        }

        // §3.1 step 6: config (status 500 at login).
        let cfg = &ctx.config;
        let tenant_ok = self.record(
            "config.tenant_id",
            if cfg.tenant_id.is_empty() {
                fail500(
                    "tenant_id is required",
                    Some("vault write auth/azure/config tenant_id=<your tenant GUID>".into()),
                )
            } else if ctx.profile == Profile::Gateway && !gateway::is_tenant_guid(cfg.tenant_id.trim()) {
                fail500(
                    text!("tenant_id {} is not a GUID", Quoted(&cfg.tenant_id)),
                    Some("token issuers name the tenant by its GUID: use the directory (tenant) id, not a domain name".into()),
                )
            } else {
                R::Pass(text!("tenant {}", cfg.tenant_id))
            },
        );
        let gateway_audiences = !self.gateway.audiences.is_empty();
        let resource_ok = self.record(
            "config.resource",
            if ctx.profile == Profile::Gateway && gateway_audiences {
                R::Pass(text!(
                    "audiences accepted: {}",
                    gocompat::quote_list(&self.gateway.audiences)
                ))
            } else if ctx.profile == Profile::Gateway && cfg.resource.is_empty() {
                fail500("no audience configured", Some("give gateway.audiences (or config.resource): the audiences your tokens are requested for, e.g. https://management.azure.com/".into()))
            } else if cfg.resource.is_empty() {
                fail500("resource is required", Some("vault write auth/azure/config resource=https://management.azure.com/ (the audience your tokens are requested for)".into()))
            } else {
                R::Pass(text!("audience expected: {}", Quoted(&cfg.resource)))
            },
        );
        let cloud = Cloud::from_environment(&cfg.environment);
        self.record(
            "config.environment",
            match &cloud {
                Ok(c) => R::Pass(text!("{} (issuer {})", c.name(), c.v1_issuer(if cfg.tenant_id.is_empty() { "{tenant_id}" } else { &cfg.tenant_id }))),
                Err(e) => fail500(e.clone(), Some("use AzurePublicCloud, AzureUSGovernmentCloud or AzureChinaCloud (AzureGermanCloud is retired)".into())),
            },
        );
        let expected_issuer = match (&cloud, tenant_ok) {
            (Ok(c), true) => Some((*c, c.v1_issuer(&cfg.tenant_id))),
            _ => None,
        };
        let verifier: Option<Verifier> = match (&cloud, tenant_ok && resource_ok) {
            (Ok(c), true) if self.gw() => {
                Verifier::new(&cfg.tenant_id, *c, self.gateway, &cfg.resource).ok()
            }
            _ => None,
        };

        // §3.2 token verification, go-oidc's order: claims before signature.
        let payload = if login.jwt.is_empty() || jwt_len > token::MAX_TOKEN_BYTES {
            self.record("token.format", R::Unknown("no token to decode".into()));
            None
        } else {
            match token::decode_payload(&login.jwt) {
                Ok(p) => {
                    self.record(
                        "token.format",
                        R::Pass(text!(
                            "{} parts; payload decodes ({} bytes)",
                            login.jwt.split('.').count(),
                            p.len()
                        )),
                    );
                    Some(p)
                }
                Err(e) => {
                    self.record("token.format", fail500(e, Some("paste the raw access token: three base64url parts separated by dots (IMDS returns it as access_token)".into())));
                    None
                }
            }
        };
        let members: Option<Members> = payload.as_ref().and_then(|p| {
            match token::parse_object(p, "oidc.idToken") {
                Ok(m) => Some(m),
                Err(e) => {
                    self.record("token.claims", fail500(text!("oidc: failed to unmarshal claims: {e}"), Some("the token's payload is not a JSON object of claims: is this really an Azure AD access token?".into())));
                    None
                }
            }
        });
        let oidc: Option<OidcClaims> = match &members {
            None => {
                if payload.is_none() {
                    self.record(
                        "token.claims",
                        R::Unknown("the token could not be decoded".into()),
                    );
                }
                None
            }
            Some(m) => match token::oidc_claims(m) {
                Ok(c) => {
                    self.record(
                        "token.claims",
                        R::Pass("claims have the types go-oidc expects".into()),
                    );
                    Some(c)
                }
                Err(e) => {
                    self.record("token.claims", fail500(text!("oidc: failed to unmarshal claims: {e}"), Some("a registered claim (iss, aud, exp, nbf, iat) has the wrong JSON type".into())));
                    None
                }
            },
        };
        let unknown_token = || R::Unknown("the token's claims could not be read".into());

        self.record(
            "token.distributed_claims",
            match &oidc {
                None => unknown_token(),
                Some(c) if c.claim_names.is_empty() => R::Pass("no distributed claims".into()),
                Some(c) => match token::check_distributed_claims(c) {
                    Ok(()) => R::Pass(text!(
                        "distributed claims {} resolve to sources in _claim_sources{}",
                        c.claim_names
                            .iter()
                            .map(|(k, _)| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        if c.claim_names.iter().any(|(k, _)| k == "groups") {
                            " (groups overage: Vault does not fetch them)"
                        } else {
                            ""
                        }
                    )),
                    Err(e) => fail500(
                        e,
                        Some(
                            "the token's _claim_names names a source missing from _claim_sources"
                                .into(),
                        ),
                    ),
                },
            },
        );

        self.record(
            "token.issuer",
            match (&oidc, &expected_issuer) {
                (None, _) => unknown_token(),
                (Some(c), _) if self.gw() => match &verifier {
                    None => R::Unknown(
                        "the accepted issuers depend on config.tenant_id, config.environment and gateway.token_versions".into(),
                    ),
                    Some(v) => match v.check_issuer(&c.iss) {
                        Ok(()) => R::Pass(text!("issuer {}", c.iss)),
                        Err(e) => fail(
                            401,
                            e,
                            text!("token says {}; accepted: {}", c.iss, v.issuers().join(", ")),
                            Some(gateway_issuer_hint(&c.iss, v)),
                        ),
                    },
                },
                (Some(_), None) => R::Unknown(
                    "the expected issuer depends on config.tenant_id and config.environment".into(),
                ),
                (Some(c), Some((cloud, want))) => {
                    if &c.iss == want {
                        R::Pass(text!("issuer {}", c.iss))
                    } else {
                        let e = text!(
                            "oidc: id token issued by a different provider, expected {} got {}",
                            Quoted(want),
                            Quoted(&c.iss)
                        );
                        fail(
                            500,
                            e,
                            text!("expected {want}, token says {}", c.iss),
                            Some(issuer_hint(&c.iss, *cloud, &cfg.tenant_id)),
                        )
                    }
                }
            },
        );

        self.record(
            "token.audience",
            match &oidc {
                None => unknown_token(),
                Some(c) if self.gw() => match &verifier {
                    None => R::Unknown("no audience is configured".into()),
                    Some(v) => match v.check_audience(&c.aud) {
                        Ok(()) => R::Pass(text!(
                            "aud {} contains an accepted audience",
                            gocompat::quote_list(&c.aud)
                        )),
                        Err(e) => fail(
                            401,
                            e,
                            text!(
                                "aud is {}; accepted: {}",
                                gocompat::quote_list(&c.aud),
                                gocompat::quote_list(v.audiences())
                            ),
                            Some(
                                v.audiences()
                                    .first()
                                    .map_or_else(String::new, |a| audience_hint(&c.aud, a)),
                            ),
                        ),
                    },
                },
                Some(_) if !resource_ok => R::Unknown("config.resource is missing".into()),
                Some(c) => {
                    if c.aud.iter().any(|a| a == &cfg.resource) {
                        R::Pass(text!("aud contains {}", Quoted(&cfg.resource)))
                    } else {
                        let e = text!(
                            "oidc: expected audience {} got {}",
                            Quoted(&cfg.resource),
                            gocompat::quote_list(&c.aud)
                        );
                        fail(
                            500,
                            e,
                            text!(
                                "aud is {}; config.resource is {}",
                                gocompat::quote_list(&c.aud),
                                Quoted(&cfg.resource)
                            ),
                            Some(audience_hint(&c.aud, &cfg.resource)),
                        )
                    }
                }
            },
        );

        let skew = self.gateway.clock_skew_seconds;
        self.record(
            "token.expiry",
            match &oidc {
                None => unknown_token(),
                Some(c) if self.gw() => match &verifier {
                    None => R::Unknown("the gateway settings are incomplete".into()),
                    Some(v) => match v.check_expiry(c.exp, ctx.now) {
                        Ok(()) => R::Pass(text!(
                            "expires {} UTC ({}; clock skew {skew}s)",
                            gocompat::HumanUtc(c.exp),
                            gocompat::Relative(c.exp, ctx.now)
                        )),
                        Err(e) => fail(
                            401,
                            e,
                            if c.exp == gocompat::GO_ZERO_TIME {
                                "the token has no exp claim".to_string()
                            } else {
                                text!("expired {} UTC ({}), beyond the clock skew of {skew}s", gocompat::HumanUtc(c.exp), gocompat::Relative(c.exp, ctx.now))
                            },
                            Some("get a fresh token (IMDS tokens last about 24 hours; IMDS caches and renews them); check the gateway's clock".into()),
                        ),
                    },
                },
                Some(c) => {
                    if c.exp < ctx.now {
                        let detail = if c.exp == gocompat::GO_ZERO_TIME {
                            "the token has no exp claim (go-oidc treats it as 0001-01-01)".to_string()
                        } else {
                            text!("expired {} UTC ({})", gocompat::HumanUtc(c.exp), gocompat::Relative(c.exp, ctx.now))
                        };
                        fail(500, text!("oidc: token is expired (Token Expiry: {})", gocompat::time_utc(c.exp)), detail, Some("get a fresh token (IMDS tokens last about 24 hours; IMDS caches and renews them); check the evaluating clock".into()))
                    } else {
                        R::Pass(text!("expires {} UTC ({})", gocompat::HumanUtc(c.exp), gocompat::Relative(c.exp, ctx.now)))
                    }
                }
            },
        );

        self.record(
            "token.not_before",
            match &oidc {
                None => unknown_token(),
                Some(c) if self.gw() => match (&verifier, c.nbf) {
                    (_, None) => R::Pass("no nbf claim".into()),
                    (None, Some(_)) => R::Unknown("the gateway settings are incomplete".into()),
                    (Some(v), Some(nbf)) => match v.check_not_before(Some(nbf), ctx.now) {
                        Ok(()) => R::Pass(text!(
                            "nbf {} UTC ({}), within the clock skew of {skew}s",
                            gocompat::HumanUtc(nbf),
                            gocompat::Relative(nbf, ctx.now)
                        )),
                        Err(e) => fail(
                            401,
                            e,
                            text!("nbf is {} UTC ({}), beyond the clock skew of {skew}s", gocompat::HumanUtc(nbf), gocompat::Relative(nbf, ctx.now)),
                            Some("the token is not valid yet: check the clocks of the token issuer and of the gateway".into()),
                        ),
                    },
                },
                Some(c) => match c.nbf {
                    None => R::Pass("no nbf claim".into()),
                    Some(nbf) if (ctx.now as i128) + 300 < nbf as i128 => fail(
                        500,
                        text!("oidc: current time {} before the nbf (not before) time: {}", gocompat::time_utc(ctx.now), gocompat::time_utc(nbf)),
                        text!("nbf is {} UTC ({}), beyond go-oidc's 5-minute leeway", gocompat::HumanUtc(nbf), gocompat::Relative(nbf, ctx.now)),
                        Some("the token is not valid yet: check the clocks of the machine that issued it and of Vault".into()),
                    ),
                    Some(nbf) => R::Pass(text!("nbf {} UTC ({}), within go-oidc's 5-minute leeway", gocompat::HumanUtc(nbf), gocompat::Relative(nbf, ctx.now))),
                },
            },
        );

        let jws = if payload.is_some() {
            match token::parse_jws(&login.jwt, &["RS256"]) {
                Ok(j) => {
                    self.record(
                        "token.algorithm",
                        R::Pass(text!(
                            "alg RS256{}",
                            j.header
                                .kid
                                .as_deref()
                                .map(|k| text!(", kid {k}"))
                                .unwrap_or_default()
                        )),
                    );
                    Some(j)
                }
                Err(e) => {
                    let hint = if e.contains("unexpected signature algorithm") {
                        "Vault accepts only RS256; `none` and HMAC algorithms are never accepted"
                    } else if e.contains("three parts") {
                        "the token must have three parts (header.payload.signature); it may have been truncated"
                    } else {
                        "the token's header or signature is not valid base64url / JSON"
                    };
                    self.record(
                        "token.algorithm",
                        fail500(text!("oidc: malformed jwt: {e}"), Some(hint.into())),
                    );
                    None
                }
            }
        } else {
            self.record(
                "token.algorithm",
                R::Unknown("the token could not be decoded".into()),
            );
            None
        };
        self.record(
            "token.single_signature",
            match &jws {
                Some(_) => R::Pass("compact serialization carries exactly one signature".into()),
                None => R::Unknown("the token's header could not be parsed".into()),
            },
        );
        let sig = self.signature(jws.as_ref())?;
        self.record("token.signature", sig);

        // §3.3 claim checks.
        let claims: Option<AzureClaims> = match &members {
            None => {
                self.record("claims.read", unknown_token());
                None
            }
            Some(m) => match token::azure_claims(m) {
                Ok(c) => {
                    self.record(
                        "claims.read",
                        R::Pass(text!(
                            "oid {}{}",
                            if c.oid.is_empty() { "(none)" } else { &c.oid },
                            if c.appid.is_empty() {
                                String::new()
                            } else {
                                text!(", appid {}", c.appid)
                            }
                        )),
                    );
                    Some(c)
                }
                Err(e) => {
                    self.record("claims.read", fail500(e, Some("oid, appid, xms_mirid and xms_az_rid must be strings and groups a list of strings".into())));
                    None
                }
            },
        };
        self.record(
            "claims.not_before",
            match &claims {
                None => unknown_token(),
                Some(_) if self.gw() => R::Skip(
                    "the gateway profile checks nbf once, with the clock skew (token.not_before)".into(),
                ),
                Some(c) => match c.nbf {
                    Some(nbf) if nbf > ctx.now => fail(
                        500,
                        text!("token is not yet valid (Token Not Before: {})", gocompat::time_utc(nbf)),
                        text!("nbf is {} UTC ({}); the plugin's own check allows no leeway", gocompat::HumanUtc(nbf), gocompat::Relative(nbf, ctx.now)),
                        Some("Vault's plugin re-checks nbf with zero leeway after go-oidc's 5-minute leeway: the clocks of the token issuer and Vault disagree; retry in a moment or fix the clock".into()),
                    ),
                    Some(nbf) => R::Pass(text!("nbf {} UTC is not after now", gocompat::HumanUtc(nbf))),
                    None => R::Pass("no nbf claim".into()),
                },
            },
        );

        if self.gw() {
            if let (Some(az), Some(o), Some(m)) = (&claims, &oidc, &members) {
                let kid = jws.as_ref().and_then(|j| j.header.kid.clone());
                self.gateway_claims = Some(GatewayClaims::from_parts(az, o, m, kid, &[]));
            }
        }
        let Some(role) = role else {
            let resource_checks = if self.gw() {
                GATEWAY_RESOURCE_CHECKS
            } else {
                RESOURCE_CHECKS
            };
            for id in BINDING_CHECKS.iter().chain(resource_checks) {
                self.record(id, R::Unknown("no role to check against".into()));
            }
            self.claims_json = members.map(Members::into_value);
            return Ok(self.finish(None, None, &None));
        };
        if self.gw() {
            let gc = self.gateway_claims.clone();
            self.gateway_bindings(role, gc.as_ref(), members.as_ref());
            self.gateway_resource_checks(role, gc.as_ref());
            self.claims_json = members.map(Members::into_value);
            return Ok(self.finish(Some(role), claims.as_ref(), &None));
        }
        self.bindings(role, claims.as_ref(), members.as_ref());
        let app_id_match = self.resource_checks(role, claims.as_ref())?;
        // The decoded claims go into the output as they are, moved rather than copied.
        self.claims_json = members.map(Members::into_value);
        Ok(self.finish(Some(role), claims.as_ref(), &app_id_match))
    }

    fn bound_cidrs(&self, role: Option<&Role>) -> R {
        let Some(role) = role else {
            return R::Unknown("no role to check".into());
        };
        if self.gw() {
            let list = role.token.bound_cidrs.join(", ");
            return match gateway::check_bound_cidrs(role, self.ctx.remote_addr.as_deref()) {
                Ok(Applied::Skipped) => R::Skip("the role has no token_bound_cidrs".into()),
                Ok(Applied::Passed) => R::Pass(text!(
                    "{} is inside {list}",
                    self.ctx.remote_addr.as_deref().unwrap_or_default()
                )),
                Err(d) => fail(
                    d.status,
                    d.message,
                    text!("the role is bound to {list}"),
                    Some("send requests from an address inside token_bound_cidrs (the gateway reads the client address), or widen the role's token_bound_cidrs".into()),
                ),
            };
        }
        if role.token.bound_cidrs.is_empty() {
            return R::Skip("the role has no token_bound_cidrs".into());
        }
        let list = role.token.bound_cidrs.join(", ");
        let Some(addr) = self.ctx.remote_addr.as_deref().filter(|a| !a.is_empty()) else {
            return fail(
                403,
                "permission denied",
                text!("the role is bound to {list} and the caller's address is unknown"),
                Some("give remote_addr (the address Vault sees the login come from)".into()),
            );
        };
        let Some(ip) = crate::cidr::parse_remote_addr(addr) else {
            return fail(
                403,
                "permission denied",
                text!("caller address {} is not an IP address", Quoted(addr)),
                None,
            );
        };
        let inside = role
            .token
            .bound_cidrs
            .iter()
            .filter_map(|c| crate::cidr::Cidr::parse(c))
            .any(|c| c.contains(ip));
        if inside {
            R::Pass(text!("{ip} is inside {list}"))
        } else {
            fail(403, "permission denied", text!("{ip} is outside {list}"), Some("log in from an address inside token_bound_cidrs, or widen the role's token_bound_cidrs".into()))
        }
    }

    fn signature(&mut self, jws: Option<&token::Jws<'_>>) -> Result<R, Halt> {
        let Some(jws) = jws else {
            return Ok(R::Unknown("the token's header could not be parsed".into()));
        };
        if self.ctx.skip_signature {
            return Ok(R::Skip("decode-only mode: the signature was not checked, so this verdict holds only for a genuine token".into()));
        }
        let kid = jws.header.kid.clone();
        let kid_text = kid
            .as_deref()
            .map(|k| text!("kid {k}"))
            .unwrap_or_else(|| "no kid (every key is tried)".into());
        if let Some(cached) = self.cached_keys {
            let v = self
                .memo
                .cached
                .get_or_insert_with(|| cached.verify(jws))
                .clone();
            if let Verification::Verified(by) = v {
                return Ok(R::Pass(text!("RS256 signature verified with cached {by}")));
            }
        }
        let fresh = match self.fresh_keys {
            Some(f) => f,
            None => {
                if self.decided() && !self.explore && !self.snapshot {
                    return Ok(R::Unknown(text!(
                        "not checked: needs the tenant's key set ({kid_text})"
                    )));
                }
                return Err(Halt::NeedKeys);
            }
        };
        let keys = match fresh {
            Ok(k) => k,
            Err(e) if self.gw() => {
                return Ok(fail(
                    503,
                    gateway::msg_keys_unavailable(&e.0),
                    "the key set could not be fetched",
                    Some("the key endpoint could not be read; check the tenant and cloud (environment) and that the key URL is reachable from the gateway".into()),
                ));
            }
            Err(e) => {
                return Ok(fail500(
                    text!("failed to verify signature: fetching keys {}", e.0),
                    Some("the key endpoint could not be read; check the tenant and cloud (environment) and that the key URL is reachable".into()),
                ));
            }
        };
        let v = self
            .memo
            .fresh
            .get_or_insert_with(|| keys.verify(jws))
            .clone();
        Ok(match v {
            Verification::Verified(by) => R::Pass(text!("RS256 signature verified with {by}")),
            Verification::Failed { tried } => {
                let error = "failed to verify signature: failed to verify id token signature";
                let usable = keys.keys.iter().filter(|k| k.unusable().is_none()).count();
                let (detail, hint) = if keys.keys.is_empty() {
                    ("the key set is empty".to_string(), "give the tenant's key set (JWKS), e.g. from https://login.microsoftonline.com/common/discovery/keys".to_string())
                } else if tried.is_empty() {
                    (
                        text!("no key in the key set has {kid_text} (the set has {})", keys.keys.iter().map(|k| k.kid.clone().unwrap_or_else(|| "(no kid)".into())).collect::<Vec<_>>().join(", ")),
                        "the key set does not hold the token's signing key: fetch the current keys of the token's cloud (Microsoft rotates them) or check that the token was issued by this tenant".to_string(),
                    )
                } else if !jws.signature_canonical {
                    ("a part of the token is not canonical base64url (whitespace, padding or stray bits)".to_string(), "the token was altered in transit (aadauth verifies the token exactly as sent)".to_string())
                } else {
                    let unusable: Vec<String> = keys
                        .keys
                        .iter()
                        .filter(|k| k.unusable().is_some())
                        .map(|k| k.describe())
                        .collect();
                    (
                        text!(
                            "tried {}; none verified{}",
                            tried.join(", "),
                            if unusable.is_empty() {
                                String::new()
                            } else {
                                text!(" (unusable keys: {})", unusable.join("; "))
                            }
                        ),
                        if usable == 0 {
                            "no usable RSA key (2048 bits or more) in the key set".to_string()
                        } else {
                            "the token was altered or signed by another key: get a fresh token from IMDS".to_string()
                        },
                    )
                };
                if self.gw() {
                    let error = gateway::msg_signature(tried.is_empty(), jws.header.kid.as_deref());
                    return Ok(fail(401, error, detail, Some(hint)));
                }
                fail(500, error, detail, Some(hint))
            }
        })
    }

    fn bindings(&mut self, role: &Role, claims: Option<&AzureClaims>, members: Option<&Members>) {
        let sps = &role.bound_service_principal_ids;
        let groups = &role.bound_group_ids;
        let both_open = (sps.is_empty() || role::is_wildcard(sps))
            && (groups.is_empty() || role::is_wildcard(groups));
        let specific = (sps.is_empty() && groups.is_empty())
            || (role::is_wildcard(sps) && role::is_wildcard(groups));
        let _ = both_open;
        self.record(
            "bindings.specific",
            if specific {
                fail500("expected specific bound_group_ids or bound_service_principal_ids; both cannot be empty or '*'", Some("set bound_service_principal_ids to the identity's object (principal) id".into()))
            } else {
                R::Pass(text!(
                    "bound_service_principal_ids {}, bound_group_ids {}",
                    describe_list(sps),
                    describe_list(groups)
                ))
            },
        );
        let Some(c) = claims else {
            self.record(
                "bindings.service_principal",
                R::Unknown("the token's claims could not be read".into()),
            );
            self.record(
                "bindings.groups",
                R::Unknown("the token's claims could not be read".into()),
            );
            return;
        };
        self.record(
            "bindings.service_principal",
            if sps.is_empty() {
                R::Skip("bound_service_principal_ids is empty".into())
            } else if role::is_wildcard(sps) {
                R::Skip("bound_service_principal_ids is \"*\" (any)".into())
            } else if role::contains_fold(sps, &c.oid) {
                R::Pass(text!("oid {} is listed", c.oid))
            } else {
                let hint = if !c.appid.is_empty() && role::contains_fold(sps, &c.appid) {
                    text!("bound_service_principal_ids lists the token's appid (the client id) {}; Vault compares the object id: list the oid {} instead", c.appid, c.oid)
                } else {
                    text!("add the identity's object (principal) id {} to bound_service_principal_ids (`az identity show --query principalId`, or the VM's identity.principalId)", c.oid)
                };
                fail(500, text!("service principal not authorized: {}", c.oid), text!("oid {} is not in {}", if c.oid.is_empty() { "(none)" } else { &c.oid }, describe_list(sps)), Some(hint))
            },
        );
        self.record(
            "bindings.groups",
            if groups.is_empty() {
                R::Skip("bound_group_ids is empty".into())
            } else if role::is_wildcard(groups) {
                R::Skip("bound_group_ids is \"*\" (any)".into())
            } else if c.groups.iter().any(|g| role::contains_fold(groups, g)) {
                R::Pass(text!("token groups {} overlap {}", gocompat::plain_list(&c.groups), describe_list(groups)))
            } else {
                let overage = members.and_then(|m| m.field("_claim_names")).and_then(|v| v.get("groups")).is_some();
                let hint = if overage {
                    "the token carries a groups overage marker (over 200 groups) instead of groups; Vault does not resolve it: bind by bound_service_principal_ids".to_string()
                } else if c.groups.is_empty() {
                    "the token has no groups claim: managed-identity tokens carry no groups; bind by bound_service_principal_ids instead".to_string()
                } else {
                    "add one of the token's group object ids to bound_group_ids".to_string()
                };
                fail(500, text!("groups not authorized: {}", gocompat::plain_list(&c.groups)), text!("token groups {} do not overlap {}", gocompat::plain_list(&c.groups), describe_list(groups)), Some(hint))
            },
        );
    }

    /// Gateway profile: Vault's SP/group rules ([`gateway::check_specific`] & co.).
    fn gateway_bindings(
        &mut self,
        role: &Role,
        claims: Option<&GatewayClaims>,
        members: Option<&Members>,
    ) {
        let sps = &role.bound_service_principal_ids;
        let groups = &role.bound_group_ids;
        self.record(
            "bindings.specific",
            match gateway::check_specific(role) {
                Ok(()) => R::Pass(text!(
                    "bound_service_principal_ids {}, bound_group_ids {}",
                    describe_list(sps),
                    describe_list(groups)
                )),
                Err(d) => fail(
                    d.status,
                    d.message,
                    "a role must bind specific service principals or groups",
                    Some(
                        "set bound_service_principal_ids to the identity's object (principal) id"
                            .into(),
                    ),
                ),
            },
        );
        let Some(c) = claims else {
            for id in ["bindings.service_principal", "bindings.groups"] {
                self.record(
                    id,
                    R::Unknown("the token's claims could not be read".into()),
                );
            }
            return;
        };
        self.record(
            "bindings.service_principal",
            match gateway::check_service_principal(role, &c.oid) {
                Ok(Applied::Skipped) if sps.is_empty() => {
                    R::Skip("bound_service_principal_ids is empty".into())
                }
                Ok(Applied::Skipped) => R::Skip("bound_service_principal_ids is \"*\" (any)".into()),
                Ok(Applied::Passed) => R::Pass(text!("oid {} is listed", c.oid)),
                Err(d) => {
                    let hint = if !c.appid.is_empty() && role::contains_fold(sps, &c.appid) {
                        text!("bound_service_principal_ids lists the token's appid (the client id) {}; list the object id {} instead", c.appid, c.oid)
                    } else {
                        text!("add the identity's object (principal) id {} to bound_service_principal_ids", show(&c.oid))
                    };
                    fail(d.status, d.message, text!("oid {} is not in {}", show(&c.oid), describe_list(sps)), Some(hint))
                }
            },
        );
        self.record(
            "bindings.groups",
            match gateway::check_groups(role, &c.groups) {
                Ok(Applied::Skipped) if groups.is_empty() => {
                    R::Skip("bound_group_ids is empty".into())
                }
                Ok(Applied::Skipped) => R::Skip("bound_group_ids is \"*\" (any)".into()),
                Ok(Applied::Passed) => R::Pass(text!(
                    "token groups {} overlap {}",
                    gocompat::plain_list(&c.groups),
                    describe_list(groups)
                )),
                Err(d) => {
                    let overage = members
                        .and_then(|m| m.field("_claim_names"))
                        .and_then(|v| v.get("groups"))
                        .is_some();
                    let hint = if overage {
                        "the token carries a groups overage marker instead of groups; the gateway does not resolve it: bind by bound_service_principal_ids".to_string()
                    } else if c.groups.is_empty() {
                        "the token has no groups claim: managed-identity tokens carry no groups; bind by bound_service_principal_ids instead".to_string()
                    } else {
                        "add one of the token's group object ids to bound_group_ids".to_string()
                    };
                    fail(d.status, d.message, text!("token groups {} do not overlap {}", gocompat::plain_list(&c.groups), describe_list(groups)), Some(hint))
                }
            },
        );
    }

    /// Gateway profile: resource bindings judged from the token ([`gateway::authorize`]).
    fn gateway_resource_checks(&mut self, role: &Role, claims: Option<&GatewayClaims>) {
        let Some(c) = claims else {
            for id in GATEWAY_RESOURCE_CHECKS {
                self.record(
                    id,
                    R::Unknown("the token's claims could not be read".into()),
                );
            }
            return;
        };
        if !role.has_resource_bindings() {
            for id in GATEWAY_RESOURCE_CHECKS {
                self.record(id, R::Skip("the role has no resource bindings (bound_subscription_ids, bound_resource_groups, bound_scale_sets)".into()));
            }
            return;
        }
        let claims_hint = || {
            Some("xms_mirid / xms_az_rid are only issued when the token's audience is a first-party Microsoft resource such as https://management.azure.com/: request the token for that resource".to_string())
        };
        let resource = match gateway::check_resource(role, c) {
            Ok(Some(r)) => {
                self.record(
                    "resource.claims",
                    R::Pass(text!(
                        "{} names {} in resource group {} of subscription {}{}",
                        r.source,
                        r.describe(),
                        r.resource_group,
                        r.subscription_id,
                        r.scale_set
                            .as_deref()
                            .map(|s| text!(", scale set {s}"))
                            .unwrap_or_default()
                    )),
                );
                Some(r)
            }
            Ok(None) => {
                self.record(
                    "resource.claims",
                    R::Skip("the role has no resource bindings".into()),
                );
                None
            }
            Err(d) => {
                self.record(
                    "resource.claims",
                    fail(
                        d.status,
                        d.message,
                        "the token names no Azure resource",
                        claims_hint(),
                    ),
                );
                None
            }
        };
        self.record(
            "resource.identity_match",
            match gateway::check_identity(c) {
                Ok(()) => R::Pass(text!(
                    "oid {} is the identity Entra ID issued the token to, for the resource the token names",
                    c.oid
                )),
                Err(d) => fail(d.status, d.message, "the token has no oid", Some("send a managed-identity or service-principal access token (it carries oid)".into())),
            },
        );
        match resource {
            None => {
                for id in [
                    "bound.subscription",
                    "bound.resource_group",
                    "bound.scale_set",
                ] {
                    self.record(id, R::Unknown("the token names no Azure resource".into()));
                }
            }
            Some(r) => {
                self.record(
                    "bound.subscription",
                    match gateway::check_subscription(role, r) {
                        Ok(Applied::Skipped) => R::Skip("bound_subscription_ids is empty".into()),
                        Ok(Applied::Passed) => R::Pass(text!(
                            "{} is in {}",
                            r.subscription_id,
                            describe_list(&role.bound_subscription_ids)
                        )),
                        Err(d) => fail(
                            d.status,
                            d.message,
                            text!(
                                "the token's subscription {} is not in {}",
                                r.subscription_id,
                                describe_list(&role.bound_subscription_ids)
                            ),
                            Some("add the subscription id to bound_subscription_ids".into()),
                        ),
                    },
                );
                self.record(
                    "bound.resource_group",
                    match gateway::check_resource_group(role, r) {
                        Ok(Applied::Skipped) => R::Skip("bound_resource_groups is empty".into()),
                        Ok(Applied::Passed) => R::Pass(text!("{} is in {}", r.resource_group, describe_list(&role.bound_resource_groups))),
                        Err(d) => fail(d.status, d.message, text!("the token's resource group {} is not in {} (whole name, case-insensitive)", r.resource_group, describe_list(&role.bound_resource_groups)), Some(if r.source == "xms_mirid" && r.resource_type.eq_ignore_ascii_case("userAssignedIdentities") {
                            "the token names a user-assigned identity without xms_az_rid: its resource group is the identity's; add that resource group to bound_resource_groups".to_string()
                        } else {
                            "add the resource group to bound_resource_groups".to_string()
                        })),
                    },
                );
                self.record(
                    "bound.scale_set",
                    match gateway::check_scale_set(role, r) {
                        Ok(Applied::Skipped) => R::Skip("bound_scale_sets is empty".into()),
                        Ok(Applied::Passed) => R::Pass(text!("{} is in {}", r.scale_set.as_deref().unwrap_or_default(), describe_list(&role.bound_scale_sets))),
                        Err(d) => fail(d.status, d.message, text!("the token's scale set is {}; bound_scale_sets is {}", r.scale_set.as_deref().unwrap_or("(none)"), describe_list(&role.bound_scale_sets)), Some("add the scale set to bound_scale_sets, or remove bound_scale_sets for workloads outside scale sets".into())),
                    },
                );
            }
        }
        self.record(
            "bound.location",
            match gateway::check_location(role) {
                Ok(_) => R::Skip("bound_locations is empty".into()),
                Err(d) => fail(
                    d.status,
                    d.message,
                    "tokens carry no location",
                    Some("remove bound_locations from the role".into()),
                ),
            },
        );
    }

    /// §3.4. Returns whether the identity matched by app id (skips the resource-group bound).
    fn resource_checks(
        &mut self,
        role: &Role,
        claims: Option<&AzureClaims>,
    ) -> Result<Option<bool>, Halt> {
        let login = &self.ctx.login;
        if !role.has_resource_bindings() {
            for id in RESOURCE_CHECKS {
                self.record(id, R::Skip("the role has no resource bindings (bound_subscription_ids, bound_resource_groups, bound_locations, bound_scale_sets): login fields are not checked".into()));
            }
            return Ok(Some(false));
        }
        let (sub, rg) = (&login.subscription_id, &login.resource_group_name);
        self.record(
            "resource.required_fields",
            if sub.is_empty() || rg.is_empty() {
                fail500("subscription_id and resource_group_name are required", Some("send subscription_id and resource_group_name (compute.subscriptionId and compute.resourceGroupName from IMDS instance metadata)".into()))
            } else {
                R::Pass(text!("subscription {sub}, resource group {rg}"))
            },
        );
        let Some(c) = claims else {
            for id in &RESOURCE_CHECKS[1..] {
                self.record(
                    id,
                    R::Unknown("the token's claims could not be read".into()),
                );
            }
            return Ok(None);
        };

        #[derive(PartialEq)]
        enum Branch {
            Vmss,
            Vm,
            ResourceId,
            AppId,
        }
        let branch = if !login.vmss_name.is_empty() {
            Branch::Vmss
        } else if !login.vm_name.is_empty() {
            Branch::Vm
        } else if !login.resource_id.is_empty() {
            Branch::ResourceId
        } else {
            Branch::AppId
        };
        self.record(
            "resource.branch",
            match branch {
                Branch::Vmss => R::Pass(text!("scale set {}{}", Quoted(&login.vmss_name), if login.vm_name.is_empty() { String::new() } else { text!(" (vm_name {} is ignored)", Quoted(&login.vm_name)) })),
                Branch::Vm => R::Pass(text!("virtual machine {}", Quoted(&login.vm_name))),
                Branch::ResourceId => R::Pass(text!("resource {}", Quoted(&login.resource_id))),
                Branch::AppId if !c.appid.is_empty() => R::Pass(text!("no vm_name, vmss_name or resource_id: matching by the token's appid {}", c.appid)),
                Branch::AppId => fail500("one of vm_name, vmss_name, resource_id, or an appid JWT claim must be provided", Some("send vm_name, vmss_name or resource_id with the login".into())),
            },
        );

        let mut location: Option<String> = None;
        let mut candidates: Vec<String> = Vec::new();
        let mut identity_known = true;
        let claims_missing_hint = || {
            Some("xms_mirid / xms_az_rid are only issued when the token's audience is a first-party Microsoft resource such as https://management.azure.com/: request the token for that resource (and set config.resource to it)".to_string())
        };

        // Claim match.
        match branch {
            Branch::Vmss => {
                let flex = text!("/virtualMachines/{}_", login.vmss_name);
                let uniform = text!("/virtualMachineScaleSets/{}", login.vmss_name);
                let r = match resources::claim_match(&c.xms_az_rid, &c.xms_mirid, &flex, "vmss_name", &login.vmss_name) {
                    Ok(()) => R::Pass(text!("token names an instance of flexible scale set {} ({})", login.vmss_name, claim_shown(c))),
                    Err(e1) => match resources::claim_match(&c.xms_az_rid, &c.xms_mirid, &uniform, "vmss_name", &login.vmss_name) {
                        Ok(()) => R::Pass(text!("token names uniform scale set {}{} ({})", login.vmss_name, substring_note(c, &uniform), claim_shown(c))),
                        Err(e2) if e2.contains("claims are missing") => fail500(
                            text!("failed to verify flexible vmss claim: {e1}\nfailed to verify uniform vmss claim: {e2}"),
                            claims_missing_hint(),
                        ),
                        Err(e2) => fail500(
                            text!("failed to verify flexible vmss claim: {e1}\nfailed to verify uniform vmss claim: {e2}"),
                            Some(text!("the token was issued to {}; vmss_name must name that scale set", claim_owner(c))),
                        ),
                    },
                };
                self.record("resource.claim_match", r);
            }
            Branch::Vm => {
                let pattern = text!("/virtualMachines/{}", login.vm_name);
                let r = match resources::claim_match(
                    &c.xms_az_rid,
                    &c.xms_mirid,
                    &pattern,
                    "vm_name",
                    &login.vm_name,
                ) {
                    Ok(()) => R::Pass(text!(
                        "token names virtual machine {}{} ({})",
                        login.vm_name,
                        substring_note(c, &pattern),
                        claim_shown(c)
                    )),
                    Err(e) if e.contains("claims are missing") => fail500(e, claims_missing_hint()),
                    Err(e) => fail500(
                        e,
                        Some(text!(
                            "the token was issued to {}; vm_name must name that VM",
                            claim_owner(c)
                        )),
                    ),
                };
                self.record("resource.claim_match", r);
            }
            Branch::ResourceId | Branch::AppId => {
                self.record(
                    "resource.claim_match",
                    R::Skip("not checked for resource_id or app id logins".into()),
                );
            }
        }

        // Branch-specific ARM reads and checks.
        let scale_set_bound = |r: &Role| !r.bound_scale_sets.is_empty();
        match branch {
            Branch::Vmss => {
                let path = resources::vmss_path(
                    &login.subscription_id,
                    &login.resource_group_name,
                    &login.vmss_name,
                );
                let body = self.read_resource(
                    ArmReadKind::ScaleSet,
                    &path,
                    "unable to retrieve virtual machine scale set metadata",
                    "az vmss show",
                )?;
                self.record(
                    "bound.scale_set",
                    if !scale_set_bound(role) {
                        R::Skip("bound_scale_sets is empty".into())
                    } else if role::contains_fold(&role.bound_scale_sets, &login.vmss_name) {
                        R::Pass(text!(
                            "{} is in {}",
                            login.vmss_name,
                            describe_list(&role.bound_scale_sets)
                        ))
                    } else {
                        fail(
                            500,
                            "scale set not authorized",
                            text!(
                                "{} is not in {}",
                                login.vmss_name,
                                describe_list(&role.bound_scale_sets)
                            ),
                            Some("add the scale set to bound_scale_sets".into()),
                        )
                    },
                );
                self.record(
                    "resource.id_parse",
                    R::Skip("only for resource_id logins".into()),
                );
                match body {
                    Some(b) => {
                        location = resources::location_of(b);
                        match resources::identity_of(b) {
                            None => {
                                self.record(
                                    "resource.identity_present",
                                    fail500(
                                        "vmss client did not return identity information",
                                        Some("enable a managed identity on the scale set".into()),
                                    ),
                                );
                                identity_known = false;
                            }
                            Some(ident) => {
                                self.record(
                                    "resource.identity_present",
                                    R::Pass(describe_identity(&ident)),
                                );
                                candidates.extend(ident.principal_id.clone());
                                let mut lookups = Vec::new();
                                for (id, pid) in &ident.user_assigned {
                                    match pid {
                                        Some(p) => candidates.push(p.clone()),
                                        None => lookups.push(id.clone()),
                                    }
                                }
                                let r = self.flexible_identities(
                                    &lookups,
                                    &mut candidates,
                                    &mut identity_known,
                                )?;
                                self.record("resource.user_assigned_identities", r);
                            }
                        }
                    }
                    None => {
                        self.record(
                            "resource.identity_present",
                            R::Unknown("the scale set could not be read".into()),
                        );
                        self.record(
                            "resource.user_assigned_identities",
                            R::Unknown("the scale set could not be read".into()),
                        );
                        identity_known = false;
                    }
                }
            }
            Branch::Vm => {
                let path = resources::vm_path(
                    &login.subscription_id,
                    &login.resource_group_name,
                    &login.vm_name,
                );
                let body = self.read_resource(
                    ArmReadKind::VirtualMachine,
                    &path,
                    "unable to retrieve virtual machine metadata",
                    "az vm show",
                )?;
                match body {
                    Some(b) => {
                        location = resources::location_of(b);
                        match resources::identity_of(b) {
                            None => {
                                self.record("resource.identity_present", fail500("vm client did not return identity information", Some("enable a system- or user-assigned managed identity on the VM".into())));
                                identity_known = false;
                            }
                            Some(ident) => {
                                self.record(
                                    "resource.identity_present",
                                    R::Pass(describe_identity(&ident)),
                                );
                                candidates.extend(ident.principal_id.clone());
                                // Vault adds every user-assigned principalId, "" when absent.
                                candidates.extend(
                                    ident
                                        .user_assigned
                                        .iter()
                                        .map(|(_, p)| p.clone().unwrap_or_default()),
                                );
                            }
                        }
                    }
                    None => {
                        self.record(
                            "resource.identity_present",
                            R::Unknown("the VM could not be read".into()),
                        );
                        identity_known = false;
                    }
                }
                self.record(
                    "bound.scale_set",
                    if scale_set_bound(role) {
                        fail(500, "bound scale set defined but this vm isn't in a scale set", text!("the role has bound_scale_sets {} but the login names a VM", describe_list(&role.bound_scale_sets)), Some("log in with vmss_name for scale-set instances, or remove bound_scale_sets".into()))
                    } else {
                        R::Skip("bound_scale_sets is empty".into())
                    },
                );
                self.record(
                    "resource.id_parse",
                    R::Skip("only for resource_id logins".into()),
                );
                self.record(
                    "resource.user_assigned_identities",
                    R::Skip("only for flexible scale sets".into()),
                );
            }
            Branch::ResourceId => {
                self.record(
                    "bound.scale_set",
                    if scale_set_bound(role) {
                        fail(500, "scale set requires the vmss_name field to be set", text!("the role has bound_scale_sets {} but the login names a resource_id", describe_list(&role.bound_scale_sets)), Some("send vmss_name, or remove bound_scale_sets".into()))
                    } else {
                        R::Skip("bound_scale_sets is empty".into())
                    },
                );
                let parsed = ResourceId::parse(&login.resource_id);
                self.record(
                    "resource.id_parse",
                    match &parsed {
                        Ok(id) => R::Pass(text!("{}/{} {} in resource group {}", id.provider, id.resource_type, id.name, id.resource_group)),
                        Err(_) => fail500(text!("unable to parse the resource ID: {}", Quoted(&login.resource_id)), Some("resource_id must look like /subscriptions/{id}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}".into())),
                    },
                );
                let body = if parsed.is_ok() {
                    self.read_resource(
                        ArmReadKind::Resource,
                        &login.resource_id,
                        "unable to retrieve user assigned identity metadata",
                        "az resource show --ids",
                    )?
                } else {
                    self.record(
                        "resource.arm_read",
                        R::Unknown("the resource id could not be parsed".into()),
                    );
                    None
                };
                match body {
                    Some(b) => match resources::identity_of(b) {
                        None => {
                            self.record(
                                "resource.identity_present",
                                fail500(
                                    "client did not return identity information",
                                    Some("enable a managed identity on the resource".into()),
                                ),
                            );
                            identity_known = false;
                        }
                        Some(ident) => {
                            self.record(
                                "resource.identity_present",
                                R::Pass(describe_identity(&ident)),
                            );
                            candidates.extend(ident.principal_id.clone());
                            candidates.extend(
                                ident
                                    .user_assigned
                                    .iter()
                                    .map(|(_, p)| p.clone().unwrap_or_default()),
                            );
                        }
                    },
                    None => {
                        self.record(
                            "resource.identity_present",
                            R::Unknown("the resource could not be read".into()),
                        );
                        identity_known = false;
                    }
                }
                self.record(
                    "resource.user_assigned_identities",
                    R::Skip("only for flexible scale sets".into()),
                );
            }
            Branch::AppId => {
                for id in [
                    "bound.scale_set",
                    "resource.id_parse",
                    "resource.arm_read",
                    "resource.identity_present",
                    "resource.user_assigned_identities",
                ] {
                    self.record(
                        id,
                        R::Skip(
                            "not read for app id logins (no vm_name, vmss_name or resource_id)"
                                .into(),
                        ),
                    );
                }
            }
        }

        // Resource group match.
        let rg_pattern = text!("/resourcegroups/{}", login.resource_group_name);
        self.record(
            "resource.resource_group_match",
            match branch {
                Branch::Vm | Branch::Vmss => match resources::claim_match(&c.xms_az_rid, &c.xms_mirid, &rg_pattern, "resource_group_name", &login.resource_group_name) {
                    Ok(()) => R::Pass(text!("token names resource group {}{}", login.resource_group_name, substring_note(c, &rg_pattern))),
                    Err(e) if e.contains("claims are missing") => fail500(e, claims_missing_hint()),
                    Err(e) => fail500(e, Some(text!("the token was issued to {}; resource_group_name must be that resource group", claim_owner(c)))),
                },
                Branch::ResourceId | Branch::AppId => {
                    if resources::contains_fold(&login.resource_id, &rg_pattern) {
                        R::Pass(text!("resource_id is in resource group {}", login.resource_group_name))
                    } else {
                        let hint = if branch == Branch::AppId {
                            "without vm_name, vmss_name or resource_id this check always fails in Vault (the app id path is unusable): send resource_id".to_string()
                        } else {
                            "resource_group_name must be the resource group inside resource_id".to_string()
                        };
                        fail(500, "provided resource_id does not match resource_group_name", text!("{} does not contain /resourcegroups/{}", Quoted(&login.resource_id), login.resource_group_name), Some(hint))
                    }
                }
            },
        );

        // Identity match (exact, case-sensitive), then the app id fallback.
        let mut app_id_match = false;
        let r = if !identity_known {
            R::Unknown("the resource's identities are not known".into())
        } else if candidates.iter().any(|p| p == &c.oid) {
            R::Pass(text!("oid {} is one of the resource's identities", c.oid))
        } else if c.appid.is_empty() {
            fail(
                500,
                "token object id does not match expected identities, and no app id was found",
                text!(
                    "oid {} is not among {}",
                    show(&c.oid),
                    describe_candidates(&candidates)
                ),
                Some(identity_hint(c, &candidates)),
            )
        } else {
            let mut groups: Vec<String> = vec![login.resource_group_name.clone()];
            for g in &role.bound_resource_groups {
                if !groups.iter().any(|x| x.eq_ignore_ascii_case(g)) {
                    groups.push(g.clone());
                }
            }
            let mut client_ids = Vec::new();
            let mut unknown = false;
            for g in &groups {
                let path = resources::identity_list_path(&login.subscription_id, g);
                match self.arm_read(ArmReadKind::IdentityList, &path)? {
                    Some(ArmAnswer::Found { body }) => {
                        client_ids.extend(resources::listed_client_ids(body))
                    }
                    Some(_) => {} // Vault logs a failed page and carries on.
                    None => unknown = true,
                }
            }
            if client_ids.iter().any(|id| id == &c.appid) {
                app_id_match = true;
                R::Pass(text!("oid {} is not the resource's identity, but appid {} is the client id of a user-assigned identity in {} (app id match)", show(&c.oid), c.appid, groups.join(", ")))
            } else if unknown {
                R::Unknown("needs the user-assigned identities of the resource groups".into())
            } else {
                fail(500, "neither token object id nor token app id match expected identities", text!("oid {} is not among {}; appid {} is not a client id of the user-assigned identities in {}", show(&c.oid), describe_candidates(&candidates), c.appid, groups.join(", ")), Some(identity_hint(c, &candidates)))
            }
        };
        self.record("resource.identity_match", r);

        self.record(
            "bound.subscription",
            if role.bound_subscription_ids.is_empty() {
                R::Skip("bound_subscription_ids is empty".into())
            } else if role::contains_fold(&role.bound_subscription_ids, &login.subscription_id) {
                R::Pass(text!("{} is in {}{}", login.subscription_id, describe_list(&role.bound_subscription_ids), subscription_note(c, &login.subscription_id)))
            } else {
                fail(500, "subscription not authorized", text!("{} is not in {}", login.subscription_id, describe_list(&role.bound_subscription_ids)), Some("add the subscription id to bound_subscription_ids, or log in with the right subscription_id".into()))
            },
        );
        self.record(
            "bound.resource_group",
            if role.bound_resource_groups.is_empty() {
                R::Skip("bound_resource_groups is empty".into())
            } else if app_id_match {
                R::Skip("skipped after an app id match (the identity was found in an allowed resource group)".into())
            } else if role::contains_fold(&role.bound_resource_groups, &login.resource_group_name) {
                R::Pass(text!("{} is in {}", login.resource_group_name, describe_list(&role.bound_resource_groups)))
            } else {
                fail(500, "resource group not authorized", text!("{} is not in {}", login.resource_group_name, describe_list(&role.bound_resource_groups)), Some("add the resource group to bound_resource_groups (compared case-insensitively, whole name)".into()))
            },
        );
        self.record(
            "bound.location",
            if role.bound_locations.is_empty() {
                R::Skip("bound_locations is empty".into())
            } else {
                match &location {
                    None if branch == Branch::ResourceId || branch == Branch::AppId => fail(500, "location is empty", "no location is known for resource_id or app id logins", Some("bound_locations can never pass without vm_name or vmss_name: remove bound_locations from this role or log in with vm_name / vmss_name".into())),
                    None if !identity_known && location.is_none() && self.decided() => R::Unknown("the resource's location is not known".into()),
                    None => fail(500, "location is empty", "ARM returned no location", None),
                    Some(l) if role::contains_fold(&role.bound_locations, l) => R::Pass(text!("{l} is in {}", describe_list(&role.bound_locations))),
                    Some(l) => fail(500, "location not authorized", text!("{l} is not in {}", describe_list(&role.bound_locations)), Some(text!("the resource is in {l}: add it to bound_locations"))),
                }
            },
        );
        Ok(Some(app_id_match))
    }

    /// Reads a VM / scale set / resource; records `resource.arm_read`.
    fn read_resource(
        &mut self,
        kind: ArmReadKind,
        path: &str,
        prefix: &str,
        cli: &str,
    ) -> Result<Option<&'a Value>, Halt> {
        match self.arm_read(kind, path)? {
            Some(ArmAnswer::Found { body }) => {
                self.record(
                    "resource.arm_read",
                    R::Pass(text!(
                        "ARM GET {path}: found{}",
                        resources::location_of(body)
                            .map(|l| text!(" in {l}"))
                            .unwrap_or_default()
                    )),
                );
                Ok(Some(body))
            }
            Some(answer) => {
                let e = text!("{prefix}: {}", self.arm_error(path, answer));
                let hint = match &answer {
                    ArmAnswer::NotFound => text!("ARM has no {path}: check subscription_id, resource_group_name and the name (`{cli}`), and that Vault's credentials can read it"),
                    _ => "Vault could not read the resource from ARM: check Vault's Azure credentials (Reader on the resource) and ARM availability".to_string(),
                };
                self.record(
                    "resource.arm_read",
                    fail(500, e, text!("ARM GET {path} failed"), Some(hint)),
                );
                Ok(None)
            }
            None => {
                self.record(
                    "resource.arm_read",
                    R::Unknown(text!("not read: needs ARM GET {path}")),
                );
                Ok(None)
            }
        }
    }

    fn flexible_identities(
        &mut self,
        ids: &[String],
        candidates: &mut Vec<String>,
        known: &mut bool,
    ) -> Result<R, Halt> {
        if ids.is_empty() {
            return Ok(R::Skip("every identity came with its principalId".into()));
        }
        let login = &self.ctx.login;
        let mut found = Vec::new();
        for id in ids {
            let parsed = match ResourceId::parse(id) {
                Ok(p) => p,
                Err(e) => {
                    return Ok(fail500(
                        text!(
                            "unable to parse the user-assigned identity resource ID {}: {e}",
                            Quoted(id)
                        ),
                        None,
                    ))
                }
            };
            let _ = login;
            let path = resources::user_assigned_identity_path(
                &parsed.subscription_id,
                &parsed.resource_group,
                &parsed.name,
            );
            match self.arm_read(ArmReadKind::UserAssignedIdentity, &path)? {
                Some(ArmAnswer::Found { body }) => {
                    if let Some(p) = resources::identity_principal_id(body) {
                        found.push(text!("{} → {p}", parsed.name));
                        candidates.push(p);
                    }
                }
                Some(answer) => {
                    let e = text!(
                        "unable to retrieve user assigned identity metadata: {}",
                        self.arm_error(&path, answer)
                    );
                    return Ok(fail(500, e, text!("ARM GET {path} failed"), Some("Vault reads each user-assigned identity of a flexible scale set: check that it exists and Vault may read it".into())));
                }
                None => {
                    *known = false;
                    return Ok(R::Unknown(text!("not read: needs ARM GET {path}")));
                }
            }
        }
        Ok(R::Pass(text!(
            "read {} user-assigned identities (flexible orchestration): {}",
            ids.len(),
            found.join(", ")
        )))
    }

    fn finish(
        &mut self,
        role: Option<&Role>,
        claims: Option<&AzureClaims>,
        _app: &Option<bool>,
    ) -> Output {
        let ctx = self.ctx;
        let claims_json = self.claims_json.take();
        let (allowed, status, error, auth) = match (&self.failure, role, claims) {
            (Some(f), _, _) => (false, f.status, Some(f.error.clone()), None),
            (None, Some(role), Some(_)) if ctx.profile == Profile::Gateway => {
                match self.gateway_claims.as_ref() {
                    Some(g) => (true, 200, None, Some(gateway_auth_block(ctx, role, g))),
                    None => (
                        false,
                        500,
                        Some("internal error: decision incomplete".to_string()),
                        None,
                    ),
                }
            }
            (None, Some(role), Some(c)) => (true, 200, None, Some(auth_block(ctx, role, c))),
            // Unreachable in practice: without a role or claims some check failed.
            (None, _, _) => (
                false,
                500,
                Some("internal error: decision incomplete".to_string()),
                None,
            ),
        };
        Output {
            allowed,
            status,
            error,
            auth,
            checks: std::mem::take(&mut self.checks),
            claims: claims_json,
            arm_requests: std::mem::take(&mut self.arm_requests),
            profile: ctx.profile.name().to_string(),
            decode_only: ctx.skip_signature,
        }
    }
}

const BINDING_CHECKS: &[&str] = &[
    "bindings.specific",
    "bindings.service_principal",
    "bindings.groups",
];

/// Every check of §3.4, in the order they appear for a VM login.
const RESOURCE_CHECKS: &[&str] = &[
    "resource.required_fields",
    "resource.branch",
    "resource.claim_match",
    "resource.arm_read",
    "resource.identity_present",
    "bound.scale_set",
    "resource.id_parse",
    "resource.user_assigned_identities",
    "resource.resource_group_match",
    "resource.identity_match",
    "bound.subscription",
    "bound.resource_group",
    "bound.location",
];

/// The gateway's resource checks, in [`gateway::authorize`]'s order.
const GATEWAY_RESOURCE_CHECKS: &[&str] = &[
    "resource.claims",
    "resource.identity_match",
    "bound.subscription",
    "bound.resource_group",
    "bound.scale_set",
    "bound.location",
];

/// The gateway's `auth` block: Vault's shape, with metadata read from the token.
fn gateway_auth_block(ctx: &LoginContext, role: &Role, c: &GatewayClaims) -> Auth {
    auth_from(
        role,
        &c.oid,
        &c.groups,
        c.metadata(),
        &role.name,
        &ctx.login.role,
    )
}

/// Vault's `auth` block (§4) from the role's token fields and what identifies the caller.
fn auth_from(
    role: &Role,
    oid: &str,
    groups: &[String],
    alias_meta: std::collections::BTreeMap<String, String>,
    metadata_role: &str,
    internal_role: &str,
) -> Auth {
    let mut metadata = alias_meta.clone();
    metadata.insert("role".to_string(), metadata_role.to_string());
    let t = &role.token;
    Auth {
        display_name: oid.to_string(),
        policies: t.policies.clone(),
        no_default_policy: t.no_default_policy,
        metadata,
        alias: Alias {
            name: oid.to_string(),
            metadata: alias_meta,
        },
        group_aliases: groups
            .iter()
            .filter(|g| !g.is_empty())
            .map(|g| GroupAlias { name: g.clone() })
            .collect(),
        internal_data: InternalData {
            role: internal_role.to_string(),
        },
        ttl: t.ttl,
        max_ttl: t.max_ttl,
        explicit_max_ttl: t.explicit_max_ttl,
        period: t.period,
        num_uses: t.num_uses,
        bound_cidrs: t.bound_cidrs.clone(),
        token_type: t.token_type.clone(),
        renewable: !matches!(t.token_type.as_str(), "batch" | "default-batch"),
    }
}

fn gateway_issuer_hint(iss: &str, v: &Verifier) -> String {
    match clouds::classify_issuer(iss) {
        Some(info)
            if info.version == "2.0" && !v.issuers().iter().any(|i| i.ends_with("/v2.0")) =>
        {
            "this is a v2.0 token: add v2 to gateway.token_versions, or request a v1 token"
                .to_string()
        }
        Some(info) if info.version == "1.0" && v.issuers().iter().all(|i| i.ends_with("/v2.0")) => {
            "this is a v1.0 token: add v1 to gateway.token_versions".to_string()
        }
        Some(info) if !info.tenant.eq_ignore_ascii_case(v.tenant_id()) => text!(
            "the token comes from tenant {}, the gateway accepts tenant {}",
            info.tenant,
            v.tenant_id()
        ),
        Some(info) if !info.clouds.contains(&v.cloud()) => text!(
            "the token comes from {}, the gateway is configured for {}",
            info.clouds
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(" / "),
            v.cloud().name()
        ),
        _ => "the token was not issued by Microsoft Entra ID for this tenant".to_string(),
    }
}

fn auth_block(ctx: &LoginContext, role: &Role, c: &AzureClaims) -> Auth {
    let login = &ctx.login;
    let mut alias_meta = std::collections::BTreeMap::new();
    alias_meta.insert(
        "resource_group_name".to_string(),
        login.resource_group_name.clone(),
    );
    alias_meta.insert("subscription_id".to_string(), login.subscription_id.clone());
    for (k, v) in [
        ("vm_name", &login.vm_name),
        ("vmss_name", &login.vmss_name),
        ("resource_id", &login.resource_id),
        ("app_id", &c.appid),
    ] {
        if !v.is_empty() {
            alias_meta.insert(k.to_string(), v.clone());
        }
    }
    auth_from(
        role,
        &c.oid,
        &c.groups,
        alias_meta,
        &login.role,
        &login.role,
    )
}

/// A role list in a detail: `[a b]` as Vault prints it, `[] (empty)` when empty; written
/// straight into the detail (a login describes a dozen lists).
fn describe_list(list: &[String]) -> impl std::fmt::Display + '_ {
    struct Shown<'a>(&'a [String]);
    impl std::fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            if self.0.is_empty() {
                return f.write_str("[] (empty)");
            }
            f.write_str("[")?;
            for (i, item) in self.0.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                f.write_str(item)?;
            }
            f.write_str("]")
        }
    }
    Shown(list)
}

fn show(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}

fn describe_candidates(c: &[String]) -> String {
    if c.is_empty() {
        "the resource's identities (it has none with a principalId)".to_string()
    } else {
        text!("the resource's identities {}", gocompat::plain_list(c))
    }
}

fn describe_identity(i: &resources::Identity) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &i.principal_id {
        parts.push(text!("system-assigned {p}"));
    }
    for (id, p) in &i.user_assigned {
        let name = id.rsplit('/').next().unwrap_or(id);
        parts.push(match p {
            Some(p) => text!("user-assigned {name} {p}"),
            None => text!("user-assigned {name} (principalId not listed)"),
        });
    }
    if parts.is_empty() {
        "identity present, with no principal ids".to_string()
    } else {
        text!("identities: {}", parts.join("; "))
    }
}

fn claim_shown(c: &AzureClaims) -> String {
    if !c.xms_az_rid.is_empty() {
        text!("xms_az_rid {}", c.xms_az_rid)
    } else {
        text!("xms_mirid {}", c.xms_mirid)
    }
}

/// "virtual machine web-01 in resource group rg-web", from the claims.
fn claim_owner(c: &AzureClaims) -> String {
    let claim = if c.xms_az_rid.is_empty() {
        &c.xms_mirid
    } else {
        &c.xms_az_rid
    };
    match resources::split_claim(claim) {
        Some(p) => text!(
            "{} {} in resource group {}",
            p.kind,
            p.name,
            p.resource_group
        ),
        None => quote(claim),
    }
}

fn substring_note(c: &AzureClaims, pattern: &str) -> String {
    let claim = if !c.xms_az_rid.is_empty() && resources::contains_fold(&c.xms_az_rid, pattern) {
        &c.xms_az_rid
    } else {
        &c.xms_mirid
    };
    if resources::matches_only_by_substring(claim, pattern) {
        text!(
            " — by substring only: {} does not end there in {} (Vault quirk: no delimiter)",
            pattern,
            claim
        )
    } else {
        String::new()
    }
}

fn subscription_note(c: &AzureClaims, sub: &str) -> String {
    let claim = if c.xms_az_rid.is_empty() {
        &c.xms_mirid
    } else {
        &c.xms_az_rid
    };
    match resources::split_claim(claim) {
        Some(p) if !p.subscription_id.eq_ignore_ascii_case(sub) => text!(
            " (note: the token names subscription {}; Vault never compares subscription_id with the token)",
            p.subscription_id
        ),
        _ => String::new(),
    }
}

fn identity_hint(c: &AzureClaims, candidates: &[String]) -> String {
    if let Some(p) = candidates.iter().find(|p| p.eq_ignore_ascii_case(&c.oid)) {
        return text!("the oid matches {p} except for letter case; Vault compares object ids case-sensitively");
    }
    "the token was issued to another identity than the resource's: request the token for an identity attached to this resource (IMDS client_id / object_id / msi_res_id)".to_string()
}

fn audience_hint(aud: &[String], resource: &str) -> String {
    for a in aud {
        if a.trim_end_matches('/') == resource.trim_end_matches('/') {
            return if a.ends_with('/') {
                text!("config.resource has no trailing slash; the token's aud has one: set resource={a} (Vault compares exactly)")
            } else {
                text!("config.resource has a trailing slash; the token's aud has none: set resource={a} (Vault compares exactly)")
            };
        }
    }
    text!(
        "request the token for resource={resource} (the IMDS `resource` parameter), or set config.resource to the token's audience {}",
        aud.first().map(String::as_str).unwrap_or("")
    )
}

fn issuer_hint(iss: &str, cloud: Cloud, tenant: &str) -> String {
    match clouds::classify_issuer(iss) {
        Some(info) if info.version == "2.0" => text!(
            "this is a v2.0 token (issuer {iss}); Vault accepts only v1 tokens (issuer {}): set accessTokenAcceptedVersion to 1 or null in the resource app's manifest, or use a first-party resource such as https://management.azure.com/",
            cloud.v1_issuer(tenant)
        ),
        Some(info) if !info.tenant.eq_ignore_ascii_case(tenant) => text!(
            "the token comes from tenant {}, config.tenant_id is {tenant}",
            info.tenant
        ),
        Some(info) if !info.clouds.contains(&cloud) => text!(
            "the token comes from {}, config.environment is {}",
            info.clouds.iter().map(|c| c.name()).collect::<Vec<_>>().join(" / "),
            cloud.name()
        ),
        _ => "the token was not issued by Microsoft Entra ID for this tenant".to_string(),
    }
}

fn did_you_mean(field: &str) -> String {
    const NAMES: &[&str] = &[
        "bound_service_principal_ids",
        "bound_group_ids",
        "bound_subscription_ids",
        "bound_resource_groups",
        "bound_locations",
        "bound_scale_sets",
        "token_policies",
        "token_ttl",
        "token_max_ttl",
    ];
    let f = field.to_lowercase();
    let hit = NAMES.iter().find(|n| {
        let n = n.to_string();
        n == text!("{f}s")
            || n.trim_end_matches('s') == f.trim_end_matches('s')
            || n.replace('_', "") == f.replace(['_', '-'], "")
    });
    match hit {
        Some(n) => text!("{field} (did you mean {n}?)"),
        None => field.to_string(),
    }
}
