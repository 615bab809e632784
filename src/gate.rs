//! A gateway's per-request decision with its state: the [`gateway::Verifier`], a key set
//! prepared once, and a [`TokenCache`] of verified tokens, so that a library caller (the
//! wasm package's `Gateway`, a native service) gets the filter's path in one call:
//!
//! 1. `role.bound_cidrs` (the caller's address; never cached, it is per request);
//! 2. the token, from the cache when it was verified before and its `exp` (plus the clock
//!    skew) has not passed — a repeated token costs its SHA-256 (or, for one of the last 16
//!    tokens, a byte comparison: [`crate::cache::RecentKeys`]) and a lookup — otherwise
//!    [`gateway::Verifier::verify`] (claims, then the RS256 signature), remembered on
//!    success;
//! 3. [`gateway::authorize`]: the role's bindings, on every request (roles can change
//!    between requests; the cache holds what the token says, not what a role decided).
//!
//! Like the rest of the core it reads no clock and does no I/O: `now` is passed in, and a
//! token whose key is not in the set is refused with [`GateDecision::unknown_key`] set, so
//! that the caller can fetch the key set again ([`Gate::set_keys`]) and retry.
//! See `spec/gateway-filter.md` for the rules and statuses.

use std::sync::Arc;

use serde::Serialize;

use crate::cache::{CacheKey, Lookup, RecentKeys, TokenCache};
use crate::gateway::{self, GatewayClaims, Verifier};
use crate::keys::KeySet;
use crate::role::Role;

/// What [`Gate::check`] decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateDecision {
    pub allowed: bool,
    /// 200 allowed; 401 bad or missing token; 403 not allowed by the role; 500 a role the
    /// gateway cannot use.
    pub status: u16,
    /// The id of the check that refused (`token.expiry`, `role.bound_subscription_ids`);
    /// empty when allowed.
    pub check: String,
    /// Why it was refused; empty when allowed.
    pub message: String,
    /// The token came from the verified-token cache (no signature verification ran).
    pub cached: bool,
    /// No key of the set could be tried for this token: fetch the key set again.
    pub unknown_key: bool,
    /// The verified token's claims (also when the role refused it); `None` when the token
    /// itself was refused. Shared with the cache entry: a hit copies nothing. In JSON, only
    /// the claims the gate was asked for (`wanted`), as an object (`{"oid": …}`): what a
    /// host passes on, like the filter's `claim_to_headers`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "selected_claims"
    )]
    pub claims: Option<Arc<GatewayClaims>>,
}

/// Serializes the selected claims as a JSON object, in the order they were asked for.
fn selected_claims<S: serde::Serializer>(
    claims: &Option<Arc<GatewayClaims>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    let pairs = claims
        .as_deref()
        .map(|c| c.selected.as_slice())
        .unwrap_or(&[]);
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

impl GateDecision {
    fn refused(status: u16, check: &str, message: String) -> GateDecision {
        GateDecision {
            allowed: false,
            status,
            check: check.to_string(),
            message,
            cached: false,
            unknown_key: false,
            claims: None,
        }
    }

    /// 503: the token names a key the caller could not get (`unknown_key` stays set, so a
    /// later request tries again). For hosts whose key fetch failed (`detail` says why).
    pub fn keys_unavailable(detail: &str) -> GateDecision {
        let mut d = GateDecision::refused(
            503,
            "token.signature",
            gateway::msg_keys_unavailable(detail),
        );
        d.unknown_key = true;
        d
    }

    fn decided(role: &Role, claims: &Arc<GatewayClaims>, cached: bool) -> GateDecision {
        let (allowed, status, check, message) = match gateway::authorize(role, claims) {
            Ok(()) => (true, 200, String::new(), String::new()),
            Err(d) => (false, d.status, d.check.to_string(), d.message),
        };
        GateDecision {
            allowed,
            status,
            check,
            message,
            cached,
            unknown_key: false,
            claims: Some(Arc::clone(claims)),
        }
    }
}

/// A verifier, its keys and its verified-token cache.
#[derive(Debug, Clone)]
pub struct Gate {
    verifier: Verifier,
    keys: KeySet,
    cache: TokenCache<Arc<GatewayClaims>>,
    wanted: Vec<String>,
    recent: RecentKeys,
}

impl Gate {
    /// `cache_capacity` tokens are remembered (0: none; each costs about 1.1 KiB);
    /// `wanted` names the claims to copy into [`GatewayClaims::selected`].
    pub fn new(
        verifier: Verifier,
        keys: KeySet,
        cache_capacity: usize,
        wanted: Vec<String>,
    ) -> Gate {
        let skew = verifier.clock_skew();
        Gate {
            verifier,
            keys,
            cache: TokenCache::new(cache_capacity, skew),
            wanted,
            recent: RecentKeys::default(),
        }
    }

    /// Replaces the key set (after a rotation). Cached tokens signed by a key that left the
    /// set are forgotten ([`GatewayClaims::signed_by_a_key_of`], the filter's rule too); the
    /// others stay, they were verified.
    pub fn set_keys(&mut self, keys: KeySet) {
        self.cache.retain(|c| c.signed_by_a_key_of(&keys));
        self.keys = keys;
    }

    /// The key set tokens are verified with.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Tokens in the cache.
    pub fn cached_tokens(&self) -> usize {
        self.cache.len()
    }

    /// Decides one request: `token` presented for `role` at `now` (Unix seconds) from
    /// `remote_addr` (for `token_bound_cidrs`).
    pub fn check(
        &mut self,
        token: &str,
        now: i64,
        role: &Role,
        remote_addr: Option<&str>,
    ) -> GateDecision {
        let key = self.key_of(token);
        if let Some(d) = self.check_cached(&key, now, role, remote_addr) {
            return d;
        }
        self.verify_and_remember(token, key, now, role)
    }

    /// The [`CacheKey`] of `token` (its SHA-256), from memory when it is one of the last
    /// 16 tokens this gate was asked about ([`RecentKeys`]): for hosts that call
    /// [`Gate::check_cached`] themselves.
    pub fn key_of(&mut self, token: &str) -> CacheKey {
        self.recent.key_of(token)
    }

    /// The decision for a token known by its [`CacheKey`] alone (the SHA-256 of the token,
    /// which a host may compute with its own SHA-256, e.g. Node's `crypto`), when the
    /// client's address or the cache decides it: `None` means "not in the cache: call
    /// [`Gate::check`] with the token". Never verifies anything.
    pub fn check_cached(
        &mut self,
        key: &CacheKey,
        now: i64,
        role: &Role,
        remote_addr: Option<&str>,
    ) -> Option<GateDecision> {
        if let Err(d) = gateway::check_bound_cidrs(role, remote_addr) {
            return Some(GateDecision::refused(d.status, d.check, d.message));
        }
        match self.cache.get(key, now) {
            Lookup::Hit(claims) => Some(GateDecision::decided(role, claims, true)),
            Lookup::Expired { exp } => {
                let message = self
                    .verifier
                    .check_expiry(exp, now)
                    .err()
                    .unwrap_or_else(|| "token expired".into());
                let mut d = GateDecision::refused(401, "token.expiry", message);
                d.cached = true;
                Some(d)
            }
            Lookup::Miss => None,
        }
    }

    /// The second half of [`Gate::check`]: verifies a token [`Gate::check_cached`] did not
    /// know (`key` is its [`CacheKey`]), remembers it when verified, and decides. For hosts
    /// that count cache hits and misses, or verify again after fetching keys
    /// (`unknown_key`), without hashing the token twice. The role's `token_bound_cidrs`
    /// are not looked at here: `check_cached` checked them.
    pub fn verify_and_remember(
        &mut self,
        token: &str,
        key: CacheKey,
        now: i64,
        role: &Role,
    ) -> GateDecision {
        match self.verifier.verify(token, &self.keys, now, &self.wanted) {
            Ok(claims) => {
                let claims = Arc::new(claims);
                let decision = GateDecision::decided(role, &claims, false);
                let exp = claims.exp;
                self.cache.insert(key, claims, exp, now);
                decision
            }
            Err(e) => {
                let mut d = GateDecision::refused(e.status(), e.check, e.message);
                d.unknown_key = e.unknown_key;
                d
            }
        }
    }
}
