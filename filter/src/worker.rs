//! One Envoy worker (one VM): the root context, the HTTP stream contexts, and the state
//! they share — configuration, keys, the verified-token cache and the requests waiting for
//! keys. Everything here runs on the worker's single thread.
//!
//! Hostcalls are made through `proxy_wasm::hostcalls` and their errors handled; the SDK's
//! trait helpers (which unwrap) are not used on request paths.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use aadauth::gateway::GatewayClaims;
use aadauth::{Gate, GateDecision, KeySet};
use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, BufferType, ContextType, LogLevel, MapType, MetricType};

use crate::config::{FilterConfig, Requirement};
use crate::request::{self, Denied, DenyKind};

/// The root context's timer: waits, refreshes and shared-key pickups are checked this often.
const TICK: Duration = Duration::from_secs(1);
/// On-demand key fetches (unknown `kid`, no keys) start at most this often.
pub const REFETCH_MIN_MS: i64 = 30_000;
/// Requests that may wait for keys at once, per worker.
const MAX_WAITING: usize = 1024;
/// The largest key set accepted from the key endpoint.
const MAX_JWKS_BYTES: usize = 1 << 20;
/// How often a request path may look for keys another worker fetched.
const SHARED_CHECK_MS: i64 = 1000;

fn log(level: LogLevel, message: &str) {
    let _ = hostcalls::log(level, message);
}

fn now_ms() -> i64 {
    hostcalls::get_current_time()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn request_header(name: &str) -> Option<String> {
    match hostcalls::get_map_value_bytes(MapType::HttpRequestHeaders, name) {
        Ok(Some(bytes)) => String::from_utf8(bytes).ok(),
        _ => None,
    }
}

// -- metrics ------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum M {
    Allowed,
    Denied,
    Passthrough,
    DeniedMissingToken,
    DeniedInvalidToken,
    DeniedForbidden,
    DeniedNoKeys,
    DeniedConfig,
    JwksFetchSuccess,
    JwksFetchFailed,
    JwtCacheHit,
    JwtCacheMiss,
}

const METRICS: [&str; 12] = [
    "aadauth.allowed",
    "aadauth.denied",
    "aadauth.passthrough",
    "aadauth.denied_missing_token",
    "aadauth.denied_invalid_token",
    "aadauth.denied_forbidden",
    "aadauth.denied_no_keys",
    "aadauth.denied_config",
    "aadauth.jwks_fetch_success",
    "aadauth.jwks_fetch_failed",
    "aadauth.jwt_cache_hit",
    "aadauth.jwt_cache_miss",
];

#[derive(Default)]
struct Metrics {
    ids: Vec<Option<u32>>,
}

impl Metrics {
    fn define(&mut self) {
        if self.ids.is_empty() {
            self.ids = METRICS
                .iter()
                .map(|n| hostcalls::define_metric(MetricType::Counter, n).ok())
                .collect();
        }
    }

    fn inc(&self, m: M) {
        if let Some(Some(id)) = self.ids.get(m as usize) {
            let _ = hostcalls::increment_metric(*id, 1);
        }
    }

    fn denied(&self, kind: DenyKind) {
        self.inc(M::Denied);
        self.inc(match kind {
            DenyKind::MissingToken => M::DeniedMissingToken,
            DenyKind::InvalidToken => M::DeniedInvalidToken,
            DenyKind::Forbidden => M::DeniedForbidden,
            DenyKind::NoKeys => M::DeniedNoKeys,
            DenyKind::Config => M::DeniedConfig,
        });
    }
}

// -- state --------------------------------------------------------------------------------

struct InFlight {
    token: u32,
    started_ms: i64,
    /// The key source it was started for (a reconfiguration may change it).
    source: String,
}

#[derive(Default)]
struct KeyState {
    /// The shared-data key of the remote source; `None`: local keys only.
    source: Option<String>,
    local: Option<KeySet>,
    fetched: Option<KeySet>,
    /// Unix seconds at which `fetched` was fetched (by this or another worker).
    fetched_at: Option<i64>,
    /// `local` + `fetched`; `None` when there is no usable key at all.
    combined: Option<KeySet>,
    in_flight: Option<InFlight>,
    last_started_ms: Option<i64>,
    /// No scheduled fetch before this time (after a failure).
    next_attempt_ms: i64,
    last_shared_check_ms: Option<i64>,
    /// Why the last fetch failed; cleared by a successful fetch.
    last_error: Option<String>,
}

impl KeyState {
    fn rebuild(&mut self) {
        let mut keys = Vec::new();
        for set in [&self.local, &self.fetched].into_iter().flatten() {
            keys.extend(set.keys.iter().cloned());
        }
        self.combined = if keys.iter().any(|k| k.unusable().is_none()) {
            Some(KeySet { keys })
        } else {
            None
        };
    }
}

/// A request paused until keys arrive: what is needed to decide it later.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    token: String,
    token_header: String,
    role: String,
    remote: Option<String>,
    /// `:path`, and `:authority` when a rule needed it, for the realm of a refusal only: an
    /// admitted request does not build it, nor fetch `:scheme` (or `:authority`).
    path: String,
    authority: Option<String>,
}

impl Pending {
    /// The `WWW-Authenticate` realm; call with this request's context effective (the
    /// scheme, and the authority if no rule read it, are read then).
    fn realm(&self) -> String {
        let scheme = request_header(":scheme").unwrap_or_default();
        let authority = match &self.authority {
            Some(a) => a.clone(),
            None => authority(),
        };
        request::realm(&scheme, &authority, &self.path)
    }
}

/// The request's `:authority` (or `host`), `""` without either.
fn authority() -> String {
    request_header(":authority")
        .or_else(|| request_header("host"))
        .unwrap_or_default()
}

struct Waiting {
    ctx: u32,
    since_ms: i64,
    req: Pending,
}

enum Verdict {
    /// Admitted, with the verified token's claims: `carry_out` sets each claim header
    /// from them (or removes it), straight from the claims, copying nothing.
    Allow(Option<Arc<GatewayClaims>>),
    Deny(Denied),
    /// Paused until keys arrive.
    Wait,
}

/// The state of one worker, shared by its root and HTTP contexts.
#[derive(Default)]
pub(crate) struct Worker {
    cfg: Option<Rc<FilterConfig>>,
    /// The core's per-request sequence (bound CIDRs, the verified-token cache, RS256,
    /// the role's bindings) over the current key set.
    gate: Option<Gate>,
    keys: KeyState,
    waiting: Vec<Waiting>,
    metrics: Metrics,
}

fn parse_shared(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let nl = bytes.iter().position(|b| *b == b'\n')?;
    let t = std::str::from_utf8(&bytes[..nl]).ok()?.parse().ok()?;
    Some((t, &bytes[nl + 1..]))
}

fn parse_jwks(body: &[u8]) -> Result<KeySet, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the key set is not UTF-8".to_string())?;
    let set = KeySet::from_jwks_str(text).map_err(|e| format!("not a key set: {e}"))?;
    if set.keys.iter().any(|k| k.unusable().is_none()) {
        Ok(set)
    } else {
        Err("the key set has no usable RSA key".into())
    }
}

/// The filter's verdict on the core's decision: admitted with its claims, or the
/// refusal by its status (401 bad token, 403 not allowed, otherwise configuration).
fn verdict(d: &GateDecision) -> Verdict {
    if d.allowed {
        return Verdict::Allow(d.claims.clone());
    }
    let kind = match d.status {
        401 => DenyKind::InvalidToken,
        403 => DenyKind::Forbidden,
        _ => DenyKind::Config,
    };
    Verdict::Deny(Denied::new(kind, d.check.clone(), d.message.clone()))
}

impl Worker {
    fn remote_url(&self) -> String {
        self.cfg
            .as_ref()
            .and_then(|c| c.remote.as_ref())
            .map(|r| r.url())
            .unwrap_or_default()
    }

    /// Applies a new, valid configuration.
    fn configure(&mut self, cfg: FilterConfig, now: i64) {
        self.metrics.define();
        let source = cfg.remote.as_ref().map(|r| r.shared_key());
        if source != self.keys.source {
            self.keys = KeyState {
                source,
                ..KeyState::default()
            };
        }
        self.keys.local = cfg.local_jwks.clone();
        self.keys.rebuild();
        self.gate = Some(Gate::new(
            cfg.verifier.clone(),
            self.keys.combined.clone().unwrap_or_default(),
            cfg.jwt_cache_size,
            cfg.wanted_claims.clone(),
        ));
        let has_remote = cfg.remote.is_some();
        self.cfg = Some(Rc::new(cfg));
        if has_remote {
            self.adopt_shared(now);
            if !self.keys_fresh(now) && self.keys.in_flight.is_none() {
                // At start-up the cluster may not be ready yet: the tick retries.
                let _ = self.start_fetch(now);
            }
        }
    }

    fn keys_fresh(&self, now: i64) -> bool {
        let cache_s = self
            .cfg
            .as_ref()
            .and_then(|c| c.remote.as_ref())
            .map_or(i64::MAX, |r| r.cache_seconds);
        self.keys
            .fetched_at
            .is_some_and(|t| now.div_euclid(1000) < t.saturating_add(cache_s))
    }

    fn start_fetch(&mut self, now: i64) -> Result<(), String> {
        let Some(remote) = self.cfg.as_ref().and_then(|c| c.remote.clone()) else {
            return Err("no jwks_cluster".into());
        };
        let headers = vec![
            (":method", "GET"),
            (":path", remote.path.as_str()),
            (":authority", remote.authority.as_str()),
            (":scheme", "https"),
            ("accept", "application/json"),
            ("user-agent", "aadauth-filter"),
        ];
        self.keys.last_started_ms = Some(now);
        match hostcalls::dispatch_http_call(
            &remote.cluster,
            headers,
            None,
            vec![],
            Duration::from_millis(remote.timeout_ms),
        ) {
            Ok(token) => {
                self.keys.in_flight = Some(InFlight {
                    token,
                    started_ms: now,
                    source: remote.shared_key(),
                });
                Ok(())
            }
            Err(status) => {
                let e = format!(
                    "cannot call cluster {} ({status:?}): is it defined?",
                    remote.cluster
                );
                log(LogLevel::Warn, &format!("aadauth: key fetch: {e}"));
                self.metrics.inc(M::JwksFetchFailed);
                self.keys.last_error = Some(e.clone());
                self.keys.next_attempt_ms = now + REFETCH_MIN_MS;
                Err(e)
            }
        }
    }

    /// Forgets a fetch whose answer never came (e.g. its request was destroyed).
    fn clear_lost(&mut self, now: i64) {
        let timeout = self
            .cfg
            .as_ref()
            .and_then(|c| c.remote.as_ref())
            .map_or(0, |r| r.timeout_ms as i64);
        if let Some(f) = &self.keys.in_flight {
            if now - f.started_ms > timeout + 2000 {
                self.keys.in_flight = None;
                self.keys.last_error = Some("the key fetch got no answer".into());
            }
        }
    }

    /// Whether a fetch is in flight after this call (starting one if allowed).
    fn want_fetch(&mut self, now: i64) -> bool {
        if self.cfg.as_ref().is_none_or(|c| c.remote.is_none()) {
            return false;
        }
        self.clear_lost(now);
        if self.keys.in_flight.is_some() {
            return true;
        }
        if self
            .keys
            .last_started_ms
            .is_some_and(|t| now - t < REFETCH_MIN_MS)
        {
            return false;
        }
        self.start_fetch(now).is_ok()
    }

    /// Installs a key set (fetched here, or by another worker) fetched at `fetched_at`.
    fn install(&mut self, set: KeySet, fetched_at: i64) {
        self.keys.fetched = Some(set);
        self.keys.fetched_at = Some(fetched_at);
        self.keys.rebuild();
        // Tokens signed by a key that left the set are verified again (Gate::set_keys).
        if let Some(gate) = self.gate.as_mut() {
            gate.set_keys(self.keys.combined.clone().unwrap_or_default());
        }
    }

    /// Takes a newer key set another worker stored in shared data.
    fn adopt_shared(&mut self, now: i64) -> bool {
        self.keys.last_shared_check_ms = Some(now);
        let Some(key) = self.keys.source.clone() else {
            return false;
        };
        let Ok((Some(bytes), _)) = hostcalls::get_shared_data(&key) else {
            return false;
        };
        let Some((t, body)) = parse_shared(&bytes) else {
            return false;
        };
        if self.keys.fetched_at.is_some_and(|ours| ours >= t) {
            return false;
        }
        match parse_jwks(body) {
            Ok(set) => {
                self.install(set, t);
                true
            }
            Err(_) => false,
        }
    }

    /// Stores our key set for the other workers, unless a newer one is there (CAS).
    fn share(&self, body: &[u8], fetched_at: i64) {
        let Some(key) = &self.keys.source else {
            return;
        };
        let mut value = format!("{fetched_at}\n").into_bytes();
        value.extend_from_slice(body);
        for _ in 0..3 {
            let Ok((current, cas)) = hostcalls::get_shared_data(key) else {
                return;
            };
            if current
                .as_deref()
                .and_then(parse_shared)
                .is_some_and(|(t, _)| t > fetched_at)
            {
                return;
            }
            if hostcalls::set_shared_data(key, Some(&value), cas).is_ok() {
                return;
            }
        }
    }

    /// The answer to a key fetch. Returns false when it was not ours.
    fn on_fetch_response(
        &mut self,
        token: u32,
        now: i64,
        status: Option<u16>,
        body: Option<Vec<u8>>,
        body_size: usize,
    ) -> bool {
        match &self.keys.in_flight {
            Some(f) if f.token == token => {}
            _ => return false,
        }
        let Some(f) = self.keys.in_flight.take() else {
            return false;
        };
        if Some(&f.source) != self.keys.source.as_ref() {
            return true; // the configuration changed meanwhile
        }
        let url = self.remote_url();
        let result = match (status, &body) {
            (None, _) => Err("no response (connection failure or timeout)".to_string()),
            (Some(200), _) if body_size > MAX_JWKS_BYTES => {
                Err(format!("the key set is over {MAX_JWKS_BYTES} bytes"))
            }
            (Some(200), Some(b)) => parse_jwks(b),
            (Some(200), None) => Err("empty response".to_string()),
            (Some(s), _) => Err(format!("HTTP status {s}")),
        };
        match result {
            Ok(set) => {
                let t = now.div_euclid(1000);
                let n = set.keys.len();
                self.install(set, t);
                if let Some(b) = &body {
                    self.share(b, t);
                }
                self.keys.last_error = None;
                self.metrics.inc(M::JwksFetchSuccess);
                log(
                    LogLevel::Info,
                    &format!("aadauth: fetched {n} signing keys from {url}"),
                );
            }
            Err(e) => {
                self.metrics.inc(M::JwksFetchFailed);
                self.keys.next_attempt_ms = now + REFETCH_MIN_MS;
                let kept = if self.keys.fetched.is_some() {
                    "keeping the previous keys"
                } else {
                    "no keys yet"
                };
                log(
                    LogLevel::Warn,
                    &format!("aadauth: key fetch from {url} failed: {e}; {kept}"),
                );
                self.keys.last_error = Some(format!("{url}: {e}"));
            }
        }
        true
    }

    /// Decides a request. `may_wait`: a missing key may pause it.
    fn decide(&mut self, p: &Pending, now: i64, may_wait: bool) -> Verdict {
        let Some(cfg) = self.cfg.clone() else {
            return Verdict::Deny(Denied::new(
                DenyKind::Config,
                "config",
                "the filter has no valid configuration",
            ));
        };
        let now_s = now.div_euclid(1000);
        let Some(role) = cfg.roles.get(&p.role) else {
            return Verdict::Deny(Denied::new(
                DenyKind::Config,
                "role.exists",
                format!("no role named {}", p.role),
            ));
        };
        let Some(gate) = self.gate.as_mut() else {
            return Verdict::Deny(Denied::new(
                DenyKind::Config,
                "config",
                "the filter has no valid configuration",
            ));
        };
        let key = gate.key_of(&p.token);
        // Bound CIDRs, then the cache (exp re-checked), then the role: a hit ends here.
        if let Some(d) = gate.check_cached(&key, now_s, role, p.remote.as_deref()) {
            if d.cached {
                self.metrics.inc(M::JwtCacheHit);
            }
            return verdict(&d);
        }
        self.metrics.inc(M::JwtCacheMiss);
        let may_check_shared = |w: &Worker| {
            w.keys
                .last_shared_check_ms
                .is_none_or(|t| now - t >= SHARED_CHECK_MS)
        };
        for attempt in 0..2 {
            // Without keys the claims are still checked: a bad token is a bad token
            // (401), a good one waits for keys (or 503).
            let Some(gate) = self.gate.as_mut() else {
                break;
            };
            let d = gate.verify_and_remember(&p.token, key, now_s, role);
            if !(d.unknown_key && cfg.remote.is_some()) {
                return verdict(&d);
            }
            if attempt == 0 && may_check_shared(self) && self.adopt_shared(now) {
                continue;
            }
            if may_wait && self.want_fetch(now) {
                return Verdict::Wait;
            }
            if self.keys.combined.is_none() {
                let why = self
                    .keys
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "no key set has been fetched yet".into());
                return Verdict::Deny(Denied::new(
                    DenyKind::NoKeys,
                    "token.signature",
                    format!("signing keys are unavailable: {why}"),
                ));
            }
            if let Some(err) = &self.keys.last_error {
                return Verdict::Deny(Denied::new(
                    DenyKind::NoKeys,
                    "token.signature",
                    format!(
                        "{}, and the key set could not be refreshed: {err}",
                        d.message
                    ),
                ));
            }
            return verdict(&d);
        }
        Verdict::Deny(Denied::new(
            DenyKind::NoKeys,
            "token.signature",
            "signing keys are unavailable",
        ))
    }

    /// Carries out a verdict on the effective (HTTP) context. Returns the action for a
    /// request being decided in `on_http_request_headers`.
    fn carry_out(&self, verdict: Verdict, p: &Pending, resume: bool) -> Action {
        let Some(cfg) = self.cfg.clone() else {
            return Action::Pause;
        };
        match verdict {
            Verdict::Allow(claims) => {
                if !cfg.forward {
                    let _ =
                        hostcalls::remove_map_value(MapType::HttpRequestHeaders, &p.token_header);
                }
                // Every claim header is set from the token or removed: a client's own
                // copies never pass (replacing drops all of them).
                for h in &cfg.claim_to_headers {
                    let value = claims
                        .as_deref()
                        .and_then(|c| c.selected(&h.claim_name))
                        .filter(|v| request::header_value_ok(v));
                    let _ = hostcalls::set_map_value(
                        MapType::HttpRequestHeaders,
                        &h.header_name,
                        value,
                    );
                }
                self.metrics.inc(M::Allowed);
                if resume {
                    let _ = hostcalls::resume_http_request();
                }
                Action::Continue
            }
            Verdict::Deny(d) => {
                self.send_denied(&cfg, &d, &p.realm());
                Action::Pause
            }
            Verdict::Wait => Action::Pause,
        }
    }

    fn send_denied(&self, cfg: &FilterConfig, d: &Denied, realm: &str) {
        self.metrics.denied(d.kind);
        log(
            LogLevel::Debug,
            &format!("aadauth: {} {}: {}", d.kind.status(), d.check, d.message),
        );
        let (status, headers, body) = request::deny_response(d, realm, cfg.include_failure_detail);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let _ = hostcalls::send_http_response(status, headers, Some(&body));
    }

    /// Decides every waiting request now (keys arrived, or the fetch failed), then makes
    /// `current` the effective context again.
    fn resume_waiting(&mut self, now: i64, current: u32) {
        let list = std::mem::take(&mut self.waiting);
        for w in list {
            if hostcalls::set_effective_context(w.ctx).is_err() {
                continue; // the request is gone
            }
            let v = self.decide(&w.req, now, false);
            self.carry_out(v, &w.req, true);
        }
        let _ = hostcalls::set_effective_context(current);
    }

    fn tick(&mut self, now: i64, root: u32) {
        // Bounded waits.
        let timeout = self
            .cfg
            .as_ref()
            .and_then(|c| c.remote.as_ref())
            .map_or(crate::config::DEFAULT_JWKS_TIMEOUT_MS as i64, |r| {
                r.timeout_ms as i64
            });
        if self.waiting.iter().any(|w| now - w.since_ms >= timeout) {
            let (expired, keep): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
                .into_iter()
                .partition(|w| now - w.since_ms >= timeout);
            self.waiting = keep;
            if let Some(cfg) = self.cfg.clone() {
                for w in expired {
                    if hostcalls::set_effective_context(w.ctx).is_ok() {
                        let why =
                            self.keys.last_error.clone().unwrap_or_else(|| {
                                "the key endpoint did not answer in time".into()
                            });
                        let d = Denied::new(
                            DenyKind::NoKeys,
                            "token.signature",
                            format!("timed out waiting for signing keys: {why}"),
                        );
                        self.send_denied(&cfg, &d, &w.req.realm());
                    }
                }
            }
            let _ = hostcalls::set_effective_context(root);
        }
        if self.cfg.as_ref().is_none_or(|c| c.remote.is_none()) {
            return;
        }
        self.clear_lost(now);
        if self.keys.in_flight.is_some() {
            return;
        }
        // Keys another worker fetched resolve our waiting requests too.
        if !self.waiting.is_empty() && self.adopt_shared(now) {
            self.resume_waiting(now, root);
        }
        // Scheduled refresh (every jwks_cache_seconds; after a failure, every 30 s).
        if !self.keys_fresh(now) && now >= self.keys.next_attempt_ms {
            if self.adopt_shared(now) && self.keys_fresh(now) {
                return;
            }
            let _ = self.start_fetch(now);
        }
    }
}

fn call_response(worker: &Rc<RefCell<Worker>>, current: u32, token: u32, body_size: usize) {
    let status = hostcalls::get_map_value_bytes(MapType::HttpCallResponseHeaders, ":status")
        .ok()
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<u16>().ok());
    let body = if body_size > 0 && body_size <= MAX_JWKS_BYTES {
        hostcalls::get_buffer(BufferType::HttpCallResponseBody, 0, body_size)
            .ok()
            .flatten()
    } else {
        None
    };
    let now = now_ms();
    let Ok(mut w) = worker.try_borrow_mut() else {
        log(
            LogLevel::Error,
            "aadauth: worker state busy (re-entrant call)",
        );
        return;
    };
    if w.on_fetch_response(token, now, status, body, body_size) {
        w.resume_waiting(now, current);
    }
}

// -- contexts -----------------------------------------------------------------------------

/// The plugin's root context (one per worker).
pub(crate) struct Root {
    id: u32,
    worker: Rc<RefCell<Worker>>,
}

impl Root {
    pub(crate) fn new(id: u32) -> Root {
        Root {
            id,
            worker: Rc::new(RefCell::new(Worker::default())),
        }
    }
}

impl Context for Root {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        call_response(&self.worker, self.id, token_id, body_size);
    }
}

impl RootContext for Root {
    fn on_vm_start(&mut self, _vm_configuration_size: usize) -> bool {
        true
    }

    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let bytes = hostcalls::get_buffer(BufferType::PluginConfiguration, 0, usize::MAX)
            .ok()
            .flatten()
            .unwrap_or_default();
        let Ok(mut w) = self.worker.try_borrow_mut() else {
            return false;
        };
        match FilterConfig::parse(&bytes) {
            Err(e) => {
                let keep = if w.cfg.is_some() {
                    "keeping the previous configuration"
                } else {
                    "no configuration is active"
                };
                log(
                    LogLevel::Error,
                    &format!(
                        "aadauth: configuration refused: {}: {}; {keep}",
                        e.field, e.message
                    ),
                );
                false
            }
            Ok(cfg) => {
                let summary = format!(
                    "aadauth: configured: tenant {}, {} roles, {} rules, keys from {}",
                    cfg.verifier.tenant_id(),
                    cfg.roles.len(),
                    cfg.rules.len(),
                    match (&cfg.local_jwks, &cfg.remote) {
                        (Some(_), Some(r)) => format!("local_jwks and {}", r.url()),
                        (Some(_), None) => "local_jwks".to_string(),
                        (None, Some(r)) => r.url(),
                        (None, None) => "nowhere".to_string(),
                    }
                );
                w.configure(cfg, now_ms());
                let _ = hostcalls::set_tick_period(TICK);
                log(LogLevel::Info, &summary);
                true
            }
        }
    }

    fn on_tick(&mut self) {
        let now = now_ms();
        if let Ok(mut w) = self.worker.try_borrow_mut() {
            w.tick(now, self.id);
        }
    }

    fn create_http_context(&self, context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Http {
            id: context_id,
            worker: Rc::clone(&self.worker),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

/// One HTTP request.
struct Http {
    id: u32,
    worker: Rc<RefCell<Worker>>,
}

impl Context for Http {
    fn on_http_call_response(
        &mut self,
        token_id: u32,
        _num_headers: usize,
        body_size: usize,
        _num_trailers: usize,
    ) {
        call_response(&self.worker, self.id, token_id, body_size);
    }

    fn on_done(&mut self) -> bool {
        if let Ok(mut w) = self.worker.try_borrow_mut() {
            w.waiting.retain(|x| x.ctx != self.id);
        }
        true
    }
}

impl HttpContext for Http {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let now = now_ms();
        let Ok(mut w) = self.worker.try_borrow_mut() else {
            log(
                LogLevel::Error,
                "aadauth: worker state busy (re-entrant call)",
            );
            let _ = hostcalls::send_http_response(500, vec![], None);
            return Action::Pause;
        };
        let Some(cfg) = w.cfg.clone() else {
            let _ = hostcalls::send_http_response(500, vec![], Some(b"aadauth: not configured\n"));
            return Action::Pause;
        };
        // Claim headers come from the filter only: what the client sent is dropped here
        // for a request passed through, and replaced or removed by `carry_out` (every
        // claim header, set or removed) for an admitted one; a refused one goes nowhere.
        // `:authority` and `:method` only when a rule matches on them: each header read is a
        // host call that copies the value into the module (two of a cached request's ~17).
        let path = request_header(":path").unwrap_or_default();
        let authority = cfg.rules_match_hosts().then(authority);
        let method = if cfg.rules_match_methods() {
            request_header(":method").unwrap_or_default()
        } else {
            String::new()
        };
        let role = match cfg
            .rule_for(&path, authority.as_deref().unwrap_or(""), &method)
            .map(|r| &r.requirement)
        {
            None | Some(Requirement::AllowUnauthenticated) => {
                for h in &cfg.claim_to_headers {
                    let _ =
                        hostcalls::remove_map_value(MapType::HttpRequestHeaders, &h.header_name);
                }
                w.metrics.inc(M::Passthrough);
                return Action::Continue;
            }
            Some(Requirement::Role(r)) => r.clone(),
        };
        let Some((token_header, token)) = request::extract_token(&cfg.from_headers, request_header)
        else {
            let d = Denied::new(DenyKind::MissingToken, "request.jwt", "token is missing");
            let scheme = request_header(":scheme").unwrap_or_default();
            let authority = authority.unwrap_or_else(self::authority);
            w.send_denied(&cfg, &d, &request::realm(&scheme, &authority, &path));
            return Action::Pause;
        };
        let needs_address = cfg
            .roles
            .get(&role)
            .is_some_and(|r| !r.token.bound_cidrs.is_empty());
        let remote = if needs_address {
            hostcalls::get_property(vec!["source", "address"])
                .ok()
                .flatten()
                .and_then(|b| String::from_utf8(b).ok())
        } else {
            None
        };
        let p = Pending {
            token,
            token_header,
            role,
            remote,
            path,
            authority,
        };
        match w.decide(&p, now, true) {
            Verdict::Wait if w.waiting.len() >= MAX_WAITING => {
                let d = Denied::new(
                    DenyKind::NoKeys,
                    "token.signature",
                    "too many requests are waiting for signing keys",
                );
                w.send_denied(&cfg, &d, &p.realm());
                Action::Pause
            }
            Verdict::Wait => {
                w.waiting.push(Waiting {
                    ctx: self.id,
                    since_ms: now,
                    req: p,
                });
                Action::Pause
            }
            v => w.carry_out(v, &p, false),
        }
    }
}
