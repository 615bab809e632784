//! # aadauth-host
//!
//! Blocking network adapters around the no-I/O [`aadauth`] core:
//!
//! - [`keys::KeyCache`]: the tenant's OpenID discovery document and key set, cached with a
//!   refresh interval, re-fetched when the core asks ([`aadauth::Step::NeedKeys`]) with a
//!   single flight shared by concurrent callers, last good keys kept on failure.
//! - [`arm::ArmClient`]: the Azure Resource Manager reads the core asks for
//!   ([`aadauth::Step::NeedArm`]), authenticated with a client secret or the machine's
//!   managed identity, with Vault's retry settings.
//! - [`imds::ImdsClient`]: managed-identity tokens and instance metadata from the Instance
//!   Metadata Service (or App Service's identity endpoint).
//! - [`vault::VaultClient`]: `POST /v1/auth/<mount>/login`, as `vault login -method=azure`.
//! - [`driver::decide`]: runs a [`aadauth::LoginFlow`] to its decision with these adapters.
//! - [`gate::LiveGate`]: a gateway's per-request decisions ([`aadauth::Gate`]: the
//!   verified-token cache, RS256, the role's bindings) with keys from a [`keys::KeyCache`],
//!   for many threads.
//!
//! Every base URL is in [`endpoints::Endpoints`] (defaults from [`aadauth::Cloud`],
//! overridable by fields or environment variables); no other module knows a host name.
//! Network failures are [`Error`]s that name the endpoint and the reason.
#![forbid(unsafe_code)]

pub mod arm;
pub mod credential;
pub mod driver;
pub mod endpoints;
pub mod gate;
pub mod http;
pub mod imds;
pub mod keys;
pub mod retry;
pub mod vault;

pub use arm::ArmClient;
pub use credential::{Credential, TokenProvider};
pub use driver::{decide, ArmSource, KeySource};
pub use endpoints::Endpoints;
pub use gate::LiveGate;
pub use http::HttpClient;
pub use imds::{ImdsClient, Selector};
pub use keys::KeyCache;
pub use retry::RetryPolicy;
pub use vault::VaultClient;

/// A network operation that failed: says which endpoint and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// `GET https://…` / `POST https://…` (no secrets: query strings hold only names and ids).
    pub endpoint: String,
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// The whole message, naming the operation, the endpoint and the reason.
    pub message: String,
}

impl Error {
    /// The endpoint could not be reached or its answer could not be read.
    pub fn transport(what: &str, e: &http::TransportError) -> Error {
        Error {
            endpoint: format!("{} {}", e.method, e.url),
            status: None,
            message: format!("{what}: {e}"),
        }
    }

    /// The endpoint answered with an error (or something unusable).
    pub fn answer(
        what: &str,
        method: &str,
        url: &str,
        status: Option<u16>,
        detail: impl std::fmt::Display,
    ) -> Error {
        let endpoint = format!("{method} {url}");
        let message = match status {
            Some(s) => format!("{what}: {endpoint}: {}: {detail}", http::status_line(s)),
            None => format!("{what}: {endpoint}: {detail}"),
        };
        Error {
            endpoint,
            status,
            message,
        }
    }

    /// A local problem (a file, a setting) before any request was sent.
    pub fn local(message: impl Into<String>) -> Error {
        Error {
            endpoint: String::new(),
            status: None,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Locks a mutex, ignoring poisoning (state is always left consistent before a panic
/// could happen: no code panics while holding these locks).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
