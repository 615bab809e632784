//! The tenant's signing keys: OpenID discovery (v1, as Vault) and the key set it names.
//!
//! [`KeyCache`] keeps the last good key set, considers it fresh for a refresh interval,
//! and fetches again when the core asks ([`aadauth::Step::NeedKeys`]: no cached key
//! verified a token, as after a Microsoft key rotation). Fetches are a single flight:
//! concurrent callers wait for the one in progress and share its result. A failed fetch
//! leaves the last good keys in place.
//!
//! Failures are [`KeyFetchError`]s worded as go-oidc words them (`oidc: get keys failed:
//! <status> <body>`), which the core prints after `failed to verify signature: fetching keys`.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use aadauth::{KeyFetchError, KeySet};
use serde_json::Value;

use crate::endpoints::Endpoints;
use crate::http::{self, HttpClient};

/// Microsoft rotates keys every few weeks and asks clients to refresh about daily.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// What the discovery document says.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    pub url: String,
    pub issuer: String,
    pub jwks_uri: String,
    pub document: Value,
}

/// A key set and when it was fetched.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub keys: KeySet,
    pub discovery: Discovery,
    pub fetched_at: Instant,
    /// The fetch attempt that produced it (see [`KeyCache::refetch`]).
    pub attempt: u64,
}

/// How many requests the cache has sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyStats {
    pub discovery_fetches: u64,
    pub key_fetches: u64,
}

#[derive(Default)]
struct State {
    discovery: Option<Discovery>,
    good: Option<Fetched>,
    /// Completed fetch attempts.
    attempts: u64,
    last: Option<Result<Fetched, KeyFetchError>>,
    in_flight: bool,
    stats: KeyStats,
}

/// The tenant's keys, shared by every login of a process.
pub struct KeyCache {
    http: HttpClient,
    discovery_url: String,
    /// Keys older than this are re-fetched before use.
    pub refresh_interval: Duration,
    state: Mutex<State>,
    done: Condvar,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("discovery_url", &self.discovery_url)
            .field("refresh_interval", &self.refresh_interval)
            .finish()
    }
}

/// Resets `in_flight` and wakes the waiters even if the fetch panics.
struct Flight<'a>(&'a KeyCache);

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut st = crate::lock(&self.0.state);
        st.in_flight = false;
        self.0.done.notify_all();
    }
}

impl KeyCache {
    /// Keys of `tenant`, discovered at `{authority}{tenant}/.well-known/openid-configuration`.
    pub fn new(http: HttpClient, endpoints: &Endpoints, tenant: &str) -> KeyCache {
        KeyCache {
            http,
            discovery_url: endpoints.discovery_url(tenant),
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
            state: Mutex::new(State::default()),
            done: Condvar::new(),
        }
    }

    pub fn with_refresh_interval(mut self, d: Duration) -> KeyCache {
        self.refresh_interval = d;
        self
    }

    pub fn discovery_url(&self) -> &str {
        &self.discovery_url
    }

    pub fn stats(&self) -> KeyStats {
        crate::lock(&self.state).stats
    }

    /// The last good keys if they are younger than the refresh interval.
    pub fn fresh(&self) -> Option<Fetched> {
        let st = crate::lock(&self.state);
        st.good
            .as_ref()
            .filter(|f| f.fetched_at.elapsed() < self.refresh_interval)
            .cloned()
    }

    /// The attempt of the last good keys if they are fresh (what [`KeyCache::fresh`] would
    /// return, without copying the key set).
    pub fn fresh_attempt(&self) -> Option<u64> {
        let st = crate::lock(&self.state);
        st.good
            .as_ref()
            .filter(|f| f.fetched_at.elapsed() < self.refresh_interval)
            .map(|f| f.attempt)
    }

    /// Fresh keys, fetching when there are none (or they are stale). When that fetch fails,
    /// the last good keys, however old; the error only when there never were any.
    pub fn current(&self) -> Result<Fetched, KeyFetchError> {
        if let Some(f) = self.fresh() {
            return Ok(f);
        }
        let seen = crate::lock(&self.state).attempts;
        match self.fetch_after(seen) {
            Ok(f) => Ok(f),
            Err(e) => match crate::lock(&self.state).good.clone() {
                Some(old) => Ok(old),
                None => Err(e),
            },
        }
    }

    /// A key set fetched after attempt `seen` (the attempt of the keys that failed to
    /// verify). If another caller's fetch completed since, its result is shared; if one is
    /// in progress, this waits for it; otherwise this fetches. The error is the fetch's.
    pub fn refetch(&self, seen: u64) -> Result<Fetched, KeyFetchError> {
        self.fetch_after(seen)
    }

    fn fetch_after(&self, seen: u64) -> Result<Fetched, KeyFetchError> {
        let mut st = crate::lock(&self.state);
        loop {
            if st.attempts > seen {
                if let Some(r) = &st.last {
                    return r.clone();
                }
            }
            if !st.in_flight {
                break;
            }
            st = self.done.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        st.in_flight = true;
        let known = st.discovery.clone();
        drop(st);
        let flight = Flight(self);
        let (discovery, result, stats) = self.fetch_now(known);
        let mut st = crate::lock(&self.state);
        st.attempts += 1;
        st.stats.discovery_fetches += stats.discovery_fetches;
        st.stats.key_fetches += stats.key_fetches;
        let result = result.map(|keys| Fetched {
            keys,
            discovery: discovery.clone().unwrap_or_else(|| Discovery {
                url: self.discovery_url.clone(),
                issuer: String::new(),
                jwks_uri: String::new(),
                document: Value::Null,
            }),
            fetched_at: Instant::now(),
            attempt: st.attempts,
        });
        match &result {
            Ok(f) => {
                st.good = Some(f.clone());
                st.discovery = discovery;
            }
            // The key URL may have moved: discover again next time.
            Err(_) => st.discovery = None,
        }
        st.last = Some(result.clone());
        drop(st);
        drop(flight);
        result
    }

    /// Discovery (unless known) then the key set. Runs outside the lock.
    #[allow(clippy::type_complexity)]
    fn fetch_now(
        &self,
        known: Option<Discovery>,
    ) -> (Option<Discovery>, Result<KeySet, KeyFetchError>, KeyStats) {
        let mut stats = KeyStats::default();
        let discovery = match known {
            Some(d) => d,
            None => {
                stats.discovery_fetches += 1;
                match discover(&self.http, &self.discovery_url) {
                    Ok(d) => d,
                    Err(e) => return (None, Err(e), stats),
                }
            }
        };
        stats.key_fetches += 1;
        let keys = fetch_keys(&self.http, &discovery.jwks_uri);
        (Some(discovery), keys, stats)
    }

    /// The discovery document (fetched now unless known).
    pub fn discovery(&self) -> Result<Discovery, KeyFetchError> {
        if let Some(d) = crate::lock(&self.state).discovery.clone() {
            return Ok(d);
        }
        let d = discover(&self.http, &self.discovery_url)?;
        let mut st = crate::lock(&self.state);
        st.stats.discovery_fetches += 1;
        st.discovery = Some(d.clone());
        Ok(d)
    }
}

/// Reads an OpenID discovery document. go-oidc fails the provider (not the key fetch) when
/// this fails; the message says which URL and why.
pub fn discover(http: &HttpClient, url: &str) -> Result<Discovery, KeyFetchError> {
    let fail = |detail: String| KeyFetchError(format!("oidc: discovery failed: {detail}"));
    let resp = http
        .get(url, &[("Accept", "application/json")])
        .map_err(|e| fail(format!("Get {}: {}", quote(url), e.detail)))?;
    if resp.status != 200 {
        return Err(fail(format!(
            "Get {}: {}: {}",
            quote(url),
            http::status_line(resp.status),
            resp.body_excerpt()
        )));
    }
    let doc = resp
        .json()
        .map_err(|e| fail(format!("Get {}: {e}", quote(url))))?;
    let s = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    if s("jwks_uri").is_empty() {
        return Err(fail(format!(
            "Get {}: the document has no jwks_uri",
            quote(url)
        )));
    }
    Ok(Discovery {
        url: url.to_string(),
        issuer: s("issuer"),
        jwks_uri: s("jwks_uri"),
        document: doc,
    })
}

/// Reads a key set, with go-oidc's messages.
pub fn fetch_keys(http: &HttpClient, url: &str) -> Result<KeySet, KeyFetchError> {
    let resp = http
        .get(url, &[("Accept", "application/json")])
        .map_err(|e| KeyFetchError::transport(url, &e.detail))?;
    if resp.status != 200 {
        return Err(KeyFetchError::http(
            resp.status,
            http::reason(resp.status),
            &resp.body,
        ));
    }
    KeySet::from_jwks_str(&resp.body).map_err(|e| KeyFetchError::decode(&e, &resp.body))
}

fn quote(s: &str) -> String {
    aadauth::gocompat::quote(s)
}
