//! # aadauth-filter
//!
//! An Envoy HTTP filter (proxy-wasm ABI 0.2.1) that admits requests carrying an Azure AD
//! (Entra ID) access token — above all managed-identity tokens — with Vault-style role
//! bindings, decided by aadauth's `gateway` profile ([`aadauth::gateway`]).
//!
//! - Configuration: [`config::FilterConfig`] (Envoy `jwt_authn` vocabulary; see README).
//! - Per request: the first matching rule picks a role (or lets the request through);
//!   the token is read from `from_headers` and decided by the core's [`aadauth::Gate`]
//!   (the role's `token_bound_cidrs`, the per-worker verified-token cache, RS256, the
//!   role's bindings on every request); the filter adds key fetching and waiting. Allowed requests get `claim_to_headers` set and the token header removed
//!   (unless `forward`); refused ones get 401 / 403 / 503 (see [`request::DenyKind`]).
//! - Keys: `local_jwks` and/or fetched from `jwks_cluster` at start, every
//!   `jwks_cache_seconds`, and when a token names an unknown `kid` (at most once per 30 s,
//!   one fetch in flight); requests waiting for keys are paused and resumed (or answered
//!   503 after `jwks_timeout_ms`). Workers share fetched keys through shared data.
//!
//! The module imports only the host's `env.proxy_*` functions: no clock is read except
//! through `proxy_get_current_time_nanoseconds`, no randomness is used.
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod config;
pub mod request;
mod worker;

// `proxy_wasm::main!` expands to the exported `_initialize` (`#[no_mangle]`).
#[allow(unsafe_code)]
mod entry {
    proxy_wasm::main! {{
        proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
        proxy_wasm::set_root_context(|context_id| Box::new(crate::worker::Root::new(context_id)));
    }}
}
