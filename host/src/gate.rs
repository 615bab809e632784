//! A gateway's per-request decisions in a native process: the core's [`aadauth::Gate`]
//! (the role's `token_bound_cidrs`, the verified-token cache, RS256, the role's bindings)
//! over the tenant's keys from a [`KeyCache`].
//!
//! Keys are fetched on first use, refreshed once older than the key cache's refresh
//! interval, and fetched again when a token names a key the set lacks — one fetch shared
//! by every caller (the key cache's single flight), and at most one per
//! [`LiveGate::min_refetch_interval`], so that a flood of tokens with made-up `kid`s or an
//! unreachable key endpoint costs no more than one request per interval. A repeated token
//! costs a lookup, and a SHA-256 unless it is one of its shard's last 16 tokens (the
//! core's `RecentKeys`, which compares instead of hashing).
//!
//! The verified-token cache is split into shards, each a `Gate` behind its own mutex, so
//! that concurrent requests verify in parallel. A token's shard is chosen by its last
//! bytes ([`shard_of`]), not by its SHA-256: the shard's gate then recalls or takes the
//! hash itself.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aadauth::gateway::Verifier;
use aadauth::{Gate, GateDecision, KeySet, Role};

use crate::keys::{Fetched, KeyCache};
use crate::lock;

/// The shard of `token` among `shards`: FNV-1a of its last 16 bytes. A JWT ends in its
/// signature, which differs in every byte between tokens, so these bytes spread tokens
/// evenly; a crafted token can only choose its shard, which decides nothing but which
/// mutex it waits for. Hashing the whole token (its SHA-256, as before) cost 1.0 µs of a
/// repeated token's 1.2 µs (`measure_a_repeated_token` in tests/gate.rs); the shard's gate compares a repeated token with its last
/// 16 instead.
fn shard_of(token: &str, shards: usize) -> usize {
    let bytes = token.as_bytes();
    let tail = &bytes[bytes.len().saturating_sub(16)..];
    let h = tail.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    // `shards` is at least 1 (`LiveGate::new`); `max` keeps a zero from panicking anyway.
    (h % shards.max(1) as u64) as usize
}

/// The filter's minimum time between two key fetches for unknown `kid`s.
pub const DEFAULT_MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// What the shards hold and when keys were last asked for.
#[derive(Default)]
struct KeysInUse {
    /// The key cache's attempt whose keys the shards hold (0: none yet).
    attempt: u64,
    /// When this gate last made the key cache fetch.
    last_fetch: Option<Instant>,
    /// Why the last fetch failed.
    error: Option<String>,
}

/// [`aadauth::Gate`] with live keys, for many threads.
pub struct LiveGate {
    shards: Vec<Mutex<Gate>>,
    keys: KeyCache,
    in_use: Mutex<KeysInUse>,
    /// At most one key fetch per this interval (30 s by default) for unknown `kid`s and
    /// stale keys; the first fetch is never held back.
    pub min_refetch_interval: Duration,
}

impl std::fmt::Debug for LiveGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveGate")
            .field("shards", &self.shards.len())
            .field("keys", &self.keys)
            .field("min_refetch_interval", &self.min_refetch_interval)
            .finish()
    }
}

impl LiveGate {
    /// A gate for `verifier`'s tenant and audiences, with `keys` (the same tenant), a
    /// verified-token cache of about `cache_capacity` tokens in all (0: no cache), and the
    /// claims each decision carries (`wanted`, as [`aadauth::Gate::new`]).
    pub fn new(
        verifier: Verifier,
        keys: KeyCache,
        cache_capacity: usize,
        wanted: Vec<String>,
    ) -> LiveGate {
        let shards = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 16);
        let per_shard = cache_capacity.div_ceil(shards);
        LiveGate {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Gate::new(
                        verifier.clone(),
                        KeySet::default(),
                        per_shard,
                        wanted.clone(),
                    ))
                })
                .collect(),
            keys,
            in_use: Mutex::new(KeysInUse::default()),
            min_refetch_interval: DEFAULT_MIN_REFETCH_INTERVAL,
        }
    }

    pub fn with_min_refetch_interval(mut self, d: Duration) -> LiveGate {
        self.min_refetch_interval = d;
        self
    }

    /// The key cache (its statistics, its discovery document).
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// Tokens in the verified-token cache.
    pub fn cached_tokens(&self) -> usize {
        self.shards.iter().map(|s| lock(s).cached_tokens()).sum()
    }

    /// Decides one request: `token` (raw, without `Bearer `) for `role` at `now` (Unix
    /// seconds), from `remote_addr` (for `token_bound_cidrs`). Blocks while keys are
    /// fetched (the first request, a stale set, an unknown `kid`).
    pub fn check(
        &self,
        token: &str,
        now: i64,
        role: &Role,
        remote_addr: Option<&str>,
    ) -> GateDecision {
        self.refresh_if_stale();
        let shard = &self.shards[shard_of(token, self.shards.len())];
        let (key, cached) = {
            let mut gate = lock(shard);
            let key = gate.key_of(token);
            let cached = gate.check_cached(&key, now, role, remote_addr);
            (key, cached)
        };
        if let Some(d) = cached {
            return d;
        }
        let d = lock(shard).verify_and_remember(token, key, now, role);
        if !d.unknown_key {
            return d;
        }
        let seen = lock(&self.in_use).attempt;
        if self.may_fetch(seen) {
            if let Some(f) = self.fetch(|keys| keys.refetch(seen)) {
                if f.attempt != seen {
                    return lock(shard).verify_and_remember(token, key, now, role);
                }
            }
        }
        // The token's key may exist, but no key set with it could be had: 503, so that
        // the client tries again (as the filter answers).
        let in_use = lock(&self.in_use);
        match (&in_use.error, in_use.attempt) {
            (Some(e), _) => GateDecision::keys_unavailable(e),
            (None, 0) => GateDecision::keys_unavailable("no key set has been fetched yet"),
            _ => d,
        }
    }

    /// Installs the key cache's fresh keys, or fetches when they are stale (or missing).
    fn refresh_if_stale(&self) {
        let installed = lock(&self.in_use).attempt;
        match self.keys.fresh_attempt() {
            Some(a) if a == installed => {}
            Some(_) => {
                if let Some(f) = self.keys.fresh() {
                    self.install(f);
                }
            }
            None if self.may_fetch(installed) => {
                let _ = self.fetch(KeyCache::current);
            }
            None => {}
        }
    }

    /// Whether this gate may make the key cache fetch now: once per
    /// `min_refetch_interval`; but until a first key set arrives, callers join the fetch in
    /// progress (the key cache makes them wait for its result) rather than fail.
    fn may_fetch(&self, installed: u64) -> bool {
        let mut in_use = lock(&self.in_use);
        let recent = in_use
            .last_fetch
            .is_some_and(|t| t.elapsed() < self.min_refetch_interval);
        let joining_first = installed == 0 && in_use.error.is_none();
        if recent && !joining_first {
            return false;
        }
        if !recent {
            in_use.last_fetch = Some(Instant::now());
        }
        true
    }

    /// Runs a key-cache fetch and installs its keys; the error is kept for the 503.
    fn fetch(
        &self,
        f: impl FnOnce(&KeyCache) -> Result<Fetched, aadauth::KeyFetchError>,
    ) -> Option<Fetched> {
        match f(&self.keys) {
            Ok(fetched) => {
                self.install(fetched.clone());
                Some(fetched)
            }
            Err(e) => {
                lock(&self.in_use).error = Some(e.0);
                None
            }
        }
    }

    /// Hands `f`'s keys to every shard (cached tokens of a key that left are forgotten).
    fn install(&self, f: Fetched) {
        let mut in_use = lock(&self.in_use);
        in_use.error = None;
        if f.attempt == in_use.attempt {
            return;
        }
        in_use.attempt = f.attempt;
        for shard in &self.shards {
            lock(shard).set_keys(f.keys.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::shard_of;
    use aadauth::cache::CacheKey;

    /// Tokens that differ only in their signatures (here the hex of a SHA-256) land evenly
    /// on the shards, always on the same one, and no length panics.
    #[test]
    fn shards_are_chosen_evenly_by_the_signature() {
        let tokens: Vec<String> = (0..4000)
            .map(|i| {
                let sig: String = CacheKey::of(&i.to_string())
                    .0
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiJ4In0.{sig}")
            })
            .collect();
        for shards in [1, 2, 3, 4, 16] {
            let mut count = vec![0usize; shards];
            for t in &tokens {
                let s = shard_of(t, shards);
                assert_eq!(s, shard_of(t, shards), "the same token, the same shard");
                count[s] += 1;
            }
            let fair = tokens.len() / shards;
            for (s, n) in count.iter().enumerate() {
                assert!(
                    n * 10 >= fair * 8 && n * 10 <= fair * 12,
                    "{shards} shards: shard {s} got {n} of {} tokens",
                    tokens.len()
                );
            }
        }
        for t in ["", "a", "x.y.z"] {
            assert_eq!(shard_of(t, 1), 0);
            assert!(shard_of(t, 4) < 4);
            assert_eq!(shard_of(t, 0), 0);
        }
    }
}
