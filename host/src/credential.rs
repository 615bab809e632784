//! The credentials the ARM adapter uses, as Vault does: the auth method's `client_id` and
//! `client_secret` (client-credentials grant), or else the machine's managed identity.
//!
//! Tokens are cached until five minutes before they expire. Messages name the token
//! endpoint and what it answered, never the secret.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::endpoints::Endpoints;
use crate::http::HttpClient;
use crate::imds::{self, ImdsClient, Selector};
use crate::Error;

/// Which token endpoint version a client secret is used with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenVersion {
    /// `{authority}{tenant}/oauth2/token` with `resource = {arm}`.
    #[default]
    V1,
    /// `{authority}{tenant}/oauth2/v2.0/token` with `scope = {arm}/.default`.
    V2,
}

/// Where ARM bearer tokens come from.
#[derive(Clone)]
pub enum Credential {
    ClientSecret {
        tenant: String,
        client_id: String,
        client_secret: String,
        version: TokenVersion,
    },
    ManagedIdentity {
        imds: ImdsClient,
        selector: Selector,
    },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::ClientSecret {
                tenant, client_id, ..
            } => write!(
                f,
                "ClientSecret {{ tenant: {tenant}, client_id: {client_id}, client_secret: *** }}"
            ),
            Credential::ManagedIdentity { selector, .. } => {
                write!(f, "ManagedIdentity {{ selector: {selector:?} }}")
            }
        }
    }
}

impl Credential {
    /// Vault's choice: the config's client id and secret when both are set, else the
    /// machine's managed identity (through IMDS, or App Service's endpoint).
    pub fn from_config(config: &aadauth::Config, endpoints: &Endpoints) -> Credential {
        if !config.client_id.is_empty() && !config.client_secret.is_empty() {
            Credential::ClientSecret {
                tenant: config.tenant_id.clone(),
                client_id: config.client_id.clone(),
                client_secret: config.client_secret.clone(),
                version: TokenVersion::V1,
            }
        } else {
            Credential::ManagedIdentity {
                imds: ImdsClient::from_env(endpoints),
                selector: if config.client_id.is_empty() {
                    Selector::Default
                } else {
                    Selector::ClientId(config.client_id.clone())
                },
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Credential::ClientSecret { client_id, .. } => {
                format!("client secret of application {client_id}")
            }
            Credential::ManagedIdentity { selector, .. } => match selector {
                Selector::Default => "the machine's managed identity".to_string(),
                s => format!("the machine's managed identity ({s:?})"),
            },
        }
    }
}

/// Hands out bearer tokens for one audience, cached.
#[derive(Debug)]
pub struct TokenProvider {
    pub credential: Credential,
    /// The token audience (the cloud's ARM endpoint).
    pub resource: String,
    endpoints: Endpoints,
    http: HttpClient,
    cache: Mutex<Option<(String, Instant)>>,
}

/// Tokens this close to expiry are renewed.
const EARLY: Duration = Duration::from_secs(300);

impl TokenProvider {
    pub fn new(credential: Credential, endpoints: &Endpoints, http: HttpClient) -> TokenProvider {
        TokenProvider {
            credential,
            resource: endpoints.arm_resource().to_string(),
            endpoints: endpoints.clone(),
            http,
            cache: Mutex::new(None),
        }
    }

    /// A bearer token (cached, or fetched now).
    pub fn token(&self) -> Result<String, Error> {
        if let Some((t, until)) = crate::lock(&self.cache).as_ref() {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let (token, lifetime) = self.fetch()?;
        let until = Instant::now() + lifetime.saturating_sub(EARLY);
        *crate::lock(&self.cache) = Some((token.clone(), until));
        Ok(token)
    }

    /// Forgets the cached token (after ARM answered 401).
    pub fn invalidate(&self) {
        *crate::lock(&self.cache) = None;
    }

    fn fetch(&self) -> Result<(String, Duration), Error> {
        match &self.credential {
            Credential::ManagedIdentity { imds, selector } => {
                let t = imds.token(&self.resource, selector)?;
                let life = t
                    .expires_on
                    .map(|e| e - crate::unix_now())
                    .or_else(|| imds::number(&t.raw, "expires_in"))
                    .unwrap_or(3600);
                Ok((t.access_token, Duration::from_secs(life.max(0) as u64)))
            }
            Credential::ClientSecret {
                tenant,
                client_id,
                client_secret,
                version,
            } => {
                let what = "client-credentials token";
                if tenant.is_empty() {
                    return Err(Error::local(format!(
                        "{what}: config.tenant_id is empty, so there is no token endpoint"
                    )));
                }
                let scope = format!("{}/.default", self.resource.trim_end_matches('/'));
                let (url, form) = match version {
                    TokenVersion::V1 => (
                        self.endpoints.token_url_v1(tenant),
                        vec![
                            ("grant_type", "client_credentials"),
                            ("client_id", client_id.as_str()),
                            ("client_secret", client_secret.as_str()),
                            ("resource", self.resource.as_str()),
                        ],
                    ),
                    TokenVersion::V2 => (
                        self.endpoints.token_url_v2(tenant),
                        vec![
                            ("grant_type", "client_credentials"),
                            ("client_id", client_id.as_str()),
                            ("client_secret", client_secret.as_str()),
                            ("scope", scope.as_str()),
                        ],
                    ),
                };
                let resp = self
                    .http
                    .post_form(&url, &[("Accept", "application/json")], &form)
                    .map_err(|e| Error::transport(what, &e))?;
                let v: Value = resp.json().unwrap_or(Value::Null);
                if resp.status != 200 {
                    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    let detail = if s("error").is_empty() {
                        resp.body_excerpt()
                    } else {
                        format!("{}: {}", s("error"), s("error_description"))
                    };
                    return Err(Error::answer(what, "POST", &url, Some(resp.status), detail));
                }
                let token = v
                    .get("access_token")
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        Error::answer(
                            what,
                            "POST",
                            &url,
                            Some(200),
                            "the answer has no access_token",
                        )
                    })?;
                let life = imds::number(&v, "expires_in").unwrap_or(3600);
                Ok((token.to_string(), Duration::from_secs(life.max(0) as u64)))
            }
        }
    }
}

/// `Bearer …` header value.
pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_not_debug_printed() {
        let c = Credential::ClientSecret {
            tenant: "t".into(),
            client_id: "c".into(),
            client_secret: "hunter2".into(),
            version: TokenVersion::V1,
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn config_choice() {
        let e = Endpoints::for_cloud(aadauth::Cloud::AzurePublicCloud);
        let mut cfg = aadauth::Config {
            client_id: "c".into(),
            ..aadauth::Config::default()
        };
        assert!(matches!(
            Credential::from_config(&cfg, &e),
            Credential::ManagedIdentity {
                selector: Selector::ClientId(_),
                ..
            }
        ));
        cfg.client_secret = "s".into();
        assert!(matches!(
            Credential::from_config(&cfg, &e),
            Credential::ClientSecret { .. }
        ));
    }
}
