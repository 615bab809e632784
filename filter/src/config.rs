//! The plugin configuration (the JSON given to Envoy as the plugin's `configuration`),
//! in Envoy `jwt_authn` vocabulary where it has a word for the thing.
//!
//! Parsing is all-or-nothing: [`FilterConfig::parse`] either returns a complete
//! configuration or a [`ConfigError`] naming the first bad field; the filter then keeps the
//! configuration it had.

use std::collections::BTreeMap;

use aadauth::gateway::{self, GatewaySettings, Verifier};
use aadauth::{Cloud, KeySet, Role};
use serde_json::{Map, Value};

/// The default `from_headers`: `Authorization: Bearer <token>`.
pub const DEFAULT_HEADER: &str = "authorization";
pub const DEFAULT_PREFIX: &str = "Bearer ";
/// Envoy's default `cache_duration` of remote JWKS: 10 minutes.
pub const DEFAULT_JWKS_CACHE_SECONDS: i64 = 600;
/// Timeout of a key fetch, and the longest a request waits for keys.
pub const DEFAULT_JWKS_TIMEOUT_MS: u64 = 5000;
/// Envoy's default `jwt_cache_size`.
pub const DEFAULT_JWT_CACHE_SIZE: usize = 100;

const KNOWN: &[&str] = &[
    "tenant",
    "cloud",
    "environment",
    "audiences",
    "token_versions",
    "local_jwks",
    "jwks_cluster",
    "jwks_path",
    "jwks_authority",
    "jwks_cache_seconds",
    "jwks_timeout_ms",
    "from_headers",
    "forward",
    "claim_to_headers",
    "clock_skew_seconds",
    "jwt_cache_size",
    "roles",
    "rules",
    "include_failure_detail",
];

/// A configuration that cannot be applied: the field (dotted path) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl ConfigError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Where keys are fetched from (`jwks_cluster`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteJwks {
    pub cluster: String,
    pub path: String,
    pub authority: String,
    pub cache_seconds: i64,
    pub timeout_ms: u64,
}

impl RemoteJwks {
    /// The shared-data key under which workers share this key set.
    pub fn shared_key(&self) -> String {
        format!(
            "aadauth_filter.jwks|{}|{}|{}",
            self.cluster, self.authority, self.path
        )
    }

    /// `https://authority/path`, for logs and messages.
    pub fn url(&self) -> String {
        format!("https://{}{}", self.authority, self.path)
    }
}

/// One `from_headers` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromHeader {
    /// Lower-cased.
    pub name: String,
    pub value_prefix: String,
}

/// One `claim_to_headers` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimHeader {
    /// Lower-cased.
    pub header_name: String,
    pub claim_name: String,
}

/// What a matching rule requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// A valid token admitted by this role (lower-cased name).
    Role(String),
    /// Nothing.
    AllowUnauthenticated,
}

/// One of the first-match `rules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub prefix: String,
    /// Lower-cased; compared with `:authority` (with or without its port).
    pub host: Option<String>,
    /// Upper-cased.
    pub method: Option<String>,
    pub requirement: Requirement,
}

impl Rule {
    pub fn matches(&self, path: &str, authority: &str, method: &str) -> bool {
        if !path.starts_with(&self.prefix) {
            return false;
        }
        if let Some(m) = &self.method {
            if !m.eq_ignore_ascii_case(method) {
                return false;
            }
        }
        if let Some(h) = &self.host {
            let a = authority.to_ascii_lowercase();
            let bare = match a.rsplit_once(':') {
                // Not an IPv6 literal without port ("[::1]").
                Some((host, port))
                    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    host
                }
                _ => a.as_str(),
            };
            if h != &a && h != bare {
                return false;
            }
        }
        true
    }
}

/// A complete, validated plugin configuration.
#[derive(Debug, Clone)]
pub struct FilterConfig {
    pub cloud: Cloud,
    pub verifier: Verifier,
    pub local_jwks: Option<KeySet>,
    pub remote: Option<RemoteJwks>,
    pub from_headers: Vec<FromHeader>,
    pub forward: bool,
    pub claim_to_headers: Vec<ClaimHeader>,
    /// The distinct claim names of `claim_to_headers`.
    pub wanted_claims: Vec<String>,
    pub clock_skew_seconds: i64,
    pub jwt_cache_size: usize,
    /// By lower-cased name.
    pub roles: BTreeMap<String, Role>,
    pub rules: Vec<Rule>,
    pub include_failure_detail: bool,
}

fn string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ConfigError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ConfigError::new(field, "must be a string")),
    }
}

fn boolean(obj: &Map<String, Value>, field: &str, default: bool) -> Result<bool, ConfigError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ConfigError::new(field, "must be true or false")),
    }
}

fn integer(
    obj: &Map<String, Value>,
    field: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ConfigError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_i64() {
            Some(n) if range.contains(&n) => Ok(n),
            _ => Err(ConfigError::new(
                field,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

fn unknown_member(
    obj: &Map<String, Value>,
    prefix: &str,
    known: &[&str],
) -> Result<(), ConfigError> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ConfigError::new(
            format!("{prefix}{k}"),
            format!("unknown field (known: {})", known.join(", ")),
        )),
        None => Ok(()),
    }
}

/// An HTTP header name (RFC 9110 token characters), not a pseudo-header.
fn valid_header_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn from_field(e: aadauth::fields::FieldError, field: &str) -> ConfigError {
    ConfigError::new(field, e.message)
}

impl FilterConfig {
    /// Parses the plugin configuration bytes.
    pub fn parse(bytes: &[u8]) -> Result<FilterConfig, ConfigError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ConfigError::new("configuration", "not valid UTF-8"))?;
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| ConfigError::new("configuration", format!("not valid JSON: {e}")))?;
        Self::from_json(&doc)
    }

    pub fn from_json(doc: &Value) -> Result<FilterConfig, ConfigError> {
        let obj = doc
            .as_object()
            .ok_or_else(|| ConfigError::new("configuration", "expected a JSON object"))?;
        unknown_member(obj, "", KNOWN)?;

        let tenant = string(obj, "tenant")?
            .ok_or_else(|| ConfigError::new("tenant", "required: the tenant's GUID"))?;
        let (cloud_field, cloud_name) = match (string(obj, "cloud")?, string(obj, "environment")?) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "environment",
                    "give either cloud or environment, not both",
                ))
            }
            (Some(c), None) => ("cloud", c),
            (None, Some(e)) => ("environment", e),
            (None, None) => ("cloud", String::new()),
        };
        let cloud = Cloud::from_environment(&cloud_name).map_err(|_| {
            ConfigError::new(
                cloud_field,
                format!(
                    "unknown cloud {} (known: AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud)",
                    aadauth::gocompat::quote(&cloud_name)
                ),
            )
        })?;

        let mut settings = GatewaySettings::default();
        match obj.get("audiences") {
            None | Some(Value::Null) => return Err(ConfigError::new(
                "audiences",
                "required: the token audiences to accept, e.g. [\"https://management.azure.com/\"]",
            )),
            Some(v) => {
                settings.audiences = aadauth::fields::string_list("audiences", v)
                    .map_err(|e| from_field(e, "audiences"))?;
            }
        }
        if let Some(v) = obj.get("token_versions").filter(|v| !v.is_null()) {
            settings.token_versions = gateway::parse_token_versions("token_versions", v)
                .map_err(|e| from_field(e, "token_versions"))?;
        }
        if let Some(v) = obj.get("clock_skew_seconds").filter(|v| !v.is_null()) {
            settings.clock_skew_seconds = gateway::parse_clock_skew("clock_skew_seconds", v)
                .map_err(|e| from_field(e, "clock_skew_seconds"))?;
        }
        let verifier = Verifier::new(&tenant, cloud, &settings, "").map_err(|e| {
            let field = if e.field == "tenant_id" {
                "tenant".to_string()
            } else {
                e.field
            };
            ConfigError::new(field, e.message)
        })?;

        // Keys.
        let local_jwks = match obj.get("local_jwks") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let set = match v {
                    Value::String(text) => KeySet::from_jwks_str(text),
                    other => KeySet::from_jwks(other),
                }
                .map_err(|e| ConfigError::new("local_jwks", format!("not a JWKS: {e}")))?;
                if !set.keys.iter().any(|k| k.unusable().is_none()) {
                    return Err(ConfigError::new(
                        "local_jwks",
                        "has no usable RSA key (2048 bits or more)",
                    ));
                }
                Some(set)
            }
        };
        let remote = match string(obj, "jwks_cluster")? {
            None => {
                for f in [
                    "jwks_path",
                    "jwks_authority",
                    "jwks_cache_seconds",
                    "jwks_timeout_ms",
                ] {
                    if obj.get(f).is_some_and(|v| !v.is_null()) {
                        return Err(ConfigError::new(f, "only used with jwks_cluster"));
                    }
                }
                None
            }
            Some(cluster) if cluster.is_empty() => {
                return Err(ConfigError::new("jwks_cluster", "must not be empty"))
            }
            Some(cluster) => {
                let path = string(obj, "jwks_path")?
                    .unwrap_or_else(|| "/common/discovery/keys".to_string());
                if !path.starts_with('/') {
                    return Err(ConfigError::new("jwks_path", "must start with /"));
                }
                let default_authority = cloud
                    .authority()
                    .trim_start_matches("https://")
                    .trim_end_matches('/')
                    .to_string();
                let authority = string(obj, "jwks_authority")?.unwrap_or(default_authority);
                if authority.is_empty() || authority.contains('/') {
                    return Err(ConfigError::new(
                        "jwks_authority",
                        "must be a host name (with an optional port), e.g. login.microsoftonline.com",
                    ));
                }
                Some(RemoteJwks {
                    cluster,
                    path,
                    authority,
                    cache_seconds: integer(
                        obj,
                        "jwks_cache_seconds",
                        DEFAULT_JWKS_CACHE_SECONDS,
                        10..=7 * 86_400,
                    )?,
                    timeout_ms: integer(
                        obj,
                        "jwks_timeout_ms",
                        DEFAULT_JWKS_TIMEOUT_MS as i64,
                        100..=60_000,
                    )? as u64,
                })
            }
        };
        if local_jwks.is_none() && remote.is_none() {
            return Err(ConfigError::new(
                "jwks_cluster",
                "give local_jwks, jwks_cluster, or both: the filter needs the tenant's signing keys",
            ));
        }

        // Where the token is.
        let from_headers = match obj.get("from_headers") {
            None | Some(Value::Null) => vec![FromHeader {
                name: DEFAULT_HEADER.into(),
                value_prefix: DEFAULT_PREFIX.into(),
            }],
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let f = format!("from_headers[{i}]");
                    let o = item
                        .as_object()
                        .ok_or_else(|| ConfigError::new(&f, "expected {name, value_prefix}"))?;
                    unknown_member(o, &format!("{f}."), &["name", "value_prefix"])?;
                    let name = match o.get("name") {
                        Some(Value::String(s)) if valid_header_name(s) => s.to_ascii_lowercase(),
                        _ => {
                            return Err(ConfigError::new(
                                format!("{f}.name"),
                                "required: an HTTP header name",
                            ))
                        }
                    };
                    let value_prefix = match o.get("value_prefix") {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => s.clone(),
                        Some(_) => {
                            return Err(ConfigError::new(
                                format!("{f}.value_prefix"),
                                "must be a string",
                            ))
                        }
                    };
                    out.push(FromHeader { name, value_prefix });
                }
                out
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "from_headers",
                    "expected a non-empty list of {name, value_prefix}",
                ))
            }
        };
        let forward = boolean(obj, "forward", false)?;

        let mut claim_to_headers = Vec::new();
        match obj.get("claim_to_headers") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let f = format!("claim_to_headers[{i}]");
                    let o = item.as_object().ok_or_else(|| {
                        ConfigError::new(&f, "expected {header_name, claim_name}")
                    })?;
                    unknown_member(o, &format!("{f}."), &["header_name", "claim_name"])?;
                    let header_name = match o.get("header_name") {
                        Some(Value::String(s)) if valid_header_name(s) => s.to_ascii_lowercase(),
                        _ => {
                            return Err(ConfigError::new(
                                format!("{f}.header_name"),
                                "required: an HTTP header name (not a pseudo-header)",
                            ))
                        }
                    };
                    if [
                        "host",
                        "authorization",
                        "content-length",
                        "transfer-encoding",
                    ]
                    .contains(&header_name.as_str())
                        || from_headers.iter().any(|h| h.name == header_name)
                    {
                        return Err(ConfigError::new(
                            format!("{f}.header_name"),
                            format!("{header_name} cannot carry a claim"),
                        ));
                    }
                    let claim_name = match o.get("claim_name") {
                        Some(Value::String(s)) if !s.is_empty() => s.clone(),
                        _ => {
                            return Err(ConfigError::new(
                                format!("{f}.claim_name"),
                                "required: a claim name, or one of subscription_id, resource_group, scale_set, resource_name",
                            ))
                        }
                    };
                    claim_to_headers.push(ClaimHeader {
                        header_name,
                        claim_name,
                    });
                }
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "claim_to_headers",
                    "expected a list of {header_name, claim_name}",
                ))
            }
        }
        let mut wanted_claims: Vec<String> = Vec::new();
        for c in &claim_to_headers {
            if !wanted_claims.contains(&c.claim_name) {
                wanted_claims.push(c.claim_name.clone());
            }
        }

        let jwt_cache_size = integer(
            obj,
            "jwt_cache_size",
            DEFAULT_JWT_CACHE_SIZE as i64,
            0..=100_000,
        )? as usize;

        // Roles: Vault's role parsing, then what a gateway cannot use (the core's rules).
        let roles = gateway::parse_roles(obj.get("roles").unwrap_or(&Value::Null), "roles")
            .map_err(|e| ConfigError::new(e.field, e.message))?;

        let rules = match obj.get("rules") {
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    out.push(parse_rule(item, &format!("rules[{i}]"), &roles)?);
                }
                out
            }
            _ => {
                return Err(ConfigError::new(
                    "rules",
                    "required: a non-empty list of {match: {prefix, host?, method?}, role | allow_unauthenticated}",
                ))
            }
        };

        Ok(FilterConfig {
            cloud,
            clock_skew_seconds: verifier.clock_skew(),
            verifier,
            local_jwks,
            remote,
            from_headers,
            forward,
            claim_to_headers,
            wanted_claims,
            jwt_cache_size,
            roles,
            rules,
            include_failure_detail: boolean(obj, "include_failure_detail", true)?,
        })
    }

    /// Whether a rule matches on the request's host: if none does, [`FilterConfig::rule_for`]
    /// needs no `:authority`.
    pub fn rules_match_hosts(&self) -> bool {
        self.rules.iter().any(|r| r.host.is_some())
    }

    /// Whether a rule matches on the request's method: if none does,
    /// [`FilterConfig::rule_for`] needs no `:method`.
    pub fn rules_match_methods(&self) -> bool {
        self.rules.iter().any(|r| r.method.is_some())
    }

    /// The first rule matching the request, if any.
    pub fn rule_for(&self, path: &str, authority: &str, method: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.matches(path, authority, method))
    }
}

fn parse_rule(item: &Value, f: &str, roles: &BTreeMap<String, Role>) -> Result<Rule, ConfigError> {
    let o = item.as_object().ok_or_else(|| {
        ConfigError::new(
            f,
            "expected {match, role} or {match, allow_unauthenticated}",
        )
    })?;
    unknown_member(
        o,
        &format!("{f}."),
        &["match", "role", "allow_unauthenticated"],
    )?;
    let m = o.get("match").and_then(Value::as_object).ok_or_else(|| {
        ConfigError::new(format!("{f}.match"), "required: {prefix, host?, method?}")
    })?;
    unknown_member(m, &format!("{f}.match."), &["prefix", "host", "method"])?;
    let prefix = match m.get("prefix") {
        Some(Value::String(p)) if p.starts_with('/') => p.clone(),
        _ => {
            return Err(ConfigError::new(
                format!("{f}.match.prefix"),
                "required: a path prefix starting with /",
            ))
        }
    };
    let host = match m.get("host") {
        None | Some(Value::Null) => None,
        Some(Value::String(h)) if !h.is_empty() => Some(h.to_ascii_lowercase()),
        Some(_) => {
            return Err(ConfigError::new(
                format!("{f}.match.host"),
                "must be a non-empty string",
            ))
        }
    };
    let method = match m.get("method") {
        None | Some(Value::Null) => None,
        Some(Value::String(h)) if valid_header_name(h) => Some(h.to_ascii_uppercase()),
        Some(_) => {
            return Err(ConfigError::new(
                format!("{f}.match.method"),
                "must be an HTTP method such as GET",
            ))
        }
    };
    let unauthenticated = boolean(o, "allow_unauthenticated", false)
        .map_err(|e| ConfigError::new(format!("{f}.allow_unauthenticated"), e.message))?;
    let requirement = match (o.get("role"), unauthenticated) {
        (Some(Value::String(r)), false) => {
            let name = r.to_lowercase();
            if !roles.contains_key(&name) {
                return Err(ConfigError::new(
                    format!("{f}.role"),
                    format!("no role named {} in roles", aadauth::gocompat::quote(r)),
                ));
            }
            Requirement::Role(name)
        }
        (None, true) => Requirement::AllowUnauthenticated,
        (Some(_), true) => {
            return Err(ConfigError::new(
                format!("{f}.role"),
                "give either role or allow_unauthenticated: true, not both",
            ))
        }
        (Some(_), false) => {
            return Err(ConfigError::new(format!("{f}.role"), "must be a role name"))
        }
        (None, false) => {
            return Err(ConfigError::new(
                format!("{f}.role"),
                "required: a role name (or allow_unauthenticated: true)",
            ))
        }
    };
    Ok(Rule {
        prefix,
        host,
        method,
        requirement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";

    fn base() -> Value {
        json!({
            "tenant": T,
            "audiences": ["https://management.azure.com/"],
            "jwks_cluster": "aad",
            "roles": {"Web": {"bound_service_principal_ids": "5b7e0c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d"}},
            "rules": [
                {"match": {"prefix": "/health"}, "allow_unauthenticated": true},
                {"match": {"prefix": "/", "host": "api.example", "method": "get"}, "role": "web"}
            ]
        })
    }

    fn err(mut doc: Value, path: &[&str], v: Value) -> ConfigError {
        let mut cur = &mut doc;
        for p in &path[..path.len() - 1] {
            cur = &mut cur[*p];
        }
        match v {
            Value::Null => {
                cur.as_object_mut().map(|o| o.remove(path[path.len() - 1]));
            }
            v => cur[path[path.len() - 1]] = v,
        }
        FilterConfig::from_json(&doc).unwrap_err()
    }

    #[test]
    fn defaults() {
        let c = FilterConfig::from_json(&base()).unwrap();
        let r = c.remote.as_ref().unwrap();
        assert_eq!(r.authority, "login.microsoftonline.com");
        assert_eq!(r.path, "/common/discovery/keys");
        assert_eq!(r.cache_seconds, 600);
        assert_eq!(c.from_headers[0].name, "authorization");
        assert_eq!(c.from_headers[0].value_prefix, "Bearer ");
        assert!(!c.forward);
        assert_eq!(c.clock_skew_seconds, 60);
        assert_eq!(c.jwt_cache_size, 100);
        assert!(c.include_failure_detail);
        assert!(c.roles.contains_key("web"));
        let china = FilterConfig::from_json(&{
            let mut d = base();
            d["cloud"] = json!("AzureChinaCloud");
            d
        })
        .unwrap();
        assert_eq!(china.remote.unwrap().authority, "login.chinacloudapi.cn");
    }

    #[test]
    fn rules_first_match() {
        let c = FilterConfig::from_json(&base()).unwrap();
        let req = |p: &str, h: &str, m: &str| c.rule_for(p, h, m).map(|r| r.requirement.clone());
        assert_eq!(
            req("/healthz", "x", "GET"),
            Some(Requirement::AllowUnauthenticated)
        );
        assert_eq!(
            req("/api", "API.example:443", "GET"),
            Some(Requirement::Role("web".into()))
        );
        assert_eq!(req("/api", "other", "GET"), None);
        assert_eq!(req("/api", "api.example", "POST"), None);
    }

    #[test]
    fn errors_name_the_field() {
        let b = base;
        assert_eq!(err(b(), &["tenant"], Value::Null).field, "tenant");
        assert_eq!(err(b(), &["tenant"], json!("contoso.com")).field, "tenant");
        assert_eq!(
            err(b(), &["cloud"], json!("AzureGermanCloud")).field,
            "cloud"
        );
        assert_eq!(err(b(), &["audiences"], json!([])).field, "audiences");
        assert_eq!(
            err(b(), &["token_versions"], json!(["v9"])).field,
            "token_versions"
        );
        assert_eq!(
            err(b(), &["clock_skew_seconds"], json!(-5)).field,
            "clock_skew_seconds"
        );
        assert_eq!(
            err(b(), &["jwks_cluster"], Value::Null).field,
            "jwks_cluster"
        );
        assert_eq!(err(b(), &["jwks_path"], json!("keys")).field, "jwks_path");
        assert_eq!(
            err(b(), &["local_jwks"], json!({"keys": []})).field,
            "local_jwks"
        );
        assert_eq!(
            err(b(), &["jwt_cache_size"], json!(-1)).field,
            "jwt_cache_size"
        );
        assert_eq!(
            err(b(), &["from_headers"], json!([{"value_prefix": "x"}])).field,
            "from_headers[0].name"
        );
        assert_eq!(
            err(
                b(),
                &["claim_to_headers"],
                json!([{"header_name": "x-oid"}])
            )
            .field,
            "claim_to_headers[0].claim_name"
        );
        assert_eq!(
            err(
                b(),
                &["claim_to_headers"],
                json!([{"header_name": "authorization", "claim_name": "oid"}])
            )
            .field,
            "claim_to_headers[0].header_name"
        );
        assert_eq!(err(b(), &["tenantid"], json!("x")).field, "tenantid");
        assert_eq!(
            err(b(), &["roles", "Web", "bound_locations"], json!("eastus")).field,
            "roles.Web.bound_locations"
        );
        assert_eq!(
            err(b(), &["roles", "Web", "token_ttl"], json!("soon")).field,
            "roles.Web.token_ttl"
        );
        assert_eq!(
            err(b(), &["roles", "Web", "bound_resource_grups"], json!("rg")).field,
            "roles.Web.bound_resource_grups"
        );
        assert_eq!(err(b(), &["rules"], json!([])).field, "rules");
        assert_eq!(
            err(
                b(),
                &["rules"],
                json!([{"match": {"prefix": "/"}, "role": "nope"}])
            )
            .field,
            "rules[0].role"
        );
        assert_eq!(
            err(
                b(),
                &["rules"],
                json!([{"match": {"prefix": "x"}, "role": "web"}])
            )
            .field,
            "rules[0].match.prefix"
        );
        assert_eq!(
            err(
                b(),
                &["rules"],
                json!([{"match": {"prefix": "/"}, "role": "web", "allow_unauthenticated": true}])
            )
            .field,
            "rules[0].role"
        );
        assert!(FilterConfig::parse(b"{")
            .unwrap_err()
            .message
            .contains("JSON"));
    }
}
