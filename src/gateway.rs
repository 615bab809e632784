//! The `gateway` profile: Vault's token checks and role bindings, decided from the token
//! alone, for a proxy that admits requests per call (the Envoy filter in `filter/`).
//!
//! A gateway cannot read Azure Resource Manager on every request, so where Vault asks ARM
//! (or trusts the login's `subscription_id` / `resource_group_name` / `vmss_name`), the
//! gateway reads the resource the token itself names. Differences from the `vault`
//! profile, all deliberate:
//!
//! | | `vault` | `gateway` |
//! |---|---|---|
//! | token checks | go-oidc's order and messages | the same order; aadauth's own short messages |
//! | issuer | v1 only | `token_versions` (v1 by default; v2 on request, with its own issuer) |
//! | audience | `config.resource`, exact | any of `audiences` (exact); `config.resource` when none are given |
//! | `exp` | no leeway | `clock_skew_seconds` (default 60, like Envoy) |
//! | `nbf` | 5 min leeway (go-oidc), then 0 (plugin) | `clock_skew_seconds`, checked once |
//! | SP / group bindings | Vault's rules | the same rules (case-insensitive, `"*"`, both must pass) |
//! | `bound_subscription_ids`, `bound_resource_groups`, `bound_scale_sets` | login fields, substring claim match, ARM | the subscription, resource group and scale set parsed from `xms_az_rid` (when present) else `xms_mirid`, compared by whole path segment, case-insensitively |
//! | identity | `oid` among the ARM resource's principal ids (exact), else an app id match | the signed token binds `oid` to the resource it names; the `oid` must be present. No app id fallback |
//! | `bound_locations` | ARM location | refused at configuration time (a token carries no location) |
//! | statuses | Vault's (400/403/500) | 401 bad or missing token, 403 not allowed, 500 configuration, 503 no keys |
//!
//! The scale set of a token is the uniform scale set it names
//! (`…/virtualMachineScaleSets/{vmss}`) or the prefix of a flexible instance name
//! (`…/virtualMachines/{vmss}_{8 hex}`); a token naming anything else has no scale set.
//! For a user-assigned identity the claim to read is `xms_az_rid` (the resource the
//! identity is attached to); when only `xms_mirid` is present it names the identity itself,
//! so its resource group is the identity's.
//!
//! Two entry points share the decision logic:
//! - [`Verifier::verify`] + [`authorize`]: the lean per-request path (first failure only)
//!   that the filter runs, with [`crate::cache::TokenCache`] in front of `verify`;
//! - [`crate::flow::LoginFlow`] with [`crate::flow::Profile::Gateway`]: every check
//!   explained, reachable from the `evaluate` contract (`"profile": "gateway"`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::cidr;
use crate::clouds::Cloud;
use crate::fields::{self, FieldError};
use crate::gocompat::{self, quote};
use crate::keys::{KeySet, Verification};
use crate::role::{self, Role};
use crate::token::{self, AzureClaims, Members, OidcClaims};

/// Envoy's default for `clock_skew_seconds`.
pub const DEFAULT_CLOCK_SKEW_SECONDS: i64 = 60;
/// The largest clock skew aadauth accepts (one hour).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 3600;

/// Names the gateway derives from `xms_az_rid` / `xms_mirid`, usable as claim names in
/// [`Verifier::verify`]'s `wanted` list (they shadow token claims of the same name).
pub const DERIVED_CLAIMS: [&str; 4] = [
    "subscription_id",
    "resource_group",
    "scale_set",
    "resource_name",
];

/// An access-token version the gateway accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum TokenVersion {
    /// v1.0 tokens (issuer `https://sts.windows.net/{tid}/`): managed identities for
    /// first-party resources such as ARM.
    #[serde(rename = "v1")]
    V1,
    /// v2.0 tokens (issuer `https://login.microsoftonline.com/{tid}/v2.0`).
    #[serde(rename = "v2")]
    V2,
}

impl TokenVersion {
    /// `v1`, `1`, `1.0` / `v2`, `2`, `2.0` (case-insensitive).
    pub fn parse(s: &str) -> Option<TokenVersion> {
        match s.trim().to_ascii_lowercase().as_str() {
            "v1" | "1" | "1.0" | "v1.0" => Some(TokenVersion::V1),
            "v2" | "2" | "2.0" | "v2.0" => Some(TokenVersion::V2),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TokenVersion::V1 => "v1",
            TokenVersion::V2 => "v2",
        }
    }

    /// The issuer of this version's tokens for `tenant` in `cloud`.
    pub fn issuer(self, cloud: Cloud, tenant: &str) -> String {
        match self {
            TokenVersion::V1 => cloud.v1_issuer(tenant),
            TokenVersion::V2 => cloud.v2_issuer(tenant),
        }
    }
}

/// The gateway's own settings (the `gateway` member of an `evaluate` input; the filter's
/// `clock_skew_seconds`, `audiences` and `token_versions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewaySettings {
    /// Applied to `exp` and `nbf`. Default 60.
    pub clock_skew_seconds: i64,
    /// Accepted audiences (exact). Empty: `config.resource`.
    pub audiences: Vec<String>,
    /// Accepted token versions. Default `[v1]`.
    pub token_versions: Vec<TokenVersion>,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            clock_skew_seconds: DEFAULT_CLOCK_SKEW_SECONDS,
            audiences: Vec::new(),
            token_versions: vec![TokenVersion::V1],
        }
    }
}

impl GatewaySettings {
    /// Reads `{"clock_skew_seconds", "audiences", "token_versions"}`; `prefix` names the
    /// member in errors (`gateway`). Unknown members are errors.
    pub fn from_json(v: &Value, prefix: &str) -> Result<GatewaySettings, FieldError> {
        let obj = v
            .as_object()
            .ok_or_else(|| FieldError::new(prefix, "expected a JSON object"))?;
        for k in obj.keys() {
            if !["clock_skew_seconds", "audiences", "token_versions"].contains(&k.as_str()) {
                return Err(FieldError::new(
                    format!("{prefix}.{k}"),
                    "unknown member (known: clock_skew_seconds, audiences, token_versions)",
                ));
            }
        }
        let mut s = GatewaySettings::default();
        if let Some(v) = obj.get("clock_skew_seconds").filter(|v| !v.is_null()) {
            s.clock_skew_seconds = parse_clock_skew(&format!("{prefix}.clock_skew_seconds"), v)?;
        }
        if let Some(v) = obj.get("audiences").filter(|v| !v.is_null()) {
            s.audiences = fields::string_list(&format!("{prefix}.audiences"), v)?;
        }
        if let Some(v) = obj.get("token_versions").filter(|v| !v.is_null()) {
            s.token_versions = parse_token_versions(&format!("{prefix}.token_versions"), v)?;
        }
        Ok(s)
    }
}

/// A clock skew in whole seconds, 0 to [`MAX_CLOCK_SKEW_SECONDS`].
pub fn parse_clock_skew(field: &str, v: &Value) -> Result<i64, FieldError> {
    let n = v
        .as_i64()
        .ok_or_else(|| FieldError::new(field, "must be a whole number of seconds"))?;
    if !(0..=MAX_CLOCK_SKEW_SECONDS).contains(&n) {
        return Err(FieldError::new(
            field,
            format!("must be between 0 and {MAX_CLOCK_SKEW_SECONDS} seconds"),
        ));
    }
    Ok(n)
}

/// A non-empty list of token versions (`["v1", "v2"]`, or a comma string).
pub fn parse_token_versions(field: &str, v: &Value) -> Result<Vec<TokenVersion>, FieldError> {
    let names = fields::string_list(field, v)?;
    if names.is_empty() {
        return Err(FieldError::new(field, "must name at least one of v1, v2"));
    }
    let mut out = Vec::new();
    for n in &names {
        let ver = TokenVersion::parse(n).ok_or_else(|| {
            FieldError::new(
                field,
                format!("unknown token version {} (known: v1, v2)", quote(n)),
            )
        })?;
        if !out.contains(&ver) {
            out.push(ver);
        }
    }
    out.sort();
    Ok(out)
}

/// True for a tenant id in GUID form (what issuers name).
pub fn is_tenant_guid(tenant: &str) -> bool {
    crate::login::valid_subscription_id(tenant)
}

/// A token check that failed: which check, and the gateway's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError {
    /// The check id, as in the `evaluate` output (`token.expiry`).
    pub check: &'static str,
    pub message: String,
    /// No key of the key set can be tried for this token (none has its `kid`, or the set
    /// is empty): fetching the key set again may help (Microsoft rotates keys).
    pub unknown_key: bool,
}

impl TokenError {
    fn new(check: &'static str, message: impl Into<String>) -> TokenError {
        TokenError {
            check,
            message: message.into(),
            unknown_key: false,
        }
    }

    /// Every token failure answers 401.
    pub fn status(&self) -> u16 {
        401
    }
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The resource a token names in `xms_az_rid` (preferred) or `xms_mirid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResource {
    pub subscription_id: String,
    pub resource_group: String,
    pub provider: String,
    pub resource_type: String,
    pub name: String,
    /// The uniform scale set, or the scale set of a flexible instance (`{vmss}_{8 hex}`).
    pub scale_set: Option<String>,
    /// `xms_az_rid` or `xms_mirid`.
    pub source: &'static str,
}

impl TokenResource {
    /// Reads the claim the gateway trusts: `xms_az_rid` when present, else `xms_mirid`.
    /// `None` when that claim is absent or is not a resource id.
    pub fn from_claims(xms_az_rid: &str, xms_mirid: &str) -> Option<TokenResource> {
        let (claim, source) = if !xms_az_rid.is_empty() {
            (xms_az_rid, "xms_az_rid")
        } else {
            (xms_mirid, "xms_mirid")
        };
        let p = crate::resources::split_claim(claim)?;
        let compute = p.provider.eq_ignore_ascii_case("Microsoft.Compute");
        let t = p.resource_type.to_ascii_lowercase();
        let scale_set = if !compute {
            None
        } else if t == "virtualmachinescalesets/virtualmachines" {
            // A uniform instance id: …/virtualMachineScaleSets/{vmss}/virtualMachines/{n}.
            let segs: Vec<&str> = claim.trim_matches('/').split('/').collect();
            segs.iter()
                .position(|s| s.eq_ignore_ascii_case("virtualMachineScaleSets"))
                .and_then(|i| segs.get(i + 1))
                .map(|s| s.to_string())
        } else {
            p.scale_set.clone()
        };
        Some(TokenResource {
            subscription_id: p.subscription_id,
            resource_group: p.resource_group,
            provider: p.provider,
            resource_type: p.resource_type,
            name: p.name,
            scale_set,
            source,
        })
    }

    /// "virtual machine web-01", "scale set api-vmss", for messages.
    pub fn describe(&self) -> String {
        let t = self.resource_type.to_ascii_lowercase();
        let kind = match t.as_str() {
            "virtualmachines" => "virtual machine",
            "virtualmachinescalesets" => "scale set",
            "virtualmachinescalesets/virtualmachines" => "scale set instance",
            "userassignedidentities" => "user-assigned identity",
            "sites" => "app",
            "machines" => "machine",
            _ => "resource",
        };
        format!("{kind} {}", self.name)
    }
}

/// What verification established about a token: the claims role evaluation needs, and
/// what a gateway forwards. This is the value of the filter's [`crate::cache::TokenCache`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayClaims {
    pub oid: String,
    /// `appid` (v1), else `azp` (v2).
    pub appid: String,
    pub iss: String,
    pub tid: String,
    pub groups: Vec<String>,
    pub xms_az_rid: String,
    pub xms_mirid: String,
    /// Unix seconds ([`gocompat::GO_ZERO_TIME`] never gets here: such a token is expired).
    pub exp: i64,
    pub nbf: Option<i64>,
    /// The `kid` of the token's header (the key that verified it).
    pub kid: Option<String>,
    pub resource: Option<TokenResource>,
    /// The claims asked for in `wanted` (e.g. for `claim_to_headers`), as header text;
    /// absent claims are left out.
    pub selected: Vec<(String, String)>,
}

impl GatewayClaims {
    /// A rough estimate of the memory this value holds (inline and heap), for cache sizing.
    pub fn approx_bytes(&self) -> usize {
        let s = |x: &String| x.capacity();
        let mut n = std::mem::size_of::<Self>()
            + s(&self.oid)
            + s(&self.appid)
            + s(&self.iss)
            + s(&self.tid)
            + s(&self.xms_az_rid)
            + s(&self.xms_mirid)
            + self.kid.as_ref().map_or(0, s);
        n += self.groups.capacity() * std::mem::size_of::<String>()
            + self.groups.iter().map(s).sum::<usize>();
        if let Some(r) = &self.resource {
            n += s(&r.subscription_id)
                + s(&r.resource_group)
                + s(&r.provider)
                + s(&r.resource_type)
                + s(&r.name)
                + r.scale_set.as_ref().map_or(0, s);
        }
        n += self.selected.capacity() * std::mem::size_of::<(String, String)>()
            + self
                .selected
                .iter()
                .map(|(a, b)| s(a) + s(b))
                .sum::<usize>();
        n
    }

    /// The value of a selected claim.
    pub fn selected(&self, name: &str) -> Option<&str> {
        self.selected
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Metadata in the shape of Vault's alias metadata, from the token.
    pub fn metadata(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        let r = self.resource.as_ref();
        m.insert(
            "subscription_id".to_string(),
            r.map(|r| r.subscription_id.clone()).unwrap_or_default(),
        );
        m.insert(
            "resource_group_name".to_string(),
            r.map(|r| r.resource_group.clone()).unwrap_or_default(),
        );
        if let Some(r) = r {
            if let Some(ss) = &r.scale_set {
                m.insert("vmss_name".to_string(), ss.clone());
            }
            if r.resource_type.eq_ignore_ascii_case("virtualMachines") {
                m.insert("vm_name".to_string(), r.name.clone());
            }
            let id = if r.source == "xms_az_rid" {
                &self.xms_az_rid
            } else {
                &self.xms_mirid
            };
            m.insert("resource_id".to_string(), id.clone());
        }
        if !self.appid.is_empty() {
            m.insert("app_id".to_string(), self.appid.clone());
        }
        m
    }
}

/// What tokens are verified against; built once per configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    cloud: Cloud,
    tenant_id: String,
    issuers: Vec<String>,
    audiences: Vec<String>,
    clock_skew: i64,
}

/// Why a [`Verifier`] cannot be built: the field and the message.
pub type VerifierError = FieldError;

impl Verifier {
    /// `fallback_audience` (the `evaluate` input's `config.resource`) is used when
    /// `settings.audiences` is empty. Errors name `tenant_id`, `audiences`,
    /// `token_versions` or `clock_skew_seconds`.
    pub fn new(
        tenant_id: &str,
        cloud: Cloud,
        settings: &GatewaySettings,
        fallback_audience: &str,
    ) -> Result<Verifier, VerifierError> {
        let tenant = tenant_id.trim().to_ascii_lowercase();
        if tenant.is_empty() {
            return Err(FieldError::new("tenant_id", "required: the tenant's GUID"));
        }
        if !is_tenant_guid(&tenant) {
            return Err(FieldError::new(
                "tenant_id",
                format!(
                    "{} is not a GUID: token issuers name the tenant by its GUID, not a domain",
                    quote(tenant_id)
                ),
            ));
        }
        let audiences: Vec<String> = if settings.audiences.is_empty() {
            if fallback_audience.is_empty() {
                Vec::new()
            } else {
                vec![fallback_audience.to_string()]
            }
        } else {
            settings.audiences.clone()
        };
        if audiences.is_empty() || audiences.iter().any(|a| a.is_empty()) {
            return Err(FieldError::new(
                "audiences",
                "required: the token audiences to accept, e.g. https://management.azure.com/",
            ));
        }
        if settings.token_versions.is_empty() {
            return Err(FieldError::new(
                "token_versions",
                "must name at least one of v1, v2",
            ));
        }
        if !(0..=MAX_CLOCK_SKEW_SECONDS).contains(&settings.clock_skew_seconds) {
            return Err(FieldError::new(
                "clock_skew_seconds",
                format!("must be between 0 and {MAX_CLOCK_SKEW_SECONDS} seconds"),
            ));
        }
        let issuers = settings
            .token_versions
            .iter()
            .map(|v| v.issuer(cloud, &tenant))
            .collect();
        Ok(Verifier {
            cloud,
            tenant_id: tenant,
            issuers,
            audiences,
            clock_skew: settings.clock_skew_seconds,
        })
    }

    pub fn cloud(&self) -> Cloud {
        self.cloud
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    pub fn clock_skew(&self) -> i64 {
        self.clock_skew
    }

    /// `token.issuer`: the issuer must be one of the accepted versions' issuers (exact).
    pub fn check_issuer(&self, iss: &str) -> Result<(), String> {
        if self.issuers.iter().any(|i| i == iss) {
            Ok(())
        } else {
            Err(format!(
                "token issuer {} is not accepted (accepted: {})",
                quote(iss),
                self.issuers.join(", ")
            ))
        }
    }

    /// `token.audience`: some `aud` must equal an accepted audience (exact).
    pub fn check_audience(&self, aud: &[String]) -> Result<(), String> {
        if aud.iter().any(|a| self.audiences.contains(a)) {
            Ok(())
        } else {
            Err(format!(
                "token audience {} is not accepted (accepted: {})",
                gocompat::quote_list(aud),
                self.audiences.join(", ")
            ))
        }
    }

    /// `token.expiry`: expired when `exp + skew` is strictly before `now`.
    pub fn check_expiry(&self, exp: i64, now: i64) -> Result<(), String> {
        if exp.saturating_add(self.clock_skew) >= now {
            Ok(())
        } else if exp == gocompat::GO_ZERO_TIME {
            Err("token has no exp claim".to_string())
        } else {
            Err(format!(
                "token expired at {} (clock skew {}s)",
                gocompat::rfc3339(exp),
                self.clock_skew
            ))
        }
    }

    /// `token.not_before`: not valid yet when `now + skew` is strictly before `nbf`.
    pub fn check_not_before(&self, nbf: Option<i64>, now: i64) -> Result<(), String> {
        match nbf {
            Some(nbf) if now.saturating_add(self.clock_skew) < nbf => Err(format!(
                "token is not valid before {} (clock skew {}s)",
                gocompat::rfc3339(nbf),
                self.clock_skew
            )),
            _ => Ok(()),
        }
    }

    /// Verifies `jwt` at `now` with `keys`, in the order of the `vault` profile (claims
    /// before the signature). `wanted` names claims to copy into
    /// [`GatewayClaims::selected`] (token claims, or one of [`DERIVED_CLAIMS`]).
    pub fn verify(
        &self,
        jwt: &str,
        keys: &KeySet,
        now: i64,
        wanted: &[String],
    ) -> Result<GatewayClaims, TokenError> {
        if jwt.is_empty() {
            return Err(TokenError::new("request.jwt", msg_missing()));
        }
        if jwt.len() > token::MAX_TOKEN_BYTES {
            return Err(TokenError::new("request.jwt", msg_too_large(jwt.len())));
        }
        let payload = token::decode_payload(jwt)
            .map_err(|e| TokenError::new("token.format", msg_malformed(&e)))?;
        let members = token::parse_object(&payload, "oidc.idToken")
            .map_err(|e| TokenError::new("token.claims", msg_bad_claims(&e)))?;
        let oidc = token::oidc_claims(&members)
            .map_err(|e| TokenError::new("token.claims", msg_bad_claims(&e)))?;
        if !oidc.claim_names.is_empty() {
            token::check_distributed_claims(&oidc)
                .map_err(|e| TokenError::new("token.distributed_claims", msg_bad_claims(&e)))?;
        }
        self.check_issuer(&oidc.iss)
            .map_err(|e| TokenError::new("token.issuer", e))?;
        self.check_audience(&oidc.aud)
            .map_err(|e| TokenError::new("token.audience", e))?;
        self.check_expiry(oidc.exp, now)
            .map_err(|e| TokenError::new("token.expiry", e))?;
        self.check_not_before(oidc.nbf, now)
            .map_err(|e| TokenError::new("token.not_before", e))?;
        let jws = token::parse_jws(jwt, &["RS256"])
            .map_err(|e| TokenError::new("token.algorithm", msg_malformed(&e)))?;
        match keys.verify(&jws) {
            Verification::Verified(_) => {}
            Verification::Failed { tried } => {
                let unknown_key = tried.is_empty();
                return Err(TokenError {
                    check: "token.signature",
                    message: msg_signature(unknown_key, jws.header.kid.as_deref()),
                    unknown_key,
                });
            }
        }
        let az = token::azure_claims(&members)
            .map_err(|e| TokenError::new("claims.read", msg_bad_claims(&e)))?;
        Ok(GatewayClaims::from_parts(
            &az,
            &oidc,
            &members,
            jws.header.kid,
            wanted,
        ))
    }
}

impl GatewayClaims {
    /// Whether a cached token may stay cached after the key set changed to `keys`: a token
    /// verified with a key that left the set (withdrawn early, e.g. after a compromise) is
    /// verified again on its next request; one without a `kid` stays (every key was tried).
    pub fn signed_by_a_key_of(&self, keys: &KeySet) -> bool {
        self.kid.as_deref().is_none_or(|k| keys.has_kid(k))
    }

    /// Assembles the verified claims from what the token checks read.
    pub fn from_parts(
        az: &AzureClaims,
        oidc: &OidcClaims,
        members: &Members,
        kid: Option<String>,
        wanted: &[String],
    ) -> GatewayClaims {
        let string_claim = |name: &str| match exact_member(members, name) {
            Some(Value::String(s)) => s.clone(),
            _ => String::new(),
        };
        let appid = if az.appid.is_empty() {
            string_claim("azp")
        } else {
            az.appid.clone()
        };
        let resource = TokenResource::from_claims(&az.xms_az_rid, &az.xms_mirid);
        let selected = wanted
            .iter()
            .filter_map(|name| {
                claim_text(members, resource.as_ref(), name).map(|v| (name.clone(), v))
            })
            .collect();
        GatewayClaims {
            oid: az.oid.clone(),
            appid,
            iss: oidc.iss.clone(),
            tid: string_claim("tid"),
            groups: az.groups.clone(),
            xms_az_rid: az.xms_az_rid.clone(),
            xms_mirid: az.xms_mirid.clone(),
            exp: oidc.exp,
            nbf: oidc.nbf,
            kid,
            resource,
            selected,
        }
    }
}

/// The last member named exactly `name` (JSON keys are case-sensitive here, unlike Go's).
fn exact_member<'a>(m: &'a Members, name: &str) -> Option<&'a Value> {
    m.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A claim as header text: strings as they are, numbers and booleans as JSON, arrays as
/// their items joined with commas, objects as compact JSON; `null`/absent: `None`.
/// [`DERIVED_CLAIMS`] come from the token's resource.
pub fn claim_text(m: &Members, resource: Option<&TokenResource>, name: &str) -> Option<String> {
    match name {
        "subscription_id" => return resource.map(|r| r.subscription_id.clone()),
        "resource_group" => return resource.map(|r| r.resource_group.clone()),
        "scale_set" => return resource.and_then(|r| r.scale_set.clone()),
        "resource_name" => return resource.map(|r| r.name.clone()),
        _ => {}
    }
    render(exact_member(m, name)?)
}

fn render(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| match i {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

// -- messages shared by the lean path and the explained flow ------------------------------

pub(crate) fn msg_missing() -> String {
    "token is missing".to_string()
}

pub(crate) fn msg_too_large(n: usize) -> String {
    format!(
        "token is too large: {n} bytes (at most {})",
        token::MAX_TOKEN_BYTES
    )
}

/// go-oidc / go-jose wording without the library prefixes.
fn strip_library(e: &str) -> String {
    let mut s = e;
    loop {
        let before = s.len();
        for p in ["oidc: ", "malformed jwt: ", "go-jose/go-jose: "] {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest;
            }
        }
        if s.len() == before {
            break;
        }
    }
    if let Some(rest) = s.strip_prefix("malformed jwt, ") {
        return rest.to_string();
    }
    if let Some(rest) = s.strip_prefix("malformed jwt payload: ") {
        return format!("payload: {rest}");
    }
    s.to_string()
}

/// `token.format` / `token.algorithm` failures.
pub(crate) fn msg_malformed(e: &str) -> String {
    format!("malformed token: {}", strip_library(e))
}

/// `token.claims` / `token.distributed_claims` / `claims.read` failures.
pub(crate) fn msg_bad_claims(e: &str) -> String {
    let e = e
        .strip_prefix("oidc: failed to unmarshal claims: ")
        .unwrap_or(e);
    format!("malformed token claims: {}", strip_library(e))
}

/// `token.signature` failures.
pub(crate) fn msg_signature(unknown_key: bool, kid: Option<&str>) -> String {
    match (unknown_key, kid) {
        (true, Some(k)) if !k.is_empty() => {
            format!("no signing key with kid {} in the key set", quote(k))
        }
        (true, _) => "no signing key in the key set".to_string(),
        (false, _) => "token signature is invalid".to_string(),
    }
}

/// `token.signature` when the key set could not be obtained (status 503).
pub(crate) fn msg_keys_unavailable(detail: &str) -> String {
    format!("signing keys are unavailable: {detail}")
}

// -- role bindings ------------------------------------------------------------------------

/// A refusal by the role: the check id, the status (403, or 500 for a role the gateway
/// cannot use) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub check: &'static str,
    pub status: u16,
    pub message: String,
}

impl Denial {
    fn forbidden(check: &'static str, message: String) -> Denial {
        Denial {
            check,
            status: 403,
            message,
        }
    }

    fn config(check: &'static str, message: String) -> Denial {
        Denial {
            check,
            status: 500,
            message,
        }
    }
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Whether a check applied (`Passed`) or did not apply to this role (`Skipped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Passed,
    Skipped,
}

/// The message refusing `bound_locations` (a gateway configuration error).
pub fn bound_locations_message(role_name: &str) -> String {
    format!(
        "role {}: bound_locations cannot be checked by a gateway (a token carries no location); remove it, or use the vault profile, which reads the location from ARM",
        quote(role_name)
    )
}

/// `role.bound_cidrs`: the caller's address must be inside the role's `token_bound_cidrs`.
pub fn check_bound_cidrs(role: &Role, remote_addr: Option<&str>) -> Result<Applied, Denial> {
    if role.token.bound_cidrs.is_empty() {
        return Ok(Applied::Skipped);
    }
    let ip = remote_addr
        .filter(|a| !a.is_empty())
        .and_then(cidr::parse_remote_addr);
    let inside = ip.is_some_and(|ip| {
        role.token
            .bound_cidrs
            .iter()
            .filter_map(|c| cidr::Cidr::parse(c))
            .any(|c| c.contains(ip))
    });
    if inside {
        Ok(Applied::Passed)
    } else {
        Err(Denial::forbidden(
            "role.bound_cidrs",
            match ip {
                Some(ip) => format!(
                    "client address {ip} is outside the token_bound_cidrs of role {}",
                    quote(&role.name)
                ),
                None => format!(
                    "client address is unknown and role {} has token_bound_cidrs",
                    quote(&role.name)
                ),
            },
        ))
    }
}

/// `bindings.specific`: Vault's rule that a role must name service principals or groups.
pub fn check_specific(role: &Role) -> Result<(), Denial> {
    let sps = &role.bound_service_principal_ids;
    let groups = &role.bound_group_ids;
    let open = (sps.is_empty() && groups.is_empty())
        || (role::is_wildcard(sps) && role::is_wildcard(groups));
    if open {
        Err(Denial::config(
            "bindings.specific",
            format!(
                "role {} binds no specific service principal or group (bound_service_principal_ids and bound_group_ids are both empty or \"*\")",
                quote(&role.name)
            ),
        ))
    } else {
        Ok(())
    }
}

/// `bindings.service_principal`: Vault's rule (case-insensitive; `"*"` or empty: any).
pub fn check_service_principal(role: &Role, oid: &str) -> Result<Applied, Denial> {
    let sps = &role.bound_service_principal_ids;
    if sps.is_empty() || role::is_wildcard(sps) {
        Ok(Applied::Skipped)
    } else if role::contains_fold(sps, oid) {
        Ok(Applied::Passed)
    } else {
        Err(Denial::forbidden(
            "bindings.service_principal",
            format!(
                "service principal {} is not bound to role {}",
                if oid.is_empty() { "(no oid)" } else { oid },
                quote(&role.name)
            ),
        ))
    }
}

/// `bindings.groups`: Vault's rule (any overlap, case-insensitive; `"*"` or empty: any).
pub fn check_groups(role: &Role, groups: &[String]) -> Result<Applied, Denial> {
    let bound = &role.bound_group_ids;
    if bound.is_empty() || role::is_wildcard(bound) {
        Ok(Applied::Skipped)
    } else if groups.iter().any(|g| role::contains_fold(bound, g)) {
        Ok(Applied::Passed)
    } else {
        Err(Denial::forbidden(
            "bindings.groups",
            format!(
                "groups {} are not bound to role {}",
                gocompat::plain_list(groups),
                quote(&role.name)
            ),
        ))
    }
}

/// `resource.claims`: with resource bindings, the token must name a resource.
pub fn check_resource<'a>(
    role: &Role,
    c: &'a GatewayClaims,
) -> Result<Option<&'a TokenResource>, Denial> {
    if !role.has_resource_bindings() {
        return Ok(None);
    }
    match &c.resource {
        Some(r) => Ok(Some(r)),
        None if c.xms_az_rid.is_empty() && c.xms_mirid.is_empty() => Err(Denial::forbidden(
            "resource.claims",
            format!(
                "token has no xms_az_rid or xms_mirid claim, so the resource bindings of role {} cannot match (such claims are issued only for first-party audiences such as https://management.azure.com/)",
                quote(&role.name)
            ),
        )),
        None => Err(Denial::forbidden(
            "resource.claims",
            format!(
                "token claim {} is not an Azure resource id",
                quote(if c.xms_az_rid.is_empty() {
                    &c.xms_mirid
                } else {
                    &c.xms_az_rid
                })
            ),
        )),
    }
}

/// `resource.identity_match`: the signed token binds its `oid` to the resource it names;
/// the `oid` must be present (exact; there is no app id fallback).
pub fn check_identity(c: &GatewayClaims) -> Result<(), Denial> {
    if c.oid.is_empty() {
        Err(Denial::forbidden(
            "resource.identity_match",
            "token has no oid claim".to_string(),
        ))
    } else {
        Ok(())
    }
}

/// `bound.subscription`: the token's subscription, whole segment, case-insensitive.
pub fn check_subscription(role: &Role, r: &TokenResource) -> Result<Applied, Denial> {
    if role.bound_subscription_ids.is_empty() {
        Ok(Applied::Skipped)
    } else if role::contains_fold(&role.bound_subscription_ids, &r.subscription_id) {
        Ok(Applied::Passed)
    } else {
        Err(Denial::forbidden(
            "bound.subscription",
            format!(
                "subscription {} is not bound to role {}",
                r.subscription_id,
                quote(&role.name)
            ),
        ))
    }
}

/// `bound.resource_group`: the token's resource group, whole segment, case-insensitive.
pub fn check_resource_group(role: &Role, r: &TokenResource) -> Result<Applied, Denial> {
    if role.bound_resource_groups.is_empty() {
        Ok(Applied::Skipped)
    } else if role::contains_fold(&role.bound_resource_groups, &r.resource_group) {
        Ok(Applied::Passed)
    } else {
        Err(Denial::forbidden(
            "bound.resource_group",
            format!(
                "resource group {} is not bound to role {}",
                r.resource_group,
                quote(&role.name)
            ),
        ))
    }
}

/// `bound.scale_set`: the token's scale set (uniform, or flexible instance prefix).
pub fn check_scale_set(role: &Role, r: &TokenResource) -> Result<Applied, Denial> {
    if role.bound_scale_sets.is_empty() {
        return Ok(Applied::Skipped);
    }
    match &r.scale_set {
        Some(ss) if role::contains_fold(&role.bound_scale_sets, ss) => Ok(Applied::Passed),
        Some(ss) => Err(Denial::forbidden(
            "bound.scale_set",
            format!("scale set {ss} is not bound to role {}", quote(&role.name)),
        )),
        None => Err(Denial::forbidden(
            "bound.scale_set",
            format!(
                "{} is not in a scale set, and role {} requires one of bound_scale_sets",
                r.describe(),
                quote(&role.name)
            ),
        )),
    }
}

/// `bound.location`: a gateway cannot check locations (refused at configuration time).
pub fn check_location(role: &Role) -> Result<Applied, Denial> {
    if role.bound_locations.is_empty() {
        Ok(Applied::Skipped)
    } else {
        Err(Denial::config(
            "bound.location",
            bound_locations_message(&role.name),
        ))
    }
}

/// Decides whether `role` admits a verified token: Vault's service-principal and group
/// rules, then the resource bindings read from the token. The first failing check
/// decides. Run it on every request (it is cheap); only [`Verifier::verify`] is cached.
pub fn authorize(role: &Role, c: &GatewayClaims) -> Result<(), Denial> {
    check_specific(role)?;
    check_service_principal(role, &c.oid)?;
    check_groups(role, &c.groups)?;
    if let Some(r) = check_resource(role, c)? {
        check_identity(c)?;
        check_subscription(role, r)?;
        check_resource_group(role, r)?;
        check_scale_set(role, r)?;
    }
    check_location(role)?;
    Ok(())
}

/// Reads the roles of a gateway configuration: `{name: role}` with Vault's role parsing
/// (names case-insensitive), each refused when a gateway cannot use it
/// ([`role_config_error`]). `prefix` names the member in errors (`roles`); null or absent
/// is no roles.
pub fn parse_roles(v: &Value, prefix: &str) -> Result<BTreeMap<String, Role>, FieldError> {
    let mut roles = BTreeMap::new();
    let map = match v {
        Value::Object(map) => map,
        Value::Null => return Ok(roles),
        _ => {
            return Err(FieldError::new(
                prefix,
                "expected an object of role name → Vault role",
            ))
        }
    };
    for (name, body) in map {
        let f = format!("{prefix}.{name}");
        let mut role = Role::from_json(body, name).map_err(|e| {
            let rest = e.field.split_once('.').map(|(_, r)| r).unwrap_or("");
            let field = if rest.is_empty() {
                f.clone()
            } else {
                format!("{f}.{rest}")
            };
            FieldError::new(field, e.message)
        })?;
        role.name = name.to_lowercase();
        if let Some((field, message)) = role_config_error(&role) {
            let field = if field == "role" {
                f.clone()
            } else {
                format!("{f}.{field}")
            };
            return Err(FieldError::new(field, message));
        }
        if roles.insert(role.name.clone(), role).is_some() {
            return Err(FieldError::new(
                f,
                "duplicate role (names are case-insensitive)",
            ));
        }
    }
    Ok(roles)
}

/// Why a role cannot be configured in a gateway (strict: the filter refuses such a role
/// when it loads its configuration). `None` when the role is usable. The returned field is
/// relative to the role (`bound_locations`).
pub fn role_config_error(role: &Role) -> Option<(String, String)> {
    if let Some(e) = role.write_error() {
        return Some((
            "role".to_string(),
            format!("Vault would refuse this role: {e}"),
        ));
    }
    if let Some(f) = role.unknown_fields.first() {
        return Some((f.clone(), "unknown role field".to_string()));
    }
    if !role.bound_locations.is_empty() {
        return Some((
            "bound_locations".to_string(),
            bound_locations_message(&role.name),
        ));
    }
    if let Err(d) = check_specific(role) {
        return Some(("bound_service_principal_ids".to_string(), d.message));
    }
    for c in &role.token.bound_cidrs {
        if cidr::Cidr::parse(c).is_none() {
            return Some((
                "token_bound_cidrs".to_string(),
                format!("{} is not a CIDR", quote(c)),
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";

    #[test]
    fn settings_parse_and_refuse() {
        let s = GatewaySettings::from_json(
            &json!({"clock_skew_seconds": 5, "audiences": "a,b", "token_versions": ["2.0", "v1"]}),
            "gateway",
        )
        .unwrap();
        assert_eq!(s.clock_skew_seconds, 5);
        assert_eq!(s.audiences, vec!["a", "b"]);
        assert_eq!(s.token_versions, vec![TokenVersion::V1, TokenVersion::V2]);
        let e = GatewaySettings::from_json(&json!({"skew": 5}), "gateway").unwrap_err();
        assert_eq!(e.field, "gateway.skew");
        let e =
            GatewaySettings::from_json(&json!({"clock_skew_seconds": -1}), "gateway").unwrap_err();
        assert_eq!(e.field, "gateway.clock_skew_seconds");
        let e =
            GatewaySettings::from_json(&json!({"token_versions": ["v3"]}), "gateway").unwrap_err();
        assert!(e.message.contains("v3"));
        assert!(GatewaySettings::from_json(&json!({"token_versions": []}), "gateway").is_err());
    }

    #[test]
    fn verifier_issuers_and_errors() {
        let s = GatewaySettings {
            token_versions: vec![TokenVersion::V1, TokenVersion::V2],
            ..GatewaySettings::default()
        };
        let v = Verifier::new(&T.to_uppercase(), Cloud::AzureChinaCloud, &s, "aud").unwrap();
        assert_eq!(
            v.issuers(),
            [
                format!("https://sts.chinacloudapi.cn/{T}/"),
                format!("https://login.partner.microsoftonline.cn/{T}/v2.0")
            ]
        );
        assert_eq!(v.audiences(), ["aud"]);
        assert!(v
            .check_issuer(&format!("https://sts.chinacloudapi.cn/{T}/"))
            .is_ok());
        let e =
            Verifier::new("contoso.onmicrosoft.com", Cloud::AzurePublicCloud, &s, "a").unwrap_err();
        assert_eq!(e.field, "tenant_id");
        let e = Verifier::new(T, Cloud::AzurePublicCloud, &s, "").unwrap_err();
        assert_eq!(e.field, "audiences");
    }

    #[test]
    fn skew_applies_to_exp_and_nbf() {
        let v =
            Verifier::new(T, Cloud::AzurePublicCloud, &GatewaySettings::default(), "a").unwrap();
        assert!(v.check_expiry(1000, 1060).is_ok());
        assert_eq!(
            v.check_expiry(1000, 1061).unwrap_err(),
            "token expired at 1970-01-01T00:16:40Z (clock skew 60s)"
        );
        assert_eq!(
            v.check_expiry(gocompat::GO_ZERO_TIME, 0).unwrap_err(),
            "token has no exp claim"
        );
        assert!(v.check_not_before(Some(1060), 1000).is_ok());
        assert!(v.check_not_before(Some(1061), 1000).is_err());
        assert!(v.check_not_before(None, 1000).is_ok());
    }

    #[test]
    fn resources_from_claims() {
        let flex = TokenResource::from_claims(
            "/subscriptions/S/resourcegroups/RG-Web/providers/Microsoft.Compute/virtualMachines/jobs_1a2b3c4d",
            "/subscriptions/S2/resourcegroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id",
        )
        .unwrap();
        assert_eq!(flex.source, "xms_az_rid");
        assert_eq!(flex.resource_group, "RG-Web");
        assert_eq!(flex.scale_set.as_deref(), Some("jobs"));
        let uniform = TokenResource::from_claims(
            "",
            "/subscriptions/S/resourcegroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/api",
        )
        .unwrap();
        assert_eq!(uniform.scale_set.as_deref(), Some("api"));
        let inst = TokenResource::from_claims(
            "/subscriptions/S/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/api/virtualMachines/3",
            "",
        )
        .unwrap();
        assert_eq!(inst.scale_set.as_deref(), Some("api"));
        let vm = TokenResource::from_claims(
            "",
            "/subscriptions/S/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/web-01",
        )
        .unwrap();
        assert_eq!(vm.scale_set, None);
        let arc = TokenResource::from_claims(
            "",
            "/subscriptions/S/resourcegroups/rg/providers/Microsoft.HybridCompute/machines/m_1a2b3c4d",
        )
        .unwrap();
        assert_eq!(arc.scale_set, None, "only Microsoft.Compute has scale sets");
        assert!(TokenResource::from_claims("", "").is_none());
        assert!(TokenResource::from_claims("", "not-a-path").is_none());
    }

    #[test]
    fn library_prefixes_are_stripped() {
        assert_eq!(
            msg_malformed("oidc: malformed jwt: oidc: malformed jwt, expected 3 parts got 1"),
            "malformed token: expected 3 parts got 1"
        );
        assert_eq!(
            msg_malformed("oidc: malformed jwt: oidc: malformed jwt payload: illegal base64 data at input byte 1"),
            "malformed token: payload: illegal base64 data at input byte 1"
        );
        assert_eq!(
            msg_malformed(
                "go-jose/go-jose: unexpected signature algorithm \"HS256\"; expected [\"RS256\"]"
            ),
            "malformed token: unexpected signature algorithm \"HS256\"; expected [\"RS256\"]"
        );
        assert_eq!(
            msg_bad_claims("oidc: source does not exist"),
            "malformed token claims: source does not exist"
        );
    }

    fn role(v: Value) -> Role {
        Role::from_json(&v, "r").unwrap()
    }

    #[test]
    fn whole_segment_bindings() {
        let c = GatewayClaims {
            oid: "o".into(),
            appid: String::new(),
            iss: String::new(),
            tid: String::new(),
            groups: Vec::new(),
            xms_az_rid: String::new(),
            xms_mirid: "/subscriptions/S/resourcegroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm10".into(),
            exp: 0,
            nbf: None,
            kid: None,
            resource: TokenResource::from_claims("", "/subscriptions/S/resourcegroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm10"),
            selected: Vec::new(),
        };
        let ok = role(
            json!({"bound_service_principal_ids": "O", "bound_resource_groups": "RG-PROD", "bound_subscription_ids": "s"}),
        );
        assert_eq!(authorize(&ok, &c), Ok(()));
        let prefix =
            role(json!({"bound_service_principal_ids": "o", "bound_resource_groups": "rg"}));
        assert_eq!(
            authorize(&prefix, &c).unwrap_err().check,
            "bound.resource_group"
        );
        let ss = role(json!({"bound_service_principal_ids": "o", "bound_scale_sets": "vm1"}));
        let d = authorize(&ss, &c).unwrap_err();
        assert_eq!(d.check, "bound.scale_set");
        assert!(d
            .message
            .contains("virtual machine vm10 is not in a scale set"));
        let loc = role(json!({"bound_service_principal_ids": "o", "bound_locations": "eastus"}));
        assert_eq!(authorize(&loc, &c).unwrap_err().status, 500);
        assert_eq!(
            role_config_error(&loc).map(|(f, _)| f).as_deref(),
            Some("bound_locations")
        );
        let open = role(
            json!({"bound_service_principal_ids": "*", "bound_group_ids": "*", "bound_resource_groups": "rg"}),
        );
        assert_eq!(
            role_config_error(&open).map(|(f, _)| f).as_deref(),
            Some("bound_service_principal_ids")
        );
    }

    #[test]
    fn claim_text_renders_for_headers() {
        let m = token::parse_object(
            br#"{"groups":["a","b"],"n":5,"b":true,"o":{"x":1},"z":null,"s":"v"}"#,
            "x",
        )
        .unwrap();
        assert_eq!(claim_text(&m, None, "groups").as_deref(), Some("a,b"));
        assert_eq!(claim_text(&m, None, "n").as_deref(), Some("5"));
        assert_eq!(claim_text(&m, None, "b").as_deref(), Some("true"));
        assert_eq!(claim_text(&m, None, "o").as_deref(), Some("{\"x\":1}"));
        assert_eq!(claim_text(&m, None, "z"), None);
        assert_eq!(claim_text(&m, None, "S"), None, "exact names");
        assert_eq!(claim_text(&m, None, "subscription_id"), None);
    }
}
