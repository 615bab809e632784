//! The native rows of `scripts/bench.sh`: aadauth's core on one token, in-process, each
//! operation timed on its own (median and p99 over `--iterations` after a warm-up, the rows
//! taking turns), as JSON on stdout with the raw samples.
//!
//! Rows:
//! - `native_evaluate_cold`: `evaluate_json(input bytes)`: parses the whole input and the
//!   JWKS, prepares the token's key, verifies, every check, ARM lookups in the snapshot.
//! - `native_login_flow_warm`: `LoginFlow` with a long-lived, already prepared `KeySet` and
//!   the ARM answers fed in (an adapter's path: config and role parsed once).
//! - `native_signature_only`: `token::parse_jws` + `KeySet::verify` (prepared key).
//! - `native_gateway_new_token` (feature `cache`): `gateway::Verifier::verify` +
//!   `gateway::authorize` with the prepared key set (a token seen for the first time).
//! - `native_gateway_cached_token` (feature `cache`): what a gateway does for a token it
//!   has verified before: `CacheKey::of` (SHA-256 of the token) + `TokenCache::get` +
//!   `gateway::authorize`.
//!
//! With the `mimalloc` feature the allocator is the `aadauth` binary's (mimalloc) instead
//! of the system's, and only the rows that allocate much are timed, as
//! `native_evaluate_cold_mimalloc`, `native_evaluate_loaded_keys_mimalloc` and
//! `native_login_flow_warm_mimalloc`; nothing else changes.
//!
//! With the `cache` feature (and not `mimalloc`) it also reports the heap memory of `TokenCache` entries,
//! measured with a counting global allocator: 10,000 distinct verified entries inserted.
//! Every build reports the heap of one `evaluate_json_with_keys` (`evaluate_heap`):
//! allocations, bytes requested, peak live bytes, and the output's bytes.
//!
//! ```text
//! aadauth-bench-native [--vector FILE] [--iterations N] [--fast-iterations N]
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{json, Value};

// The allocator underneath `Counting`: the system's, or mimalloc with `--features mimalloc`.
#[cfg(feature = "mimalloc")]
use mimalloc::MiMalloc as Inner;
#[cfg(not(feature = "mimalloc"))]
use std::alloc::System as Inner;

/// Counts live heap bytes (as requested, without the allocator's own overhead) and their
/// peak, while `COUNTING` is on: only around the memory measurement. The timed rows run
/// with it off, as plain `System` plus one relaxed load, because the counters' atomic
/// read-modify-writes (three per allocation) would otherwise be timed as part of every
/// allocation the core makes, a cost no real caller pays. Everything is forwarded to
/// [`Inner`].
struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static REQUESTED: AtomicUsize = AtomicUsize::new(0);

fn grow(n: usize) {
    REQUESTED.fetch_add(n, Ordering::Relaxed);
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

/// What the heap did while a closure ran, as [`Counting`] saw it: bytes as requested from
/// the allocator (its own per-block overhead, typically 8-16 bytes a block, not counted).
struct HeapUse {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    allocations: usize,
    /// Bytes asked for: every allocation's size, plus what a `realloc` grew by.
    requested: usize,
    /// The most bytes live at once above the level at the start.
    peak: usize,
    /// Bytes still live at the end (in what the closure returns, or kept elsewhere).
    retained: usize,
}

/// Runs `f` with the counters on. Counting starts from a base far above zero, so that
/// frees of blocks allocated before only make `LIVE` dip below it: the figures are
/// differences within the window. Not reentrant; the bench is single-threaded.
fn heap_use<R>(f: impl FnOnce() -> R) -> (R, HeapUse) {
    const BASE: usize = 1 << 40;
    LIVE.store(BASE, Ordering::Relaxed);
    PEAK.store(BASE, Ordering::Relaxed);
    let allocs0 = ALLOCATIONS.load(Ordering::Relaxed);
    let requested0 = REQUESTED.load(Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let r = f();
    COUNTING.store(false, Ordering::Relaxed);
    let heap = HeapUse {
        allocations: ALLOCATIONS.load(Ordering::Relaxed) - allocs0,
        requested: REQUESTED.load(Ordering::Relaxed) - requested0,
        peak: PEAK.load(Ordering::Relaxed).saturating_sub(BASE),
        retained: LIVE.load(Ordering::Relaxed).saturating_sub(BASE),
    };
    (r, heap)
}

// SAFETY: every call is forwarded to `Inner` with the same arguments; the counters have no
// effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = Inner.alloc(layout);
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = Inner.alloc_zeroed(layout);
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Inner.dealloc(ptr, layout);
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = Inner.realloc(ptr, layout, new_size);
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            if new_size >= layout.size() {
                grow(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Options {
    vector: String,
    iterations: usize,
    fast_iterations: usize,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        vector: concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/allowed_vm_system_assigned.json"
        )
        .to_string(),
        iterations: 2000,
        fast_iterations: 20000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--vector" => o.vector = value()?,
            "--iterations" => o.iterations = number(&value()?)?,
            "--fast-iterations" => o.fast_iterations = number(&value()?)?,
            "-h" | "--help" => {
                return Err(
                    "usage: aadauth-bench-native [--vector FILE] [--iterations N] [--fast-iterations N]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

fn number(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{s} is not a positive number")),
    }
}

/// One row: an operation to time `iterations` times.
struct Case<'a> {
    id: &'static str,
    label: &'static str,
    what: &'static str,
    iterations: usize,
    f: Box<dyn FnMut() + 'a>,
}

/// How many slices each row's samples are taken in, the rows taking turns: every row is
/// measured across the whole run, so that a busy spell of the machine does not land on one
/// row only.
const SLICES: usize = 10;

/// Warms every case up (a tenth of its samples, at least 50 calls), then times each call,
/// the cases taking turns in [`SLICES`] slices.
fn measure(mut cases: Vec<Case<'_>>) -> Vec<Value> {
    for c in &mut cases {
        for _ in 0..(c.iterations / 10).max(50) {
            (c.f)();
        }
    }
    let mut samples: Vec<Vec<f64>> = cases
        .iter()
        .map(|c| Vec::with_capacity(c.iterations))
        .collect();
    for slice in 0..SLICES {
        for (c, s) in cases.iter_mut().zip(&mut samples) {
            let n = c.iterations * (slice + 1) / SLICES - c.iterations * slice / SLICES;
            for _ in 0..n {
                let t0 = Instant::now();
                (c.f)();
                s.push(t0.elapsed().as_nanos() as f64 / 1000.0);
            }
        }
    }
    cases
        .iter()
        .zip(samples)
        .map(|(c, s)| {
            let mut v = stats(s);
            v["id"] = json!(c.id);
            v["label"] = json!(c.label);
            v["what"] = json!(c.what);
            v
        })
        .collect()
}

/// The same quantiles as bench/node/bench.mjs and bench/python/bench.py: the sample at
/// index `floor(q * n)` of the sorted samples. The raw samples (in order, to the ns) go
/// along, for scripts/bench.sh to pool over its rounds.
fn stats(samples: Vec<f64>) -> Value {
    let raw: Vec<f64> = samples
        .iter()
        .map(|x| (x * 1000.0).round() / 1000.0)
        .collect();
    let mut s = samples;
    s.sort_by(f64::total_cmp);
    let at = |q: f64| s[((q * s.len() as f64) as usize).min(s.len() - 1)];
    let mean = s.iter().sum::<f64>() / s.len() as f64;
    json!({
        "n": s.len(),
        "median_us": at(0.5),
        "p99_us": at(0.99),
        "mean_us": mean,
        "min_us": s[0],
        "samples_us": raw,
    })
}

/// The id and label of a row timed again with mimalloc; the other rows are not.
#[cfg(feature = "mimalloc")]
fn mimalloc_id(id: &str) -> Option<(&'static str, &'static str)> {
    Some(match id {
        "native_evaluate_cold" => (
            "native_evaluate_cold_mimalloc",
            "native evaluate_json (cold), mimalloc",
        ),
        "native_evaluate_loaded_keys" => (
            "native_evaluate_loaded_keys_mimalloc",
            "native evaluate_json, key set loaded once, mimalloc",
        ),
        "native_login_flow_warm" => (
            "native_login_flow_warm_mimalloc",
            "native LoginFlow (prepared KeySet), mimalloc",
        ),
        _ => return None,
    })
}

fn main() {
    if let Err(e) = run() {
        eprintln!("aadauth-bench-native: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let o = options()?;
    let text = std::fs::read_to_string(&o.vector).map_err(|e| format!("{}: {e}", o.vector))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", o.vector))?;
    let input = doc.get("input").cloned().unwrap_or(doc);
    let bytes = serde_json::to_vec(&input).map_err(|e| e.to_string())?;
    let jwt = input["login"]["jwt"]
        .as_str()
        .ok_or("the vector has no login.jwt")?
        .to_string();
    let jwks = match &input["keys"] {
        Value::String(s) => serde_json::from_str(s).map_err(|e| e.to_string())?,
        v => v.clone(),
    };

    // Everything must accept the token before its time means anything.
    let first = aadauth::evaluate_json(&bytes).map_err(|e| format!("{e:?}"))?;
    if !first.allowed {
        return Err(format!("evaluate refused the token: {:?}", first.error));
    }
    let keys = aadauth::KeySet::from_jwks(&jwks)?;
    let parsed = aadauth::EvaluateInput::from_json(&input).map_err(|e| format!("{e:?}"))?;
    let arm: Vec<(String, aadauth::ArmAnswer)> = input["arm"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), aadauth::ArmAnswer::from_snapshot(v)))
                .collect()
        })
        .unwrap_or_default();
    let verified = |jws: &aadauth::token::Jws<'_>| {
        matches!(keys.verify(jws), aadauth::keys::Verification::Verified(_))
    };
    let jws = aadauth::token::parse_jws(&jwt, &["RS256"])?;
    if !verified(&jws) {
        return Err("KeySet::verify refused the signature".into());
    }
    let flow_once = || {
        let mut flow =
            aadauth::LoginFlow::new(parsed.context.clone()).with_cached_keys(keys.clone());
        for (path, answer) in &arm {
            flow.provide_arm(path, answer.clone());
        }
        match flow.next() {
            aadauth::Step::Done(out) => out.allowed,
            _ => false,
        }
    };
    if !flow_once() {
        return Err("LoginFlow did not allow the login".into());
    }

    // The input without `keys`, for the key set loaded once (what jose's createLocalJWKSet
    // and a KeyObject give the peers).
    let mut without_keys = input.clone();
    if let Some(m) = without_keys.as_object_mut() {
        m.remove("keys");
    }
    let bytes_without_keys = serde_json::to_vec(&without_keys).map_err(|e| e.to_string())?;
    let loaded = aadauth::KeySet::from_jwks(&jwks)?;
    match aadauth::evaluate_json_with_keys(&bytes_without_keys, &loaded) {
        Ok(out) if out.allowed => {}
        other => return Err(format!("evaluate_json_with_keys refused: {other:?}")),
    }

    #[cfg(all(feature = "cache", not(feature = "mimalloc")))]
    let mut gateway = gateway::Gateway::new(&input, &jwt, &keys)?;
    #[allow(unused_mut)]
    let mut cases = vec![
        Case {
            id: "native_evaluate_cold",
            label: "native evaluate_json (cold)",
            what: "evaluate_json(input bytes): parse input + JWKS, prepare the key, verify, every check",
            iterations: o.iterations,
            f: Box::new(|| {
                let out = aadauth::evaluate_json(black_box(&bytes));
                assert!(matches!(out, Ok(ref o) if o.allowed));
            }),
        },
        Case {
            id: "native_evaluate_loaded_keys",
            label: "native evaluate_json, key set loaded once",
            what: "evaluate_json_with_keys(input bytes without keys, KeySet loaded once): parse input, verify, every check",
            iterations: o.iterations,
            f: Box::new(|| {
                let out = aadauth::evaluate_json_with_keys(black_box(&bytes_without_keys), &loaded);
                assert!(matches!(out, Ok(ref o) if o.allowed));
            }),
        },
        Case {
            id: "native_login_flow_warm",
            label: "native LoginFlow (prepared KeySet)",
            what: "LoginFlow with a long-lived prepared KeySet, ARM answers fed in, to Done",
            iterations: o.iterations,
            f: Box::new(|| assert!(flow_once())),
        },
        Case {
            id: "native_signature_only",
            label: "native signature only",
            what: "token::parse_jws + KeySet::verify with the prepared key",
            iterations: o.iterations,
            f: Box::new(|| {
                let jws = aadauth::token::parse_jws(black_box(&jwt), &["RS256"]);
                assert!(matches!(jws, Ok(ref j) if verified(j)));
            }),
        },
    ];
    #[cfg(all(feature = "cache", not(feature = "mimalloc")))]
    cases.extend(gateway.cases(&jwt, &keys, &o));
    #[cfg(feature = "mimalloc")]
    cases.retain_mut(|c| match mimalloc_id(c.id) {
        Some((id, label)) => {
            c.id = id;
            c.label = label;
            true
        }
        None => false,
    });
    let rows = measure(cases);

    // The heap of one evaluation as the target row makes it (key set loaded once), after
    // the rows have warmed everything up: why the allocator shows in its time.
    let (out, heap) =
        heap_use(|| aadauth::evaluate_json_with_keys(black_box(&bytes_without_keys), &loaded));
    if !matches!(out, Ok(ref o) if o.allowed) {
        return Err(format!("evaluate_json_with_keys refused: {out:?}"));
    }
    let evaluate_heap = json!({
        "call": "evaluate_json_with_keys (key set loaded once)",
        "allocations": heap.allocations,
        "requested_bytes": heap.requested,
        "peak_bytes": heap.peak,
        "output_bytes": heap.retained,
    });
    drop(out);

    let mut notes: Vec<String> = Vec::new();
    #[cfg(all(feature = "cache", not(feature = "mimalloc")))]
    let memory = gateway.memory(&jwt, &mut notes)?;
    #[cfg(feature = "mimalloc")]
    let memory = {
        notes.push(
            "allocator: mimalloc (the aadauth binary's); only the rows that allocate much, no cache memory"
                .to_string(),
        );
        Value::Null
    };
    #[cfg(not(any(feature = "cache", feature = "mimalloc")))]
    let memory = {
        notes.push(
            "built without the `cache` feature (no aadauth::cache): no cached-token row, no cache memory"
                .to_string(),
        );
        Value::Null
    };

    let out = json!({
        "tool": "aadauth-bench-native",
        "aadauth": aadauth::VERSION,
        "vector": o.vector,
        "iterations": o.iterations,
        "fast_iterations": o.fast_iterations,
        "allocator": if cfg!(feature = "mimalloc") { "mimalloc" } else { "system" },
        "rows": rows,
        "memory": memory,
        "evaluate_heap": evaluate_heap,
        "notes": notes,
    });
    println!(
        "{}",
        serde_json::to_string(&out).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// The gateway rows and the cache memory (`aadauth::gateway`, `aadauth::cache`).
#[cfg(all(feature = "cache", not(feature = "mimalloc")))]
mod gateway {
    use std::hint::black_box;

    use aadauth::cache::{CacheKey, Lookup, TokenCache};
    use aadauth::gateway::{self, GatewayClaims, GatewaySettings, Verifier};
    use aadauth::{KeySet, Role};
    use serde_json::{json, Value};

    use crate::{Case, Options};

    pub struct Gateway {
        now: i64,
        verifier: Verifier,
        role: Role,
        claims: GatewayClaims,
        cache: TokenCache<GatewayClaims>,
        gate: aadauth::Gate,
    }

    impl Gateway {
        /// The gateway profile's defaults (60 s clock skew, v1 tokens, the configured
        /// audience), the vector's role; checks that the token is admitted.
        pub fn new(input: &Value, jwt: &str, keys: &KeySet) -> Result<Gateway, String> {
            let now = input["now"].as_i64().ok_or("the vector has no now")?;
            let config =
                aadauth::Config::from_json(&input["config"]).map_err(|e| format!("{e:?}"))?;
            let cloud = aadauth::Cloud::from_environment(&config.environment)?;
            let verifier = Verifier::new(
                &config.tenant_id,
                cloud,
                &GatewaySettings::default(),
                &config.resource,
            )
            .map_err(|e| format!("{e:?}"))?;
            // A gateway refuses bound_locations (a token carries no location): the role
            // without it.
            let mut role_doc = input["role"].clone();
            if let Some(m) = role_doc.as_object_mut() {
                m.remove("bound_locations");
            }
            let role = Role::from_json(&role_doc, "web").map_err(|e| format!("{e:?}"))?;
            let claims = verifier
                .verify(jwt, keys, now, &[])
                .map_err(|e| format!("gateway verify: {e}"))?;
            gateway::authorize(&role, &claims).map_err(|e| format!("gateway authorize: {e}"))?;
            let mut cache = TokenCache::new(100, gateway::DEFAULT_CLOCK_SKEW_SECONDS);
            cache.insert(CacheKey::of(jwt), claims.clone(), claims.exp, now);
            let mut gate = aadauth::Gate::new(verifier.clone(), keys.clone(), 100, Vec::new());
            if !gate.check(jwt, now, &role, None).allowed {
                return Err("Gate::check refused the token".into());
            }
            Ok(Gateway {
                now,
                verifier,
                role,
                claims,
                cache,
                gate,
            })
        }

        pub fn cases<'a>(
            &'a mut self,
            jwt: &'a str,
            keys: &'a KeySet,
            o: &Options,
        ) -> Vec<Case<'a>> {
            let (now, verifier, role, cache, gate) = (
                self.now,
                &self.verifier,
                &self.role,
                &mut self.cache,
                &mut self.gate,
            );
            vec![
                Case {
                    id: "native_gateway_new_token",
                    label: "native gateway verify + authorize (new token)",
                    what: "gateway::Verifier::verify (claims, then RS256 with the prepared key) + gateway::authorize",
                    iterations: o.iterations,
                    f: Box::new(move || {
                        let c = verifier.verify(black_box(jwt), keys, now, &[]);
                        assert!(matches!(c, Ok(ref c) if gateway::authorize(role, c).is_ok()));
                    }),
                },
                Case {
                    id: "native_gateway_cached_token",
                    label: "native cached token (TokenCache hit + authorize)",
                    what: "CacheKey::of (SHA-256 of the token) + TokenCache::get + gateway::authorize",
                    iterations: o.fast_iterations,
                    f: Box::new(move || {
                        let key = CacheKey::of(black_box(jwt));
                        match cache.get(&key, now) {
                            Lookup::Hit(c) => assert!(gateway::authorize(role, c).is_ok()),
                            _ => panic!("cache miss"),
                        }
                    }),
                },
                Case {
                    id: "native_gate_cached_token",
                    label: "native Gate::check (cached token)",
                    what: "aadauth::Gate::check on a cached token: bound_cidrs, SHA-256 + lookup, authorize, the decision with a copy of the claims",
                    iterations: o.fast_iterations,
                    f: Box::new(move || {
                        let d = gate.check(black_box(jwt), now, role, None);
                        assert!(d.allowed && d.cached);
                    }),
                },
            ]
        }

        /// Heap bytes of a `TokenCache` holding 10,000 distinct verified entries, each a copy
        /// of this token's claims with its oid and VM name changed in place (same lengths,
        /// hence the same sizes as 10,000 distinct VMs' tokens), keyed by distinct token
        /// hashes.
        pub fn memory(&self, jwt: &str, notes: &mut Vec<String>) -> Result<Value, String> {
            const ENTRIES: usize = 10_000;
            let distinct = |i: usize| {
                let mut c = self.claims.clone();
                let tag = format!("{i:08x}");
                c.oid.replace_range(0..8, &tag);
                if let Some(r) = c.resource.as_mut() {
                    let n = r.name.len().min(5);
                    let tag = format!("{:05}", i % 100_000);
                    r.name.replace_range(r.name.len() - n.., &tag[5 - n..]);
                }
                let n = c.xms_mirid.len().min(8);
                let at = c.xms_mirid.len() - n;
                c.xms_mirid.replace_range(at.., &tag[8 - n..]);
                c
            };
            let (big, heap) = crate::heap_use(|| {
                let mut big = TokenCache::new(ENTRIES, gateway::DEFAULT_CLOCK_SKEW_SECONDS);
                for i in 0..ENTRIES {
                    let key = CacheKey::of(&format!("{jwt}#{i}"));
                    let value = distinct(i);
                    let exp = value.exp;
                    if !big.insert(key, value, exp, self.now) {
                        return Err("TokenCache refused an entry".to_string());
                    }
                }
                Ok(big)
            });
            let big = big?;
            if big.len() != ENTRIES {
                return Err(format!("TokenCache holds {} entries", big.len()));
            }
            // The keys' `format!` strings are freed within the window; the cache is what
            // stays.
            let (retained, peak_bytes, allocs) = (heap.retained, heap.peak, heap.allocations);
            notes.push(
                "memory: heap bytes as requested from the allocator (malloc's own per-block \
                 overhead, typically 8-16 bytes a block, is not counted)"
                    .into(),
            );
            drop(black_box(big));
            Ok(json!({
                "entries": ENTRIES,
                "cache_bytes": retained,
                "peak_bytes": peak_bytes,
                "bytes_per_entry": retained as f64 / ENTRIES as f64,
                "peak_bytes_per_entry": peak_bytes as f64 / ENTRIES as f64,
                "allocations_per_entry": allocs as f64 / ENTRIES as f64,
                "approx_bytes_estimate": self.claims.approx_bytes(),
                "value": "gateway::GatewayClaims (what the filter caches)",
            }))
        }
    }
}
