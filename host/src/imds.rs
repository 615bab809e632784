//! The Instance Metadata Service: managed-identity tokens and instance metadata
//! (`spec/azure-identity-facts.md`, "Instance Metadata Service").
//!
//! Requests carry `Metadata: true` and never go through a proxy. On App Service and
//! Functions (`IDENTITY_ENDPOINT` and `IDENTITY_HEADER` set) tokens come from that endpoint
//! instead, with `X-IDENTITY-HEADER` and `api-version=2019-08-01`.

use std::time::Duration;

use serde_json::Value;

use crate::endpoints::Endpoints;
use crate::http::{self, HttpClient, Response};
use crate::retry::{self, RetryPolicy};
use crate::Error;

pub const TOKEN_API_VERSION: &str = "2018-02-01";
pub const APP_SERVICE_API_VERSION: &str = "2019-08-01";
pub const INSTANCE_API_VERSION: &str = "2021-02-01";

/// Which of the machine's identities a token is for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selector {
    /// The system-assigned identity (or the only user-assigned one).
    #[default]
    Default,
    ClientId(String),
    ObjectId(String),
    /// The user-assigned identity's resource id (`msi_res_id`; App Service: `mi_res_id`).
    ResourceId(String),
}

impl Selector {
    fn param(&self, app_service: bool) -> Option<(&'static str, &str)> {
        match self {
            Selector::Default => None,
            Selector::ClientId(v) => Some(("client_id", v)),
            Selector::ObjectId(v) => Some(("object_id", v)),
            Selector::ResourceId(v) if app_service => Some(("mi_res_id", v)),
            Selector::ResourceId(v) => Some(("msi_res_id", v)),
        }
    }
}

/// A managed-identity access token.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedToken {
    pub access_token: String,
    /// Unix seconds, when the service said.
    pub expires_on: Option<i64>,
    pub resource: String,
    /// The whole answer (numbers as IMDS sends them: strings).
    pub raw: Value,
}

/// App Service's identity endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppService {
    pub endpoint: String,
    pub header: String,
}

/// Talks to IMDS (or App Service's identity endpoint).
#[derive(Debug, Clone)]
pub struct ImdsClient {
    http: HttpClient,
    /// IMDS base URL, without a trailing slash.
    pub base: String,
    pub app_service: Option<AppService>,
    /// IMDS asks clients to retry 404, 410, 429 and 5xx (the identity may be being
    /// attached); connection failures are not retried (off Azure nothing answers).
    pub retry: RetryPolicy,
}

impl ImdsClient {
    pub fn new(base: &str) -> ImdsClient {
        ImdsClient {
            http: HttpClient::without_proxy(Duration::from_secs(2)),
            base: base.trim_end_matches('/').to_string(),
            app_service: None,
            retry: RetryPolicy {
                max_retries: 3,
                retry_delay: Duration::from_millis(800),
                max_retry_delay: Some(Duration::from_secs(10)),
            },
        }
    }

    /// IMDS at `endpoints.imds`, or App Service's endpoint when `IDENTITY_ENDPOINT` and
    /// `IDENTITY_HEADER` are set.
    pub fn from_env(endpoints: &Endpoints) -> ImdsClient {
        let mut c = ImdsClient::new(&endpoints.imds);
        if let (Ok(endpoint), Ok(header)) = (
            std::env::var("IDENTITY_ENDPOINT"),
            std::env::var("IDENTITY_HEADER"),
        ) {
            if !endpoint.is_empty() && !header.is_empty() {
                c.app_service = Some(AppService { endpoint, header });
            }
        }
        c
    }

    fn get(&self, what: &str, url: &str, headers: &[(&str, &str)]) -> Result<Response, Error> {
        let a = retry::send(&self.retry, imds_retryable, false, || {
            self.http.get(url, headers)
        });
        a.result.map_err(|e| Error::transport(what, &e))
    }

    /// A token for `resource` (e.g. `https://management.azure.com/`).
    pub fn token(&self, resource: &str, selector: &Selector) -> Result<ManagedToken, Error> {
        let app = self.app_service.as_ref();
        let mut params = vec![
            (
                "api-version",
                if app.is_some() {
                    APP_SERVICE_API_VERSION
                } else {
                    TOKEN_API_VERSION
                },
            ),
            ("resource", resource),
        ];
        if let Some(p) = selector.param(app.is_some()) {
            params.push(p);
        }
        let (what, url, resp) = match app {
            Some(a) => {
                let url = format!("{}?{}", a.endpoint, http::query(&params));
                let what = "managed identity token (App Service)";
                let r = self.get(what, &url, &[("X-IDENTITY-HEADER", &a.header)])?;
                (what, url, r)
            }
            None => {
                let url = format!(
                    "{}/metadata/identity/oauth2/token?{}",
                    self.base,
                    http::query(&params)
                );
                let what = "managed identity token (IMDS)";
                let r = self.get(what, &url, &[("Metadata", "true")])?;
                (what, url, r)
            }
        };
        let v = ok_json(what, &url, &resp)?;
        let access_token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::answer(
                    what,
                    "GET",
                    &url,
                    Some(200),
                    "the answer has no access_token",
                )
            })?
            .to_string();
        Ok(ManagedToken {
            access_token,
            expires_on: number(&v, "expires_on"),
            resource: v
                .get("resource")
                .and_then(Value::as_str)
                .unwrap_or(resource)
                .to_string(),
            raw: v,
        })
    }

    /// `GET /metadata/instance`: the raw text (for [`aadauth::paste::login_from_imds`]) and
    /// the parsed document.
    pub fn instance_metadata(&self) -> Result<(String, Value), Error> {
        let url = format!(
            "{}/metadata/instance?api-version={INSTANCE_API_VERSION}",
            self.base
        );
        let what = "instance metadata (IMDS)";
        let resp = self.get(what, &url, &[("Metadata", "true")])?;
        let v = ok_json(what, &url, &resp)?;
        Ok((resp.body, v))
    }
}

fn imds_retryable(status: u16) -> bool {
    matches!(status, 404 | 410 | 429) || (500..=599).contains(&status)
}

/// `{"error": "invalid_request", "error_description": "Identity not found"}` →
/// `invalid_request: Identity not found`; App Service sends `{"statusCode", "message"}`.
/// The JSON body of a 200 answer; any other status or a body that is not JSON is an error
/// naming the endpoint.
fn ok_json(what: &str, url: &str, resp: &Response) -> Result<Value, Error> {
    if resp.status != 200 {
        return Err(Error::answer(
            what,
            "GET",
            url,
            Some(resp.status),
            token_error(resp),
        ));
    }
    resp.json()
        .map_err(|e| Error::answer(what, "GET", url, Some(200), e))
}

fn token_error(resp: &Response) -> String {
    if let Ok(v) = resp.json() {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
        if !s("error").is_empty() || !s("error_description").is_empty() {
            return format!("{}: {}", s("error"), s("error_description"));
        }
        if let Some(e) = v
            .get("error")
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
        {
            return e.to_string();
        }
        if !s("message").is_empty() {
            return s("message").to_string();
        }
    }
    let b = resp.body_excerpt();
    if b.is_empty() {
        "(empty answer)".to_string()
    } else {
        b
    }
}

/// A number that IMDS sends as a string (`"1764585800"`) and App Service as either.
pub(crate) fn number(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_names() {
        assert_eq!(
            Selector::ResourceId("r".into()).param(false),
            Some(("msi_res_id", "r"))
        );
        assert_eq!(
            Selector::ResourceId("r".into()).param(true),
            Some(("mi_res_id", "r"))
        );
        assert_eq!(Selector::Default.param(false), None);
    }

    #[test]
    fn errors_read_both_shapes() {
        let r = |body: &str| Response {
            status: 400,
            headers: vec![],
            body: body.into(),
        };
        assert_eq!(
            token_error(&r(
                r#"{"error":"invalid_request","error_description":"Identity not found"}"#
            )),
            "invalid_request: Identity not found"
        );
        assert_eq!(
            token_error(&r(r#"{"statusCode":400,"message":"No identity"}"#)),
            "No identity"
        );
        assert_eq!(token_error(&r("")), "(empty answer)");
    }
}
