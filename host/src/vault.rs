//! Vault's login endpoint, as `vault login -method=azure` calls it.
//!
//! `VAULT_ADDR`, `VAULT_NAMESPACE` (sent as `X-Vault-Namespace`) and `VAULT_CACERT` (a PEM
//! whose certificates become the only trusted roots) are honoured as the `vault` CLI does.

use serde_json::{json, Value};

use crate::endpoints;
use crate::http::{self, ClientOptions, HttpClient};
use crate::Error;

#[derive(Debug, Clone)]
pub struct VaultClient {
    http: HttpClient,
    /// Without a trailing slash.
    pub addr: String,
    pub namespace: Option<String>,
}

/// What Vault answered.
#[derive(Debug, Clone, PartialEq)]
pub struct VaultAnswer {
    pub status: u16,
    /// `Null` when the body is not JSON.
    pub body: Value,
    pub text: String,
}

impl VaultAnswer {
    /// `auth.client_token` of a successful login.
    pub fn client_token(&self) -> Option<&str> {
        self.body
            .pointer("/auth/client_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    }

    /// Vault's `{"errors": [...]}`.
    pub fn errors(&self) -> Vec<String> {
        self.body
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|e| match e {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status) && self.client_token().is_some()
    }
}

impl VaultClient {
    /// `addr` (else `VAULT_ADDR`, else `https://127.0.0.1:8200`), `VAULT_NAMESPACE`,
    /// `VAULT_CACERT`.
    pub fn from_env(addr: Option<&str>) -> Result<VaultClient, Error> {
        let addr = endpoints::vault_addr(addr);
        let root_pem =
            match std::env::var("VAULT_CACERT") {
                Ok(path) if !path.is_empty() => Some(std::fs::read(&path).map_err(|e| {
                    Error::local(format!("VAULT_CACERT {path}: cannot read it: {e}"))
                })?),
                _ => None,
            };
        let cacert = std::env::var("VAULT_CACERT").unwrap_or_default();
        let http = HttpClient::with_options(ClientOptions {
            root_pem,
            ..ClientOptions::default()
        })
        .map_err(|e| Error::local(format!("VAULT_CACERT {cacert}: {e}")))?;
        let namespace = std::env::var("VAULT_NAMESPACE")
            .ok()
            .filter(|n| !n.trim().is_empty());
        Ok(VaultClient {
            http,
            addr,
            namespace,
        })
    }

    /// `{addr}/v1/auth/{mount}/login`.
    pub fn login_url(&self, mount: &str) -> String {
        format!("{}/v1/auth/{}/login", self.addr, mount.trim_matches('/'))
    }

    /// The headers sent besides `Content-Type`.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![("X-Vault-Request", "true".to_string())];
        if let Some(ns) = &self.namespace {
            h.push(("X-Vault-Namespace", ns.clone()));
        }
        h
    }

    /// What would be sent, with the JWT redacted (for `--dry-run`).
    pub fn preview(&self, mount: &str, body: &Value) -> Value {
        let mut body = body.clone();
        if let Some(jwt) = body.get("jwt").and_then(Value::as_str) {
            let n = jwt.len();
            body["jwt"] = json!(format!("<redacted: {n} bytes>"));
        }
        let headers: serde_json::Map<String, Value> =
            std::iter::once(("Content-Type".to_string(), json!("application/json")))
                .chain(
                    self.headers()
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), json!(v))),
                )
                .collect();
        json!({
            "method": "POST",
            "url": self.login_url(mount),
            "headers": headers,
            "body": body,
        })
    }

    /// Sends the login. `Err` only when no answer was had; Vault's refusals are answers.
    pub fn login(&self, mount: &str, body: &Value) -> Result<VaultAnswer, Error> {
        let url = self.login_url(mount);
        let headers = self.headers();
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = self
            .http
            .post_json(&url, &h, body)
            .map_err(|e| Error::transport("Vault login", &e))?;
        Ok(VaultAnswer {
            status: resp.status,
            body: resp.json().unwrap_or(Value::Null),
            text: resp.body,
        })
    }
}

/// Vault's refusal, as the `vault` CLI prints it.
pub fn describe_refusal(url: &str, a: &VaultAnswer) -> String {
    let mut s = format!(
        "Error making API request.\n\nURL: POST {url}\nCode: {}. Errors:\n\n",
        a.status
    );
    let errors = a.errors();
    if errors.is_empty() {
        let b = http::excerpt(&a.text);
        s.push_str(&format!(
            "* {}\n",
            if b.is_empty() {
                http::status_line(a.status)
            } else {
                b
            }
        ));
    } else {
        for e in errors {
            s.push_str(&format!("* {e}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let a = VaultAnswer {
            status: 400,
            body: json!({"errors": ["invalid role name \"x\""]}),
            text: String::new(),
        };
        assert!(!a.ok());
        let s = describe_refusal("http://v/v1/auth/azure/login", &a);
        assert!(s.contains("Code: 400"));
        assert!(s.contains("* invalid role name \"x\""));
        let ok = VaultAnswer {
            status: 200,
            body: json!({"auth": {"client_token": "hvs.x"}}),
            text: String::new(),
        };
        assert_eq!(ok.client_token(), Some("hvs.x"));
    }
}
