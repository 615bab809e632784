//! Azure Resource Manager reads, as Vault makes them (`spec/azure-identity-facts.md`,
//! "ARM shapes the product reads"), mapped to [`aadauth::ArmAnswer`]:
//! 200 → `Found`, 404 → `NotFound`, anything else → `Failed { status, code, message }` from
//! the Azure error body, and a failure to get an answer (or a token) → `Failed` with status 0.
//!
//! Each GET is retried on 408 / 429 / 5xx and transport errors following the auth method's
//! `max_retries`, `retry_delay` and `max_retry_delay` ([`RetryPolicy`]), honouring
//! `Retry-After`.

use std::collections::HashMap;
use std::sync::Mutex;

use aadauth::resources::ResourceId;
use aadauth::{ArmAnswer, ArmReadKind, ArmRequest, Config};
use serde_json::{json, Value};

use crate::credential::{bearer, Credential, TokenProvider};
use crate::endpoints::Endpoints;
use crate::http::{self, HttpClient, Response};
use crate::retry::{self, RetryPolicy};

/// `virtualMachines` GET (Vault asks for the instance view too).
pub const VM_QUERY: &str = "$expand=instanceView&api-version=2024-07-01";
pub const SCALE_SET_API_VERSION: &str = "2024-07-01";
pub const IDENTITY_API_VERSION: &str = "2023-01-31";
/// `GET /subscriptions/{sub}/providers/{namespace}`.
pub const PROVIDERS_API_VERSION: &str = "2022-09-01";
/// For a generic resource whose type the providers endpoint does not list.
pub const DEFAULT_RESOURCE_API_VERSION: &str = "2022-03-01";
/// Pages followed in a list before giving up.
pub const MAX_PAGES: usize = 100;

/// Reads resources from ARM.
#[derive(Debug)]
pub struct ArmClient {
    http: HttpClient,
    endpoints: Endpoints,
    pub tokens: TokenProvider,
    pub retry: RetryPolicy,
    /// `sub/namespace/type` (lower case) → api-version.
    api_versions: Mutex<HashMap<String, String>>,
}

impl ArmClient {
    pub fn new(endpoints: &Endpoints, credential: Credential, retry: RetryPolicy) -> ArmClient {
        let http = HttpClient::new();
        ArmClient {
            tokens: TokenProvider::new(credential, endpoints, http.clone()),
            http,
            endpoints: endpoints.clone(),
            retry,
            api_versions: Mutex::new(HashMap::new()),
        }
    }

    /// Vault's credentials and retry settings from the auth method's config.
    pub fn from_config(config: &Config, endpoints: &Endpoints) -> ArmClient {
        ArmClient::new(
            endpoints,
            Credential::from_config(config, endpoints),
            RetryPolicy::from_config(config),
        )
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Answers one read the core asked for.
    pub fn read(&self, req: &ArmRequest) -> ArmAnswer {
        let base = self.endpoints.arm_url(&req.path);
        let url = match req.kind {
            ArmReadKind::VirtualMachine => format!("{base}?{VM_QUERY}"),
            ArmReadKind::ScaleSet => format!("{base}?api-version={SCALE_SET_API_VERSION}"),
            ArmReadKind::UserAssignedIdentity => {
                format!("{base}?api-version={IDENTITY_API_VERSION}")
            }
            ArmReadKind::Resource => {
                format!("{base}?api-version={}", self.api_version_for(&req.path))
            }
            ArmReadKind::IdentityList => {
                return self.list(&format!("{base}?api-version={IDENTITY_API_VERSION}"))
            }
        };
        match self.get(&url) {
            Ok(resp) => answer(&resp),
            Err(failed) => failed,
        }
    }

    /// One authenticated GET with retries; `Err` is the `Failed` answer to give the core.
    fn get(&self, url: &str) -> Result<Response, ArmAnswer> {
        let mut renewed = false;
        loop {
            let token = self
                .tokens
                .token()
                .map_err(|e| self.failed0(url, format!("cannot get a token for ARM: {e}")))?;
            let auth = bearer(&token);
            let a = retry::send(&self.retry, retry::retryable_status, true, || {
                self.http.get(
                    url,
                    &[("Authorization", &auth), ("Accept", "application/json")],
                )
            });
            match a.result {
                // A revoked or expired token: get a new one, once.
                Ok(r) if r.status == 401 && !renewed => {
                    self.tokens.invalidate();
                    renewed = true;
                }
                Ok(r) => return Ok(r),
                Err(e) => {
                    let tries = if a.attempts > 1 {
                        format!(" (after {} attempts)", a.attempts)
                    } else {
                        String::new()
                    };
                    return Err(self.failed0(url, format!("{}{tries}", e.detail)));
                }
            }
        }
    }

    /// A transport / credential failure. The core prints `GET <cloud ARM><path>: <message>`;
    /// when the adapter talks to another base URL, the message names it.
    fn failed0(&self, url: &str, detail: String) -> ArmAnswer {
        let default = self.endpoints.cloud.arm_endpoint();
        let message = if self.endpoints.arm.trim_end_matches('/') == default.trim_end_matches('/') {
            detail
        } else {
            format!("GET {url}: {detail}")
        };
        ArmAnswer::Failed {
            status: 0,
            code: String::new(),
            message,
        }
    }

    /// The api-version for a generic resource: the newest non-preview version the providers
    /// endpoint lists for its type (cached), else [`DEFAULT_RESOURCE_API_VERSION`].
    pub fn api_version_for(&self, path: &str) -> String {
        let Ok(id) = ResourceId::parse(path) else {
            return DEFAULT_RESOURCE_API_VERSION.to_string();
        };
        let key = format!(
            "{}/{}/{}",
            id.subscription_id, id.provider, id.resource_type
        )
        .to_lowercase();
        if let Some(v) = crate::lock(&self.api_versions).get(&key) {
            return v.clone();
        }
        let url = format!(
            "{}?api-version={PROVIDERS_API_VERSION}",
            self.endpoints.arm_url(&format!(
                "/subscriptions/{}/providers/{}",
                id.subscription_id, id.provider
            ))
        );
        let version = match self.get(&url) {
            Ok(r) if r.status == 200 => match r.json() {
                Ok(doc) => newest_stable(&doc, &id.resource_type)
                    .unwrap_or_else(|| DEFAULT_RESOURCE_API_VERSION.to_string()),
                Err(_) => return DEFAULT_RESOURCE_API_VERSION.to_string(),
            },
            // Not cached: the next read asks again.
            _ => return DEFAULT_RESOURCE_API_VERSION.to_string(),
        };
        crate::lock(&self.api_versions).insert(key, version.clone());
        version
    }

    /// A list with every page merged into `{"value": [...]}`.
    fn list(&self, first: &str) -> ArmAnswer {
        let origin = self.endpoints.arm.trim_end_matches('/').to_string() + "/";
        let mut url = first.to_string();
        let mut values = Vec::new();
        for _ in 0..MAX_PAGES {
            let resp = match self.get(&url) {
                Ok(r) => r,
                Err(failed) => return failed,
            };
            let page = match answer(&resp) {
                ArmAnswer::Found { body } => body,
                other => return other,
            };
            if let Some(items) = page.get("value").and_then(Value::as_array) {
                values.extend(items.iter().cloned());
            }
            match page.get("nextLink").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    if !next.starts_with(&origin) {
                        return self.failed0(
                            &url,
                            format!("refusing to follow nextLink {next}: it leaves {origin}"),
                        );
                    }
                    url = next.to_string();
                }
                _ => {
                    return ArmAnswer::Found {
                        body: json!({ "value": values }),
                    }
                }
            }
        }
        self.failed0(&url, format!("more than {MAX_PAGES} pages of results"))
    }
}

/// Maps an ARM answer.
pub fn answer(resp: &Response) -> ArmAnswer {
    match resp.status {
        200 => match resp.json() {
            Ok(body) => ArmAnswer::Found { body },
            Err(e) => ArmAnswer::Failed {
                status: 200,
                code: "InvalidResponse".into(),
                message: format!("{e}: {}", resp.body_excerpt()),
            },
        },
        404 => ArmAnswer::NotFound,
        status => {
            let v = resp.json().unwrap_or(Value::Null);
            let err = v.get("error").unwrap_or(&Value::Null);
            let s = |k: &str| err.get(k).and_then(Value::as_str).map(str::to_string);
            let message = s("message").unwrap_or_else(|| {
                let b = resp.body_excerpt();
                if b.is_empty() {
                    http::reason(status).to_string()
                } else {
                    b
                }
            });
            ArmAnswer::Failed {
                status,
                code: s("code").unwrap_or_default(),
                message,
            }
        }
    }
}

/// The newest version without `preview` listed for `resource_type` in a providers document.
pub fn newest_stable(doc: &Value, resource_type: &str) -> Option<String> {
    doc.get("resourceTypes")?
        .as_array()?
        .iter()
        .find(|t| {
            t.get("resourceType")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case(resource_type))
        })?
        .get("apiVersions")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .filter(|v| !v.to_ascii_lowercase().contains("preview"))
        .max()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_non_preview() {
        let doc = json!({"resourceTypes": [
            {"resourceType": "sites", "apiVersions": ["2024-11-01-preview", "2023-12-01", "2024-04-01", "2022-03-01"]},
            {"resourceType": "sites/slots", "apiVersions": ["2025-01-01"]}
        ]});
        assert_eq!(newest_stable(&doc, "Sites").as_deref(), Some("2024-04-01"));
        assert_eq!(newest_stable(&doc, "serverfarms"), None);
    }

    #[test]
    fn answers() {
        let r = |status, body: &str| Response {
            status,
            headers: vec![],
            body: body.into(),
        };
        assert_eq!(answer(&r(404, "")), ArmAnswer::NotFound);
        assert_eq!(
            answer(&r(
                403,
                r#"{"error":{"code":"AuthorizationFailed","message":"no"}}"#
            )),
            ArmAnswer::Failed {
                status: 403,
                code: "AuthorizationFailed".into(),
                message: "no".into()
            }
        );
        assert_eq!(
            answer(&r(502, "")),
            ArmAnswer::Failed {
                status: 502,
                code: String::new(),
                message: "Bad Gateway".into()
            }
        );
        assert!(matches!(
            answer(&r(200, "{")),
            ArmAnswer::Failed { status: 200, .. }
        ));
    }
}
