//! `decode`: a token's header and claims with Azure annotations, for people.
//!
//! Decoding verifies nothing. It explains what the token says: v1 or v2.0, which cloud and
//! tenant issued it, what `xms_mirid` / `xms_az_rid` name, the times in UTC (and relative to
//! `now` when the caller passes a time; the core has no clock), which claims are opaque,
//! and warnings for the usual Vault pitfalls (`spec/vault-azure-login.md` §5).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::clouds::{self, Cloud};
use crate::gocompat;
use crate::resources::{self, ManagedIdentityPath};
use crate::token;

/// A decoded token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded {
    pub header: Value,
    pub claims: Value,
    pub azure: Annotations,
}

/// What the claims mean on Azure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotations {
    /// `"1.0"` or `"2.0"` (from `ver`, else from the issuer).
    pub version: Option<String>,
    pub issuer: Option<IssuerNote>,
    /// `managed identity`, `application`, `user`.
    pub principal_kind: Option<String>,
    pub xms_mirid: Option<ManagedIdentityPath>,
    pub xms_az_rid: Option<ManagedIdentityPath>,
    /// `exp`, `nbf`, `iat` and friends.
    pub times: BTreeMap<String, TimeNote>,
    /// A short meaning of each claim present.
    pub claims: BTreeMap<String, String>,
    /// Claims that are opaque by Microsoft's documentation (do not parse them).
    pub opaque: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssuerNote {
    pub issuer: String,
    pub version: String,
    pub clouds: Vec<String>,
    pub tenant: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeNote {
    pub unix: i64,
    pub utc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<String>,
}

/// Why a token cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Takes what users paste: a raw JWT, `Bearer <jwt>`, an `Authorization:` header line, or
/// the IMDS token response (`{"access_token": ...}`). Returns the JWT text.
pub fn extract_jwt(text: &str) -> Result<String, DecodeError> {
    let t = text.trim();
    if t.starts_with('{') {
        let v: Value = serde_json::from_str(t)
            .map_err(|e| DecodeError(format!("the pasted JSON is not valid: {e}")))?;
        return match v
            .get("access_token")
            .or_else(|| v.get("jwt"))
            .or_else(|| v.get("accessToken"))
        {
            Some(Value::String(s)) => Ok(s.trim().to_string()),
            _ => Err(DecodeError(
                "the pasted JSON has no access_token (expected the IMDS token response)".into(),
            )),
        };
    }
    let t = t
        .strip_prefix("Authorization:")
        .or_else(|| t.strip_prefix("authorization:"))
        .map(str::trim)
        .unwrap_or(t);
    let t = match (t.get(..7), t.get(7..)) {
        (Some(scheme), Some(rest)) if scheme.eq_ignore_ascii_case("bearer ") => rest.trim(),
        _ => t,
    };
    Ok(t.to_string())
}

/// Decodes `jwt`; `now` (Unix seconds) adds relative times and expiry warnings.
pub fn decode_token(jwt: &str, now: Option<i64>) -> Result<Decoded, DecodeError> {
    let jwt = extract_jwt(jwt)?;
    if jwt.len() > token::MAX_TOKEN_BYTES {
        return Err(DecodeError(format!(
            "the token is {} bytes; aadauth decodes at most {}",
            jwt.len(),
            token::MAX_TOKEN_BYTES
        )));
    }
    if jwt.is_empty() {
        return Err(DecodeError("no token given".into()));
    }
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() < 2 {
        return Err(DecodeError(format!(
            "a JWT has three parts separated by dots; this has {}",
            parts.len()
        )));
    }
    let header_bytes =
        gocompat::base64url_decode(parts[0]).map_err(|e| DecodeError(format!("header: {e}")))?;
    let header = token::parse_object(&header_bytes, "header")
        .map_err(|e| DecodeError(format!("header: {e}")))?
        .to_value();
    let payload =
        gocompat::base64url_decode(parts[1]).map_err(|e| DecodeError(format!("payload: {e}")))?;
    let claims = token::parse_object(&payload, "claims")
        .map_err(|e| DecodeError(format!("payload: {e}")))?
        .to_value();
    let azure = annotate(&header, &claims, now, parts.len());
    Ok(Decoded {
        header,
        claims,
        azure,
    })
}

fn annotate(header: &Value, claims: &Value, now: Option<i64>, parts: usize) -> Annotations {
    let s = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
    let mut warnings = Vec::new();
    if parts != 3 {
        warnings.push(format!("the token has {parts} parts; a signed JWT has 3"));
    }
    match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => {}
        Some(other) => warnings.push(format!(
            "alg is {}: Vault accepts only RS256",
            gocompat::quote(other)
        )),
        None => warnings.push("the header has no alg".into()),
    }

    let issuer = s("iss").map(|iss| {
        let info = clouds::classify_issuer(&iss);
        IssuerNote {
            version: info
                .as_ref()
                .map(|i| i.version.to_string())
                .unwrap_or_default(),
            clouds: info
                .as_ref()
                .map(|i| i.clouds.iter().map(|c| c.name().to_string()).collect())
                .unwrap_or_default(),
            tenant: info.map(|i| i.tenant).unwrap_or_default(),
            issuer: iss,
        }
    });
    let version = s("ver").or_else(|| {
        issuer
            .as_ref()
            .filter(|i| !i.version.is_empty())
            .map(|i| i.version.clone())
    });
    if version.as_deref() == Some("2.0") {
        warnings.push("v2.0 token: Vault expects the v1 issuer (https://sts.windows.net/{tenant}/) and refuses it".into());
    }
    if let Some(i) = &issuer {
        if i.version.is_empty() {
            warnings.push(format!(
                "issuer {} is not a Microsoft Entra ID issuer",
                i.issuer
            ));
        }
    }

    let mirid = s("xms_mirid").and_then(|m| resources::split_claim(&m));
    let az_rid = s("xms_az_rid").and_then(|m| resources::split_claim(&m));
    let auds: Vec<String> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    for a in &auds {
        if a.ends_with('/') {
            warnings.push(format!(
                "aud {a} ends with a slash: Vault's config.resource must be exactly {a}"
            ));
        }
    }
    let first_party = auds.iter().any(|a| {
        let a = a.to_lowercase();
        Cloud::ALL
            .iter()
            .any(|c| a.starts_with(c.arm_endpoint().trim_end_matches('/')))
            || a.contains("vault.azure.net")
            || a.contains("database.windows.net")
            || a.contains("storage.azure.com")
            || a.contains("graph.microsoft.com")
    });
    if claims.get("xms_mirid").is_none() && claims.get("xms_az_rid").is_none() {
        if !first_party && !auds.is_empty() && s("idtyp").as_deref() == Some("app") {
            warnings.push("custom audience and no xms_mirid / xms_az_rid: Vault roles with resource bindings (bound_resource_groups, …) will fail with \"claims are missing\"".into());
        } else if s("idtyp").as_deref() == Some("app") || s("appidacr").as_deref() == Some("2") {
            warnings.push(
                "no xms_mirid / xms_az_rid: roles with resource bindings will fail for this token"
                    .into(),
            );
        }
    }
    if let Some(names) = claims.get("_claim_names").and_then(|v| v.get("groups")) {
        let _ = names;
        warnings.push("groups overage: the token lists no groups (over 200); Vault does not resolve _claim_sources, so bound_group_ids cannot match".into());
    }

    let principal_kind = if mirid.is_some() || s("xms_az_rid").is_some() {
        Some("managed identity".to_string())
    } else {
        match s("idtyp").as_deref() {
            Some("app") => Some("application (service principal)".to_string()),
            Some("user") => Some("user".to_string()),
            _ if claims.get("scp").is_some() => Some("user (delegated)".to_string()),
            _ => None,
        }
    };
    if principal_kind.as_deref() == Some("managed identity") && claims.get("groups").is_none() {
        // Informational: group-only roles cannot work for managed identities.
        warnings.push("managed-identity tokens carry no groups: bind roles by bound_service_principal_ids (the oid)".into());
    }

    let mut times = BTreeMap::new();
    for k in ["exp", "nbf", "iat", "auth_time", "xms_tcdt"] {
        if let Some(v) = claims.get(k) {
            if let Ok(t) = gocompat::json_time(v) {
                times.insert(
                    k.to_string(),
                    TimeNote {
                        unix: t,
                        utc: gocompat::rfc3339(t),
                        relative: now.map(|n| gocompat::relative(t, n)),
                    },
                );
            }
        }
    }
    if let Some(n) = now {
        if let Some(exp) = times.get("exp") {
            if exp.unix < n {
                warnings.push(format!("expired {}", gocompat::relative(exp.unix, n)));
            }
        }
        if let Some(nbf) = times.get("nbf") {
            if nbf.unix > n {
                warnings.push(format!(
                    "not valid yet (nbf {})",
                    gocompat::relative(nbf.unix, n)
                ));
            }
        }
    }

    let mut notes = BTreeMap::new();
    if let Some(obj) = claims.as_object() {
        for k in obj.keys() {
            if let Some(m) = claim_meaning(k) {
                notes.insert(k.clone(), m.to_string());
            }
        }
    }
    let opaque: Vec<String> = [
        "aio",
        "rh",
        "uti",
        "xms_tcdt",
        "xms_ftd",
        "xms_idrel",
        "xms_rd",
    ]
    .iter()
    .filter(|k| claims.get(**k).is_some())
    .map(|k| k.to_string())
    .collect();

    Annotations {
        version,
        issuer,
        principal_kind,
        xms_mirid: mirid,
        xms_az_rid: az_rid,
        times,
        claims: notes,
        opaque,
        warnings,
    }
}

fn claim_meaning(k: &str) -> Option<&'static str> {
    Some(match k {
        "aud" => "audience: the resource the token was requested for; Vault's config.resource must equal it exactly",
        "iss" => "issuer: the tenant's security token service; Vault expects the v1 issuer",
        "iat" => "issued at (never checked by Vault)",
        "nbf" => "not before: checked with 5 minutes of leeway by go-oidc, then with none by the plugin",
        "exp" => "expiry",
        "oid" => "object id of the identity (its principal id): what bound_service_principal_ids must list",
        "sub" => "subject (equals oid for managed identities; not read by Vault)",
        "appid" => "client id of the identity (v1); not the object id",
        "azp" => "client id of the identity (v2)",
        "appidacr" => "how the client authenticated (2 = certificate / managed identity)",
        "idtyp" => "token type: app or user",
        "idp" => "identity provider",
        "tid" => "tenant id (not read by Vault: the issuer pins the tenant)",
        "ver" => "token version",
        "groups" => "group object ids (only when the resource app emits them; absent for managed identities)",
        "xms_mirid" => "managed identity resource id: the identity (system-assigned: its VM/app; user-assigned: the identity resource)",
        "xms_az_rid" => "the Azure resource the token was issued on (present for user-assigned identities)",
        "_claim_names" | "_claim_sources" => "distributed claims (groups overage)",
        "aio" | "rh" | "uti" => "opaque Microsoft-internal value",
        "xms_tcdt" => "tenant creation time (opaque)",
        "roles" => "app roles granted to the identity",
        "scp" => "delegated scopes",
        _ => return None,
    })
}
