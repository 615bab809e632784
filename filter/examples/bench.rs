//! CPU time per request through the filter, in proxy-wasm-testhost (wasmtime, guest code
//! compiled optimised), for a token seen for the first time (signature verified) and for a
//! cached token; plus the native core for comparison.
//!
//! ```text
//! cargo run --release -p aadauth-filter --example bench
//! ```
//!
//! Each figure is the calling thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`) divided by the
//! number of requests of a batch of 100, the median batch; a request is `proxy_on_context_create` +
//! `proxy_on_request_headers` + `proxy_on_done`/`log`/`delete`, as Envoy calls them.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use aadauth::gateway::{self, GatewaySettings, Verifier};
use aadauth::{Cloud, KeySet, Role};
use common::*;
use proxy_wasm_testhost::Action;
use serde_json::json;

/// The calling thread's CPU time, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
}

struct Sample {
    cpu_us: f64,
    wall_us: f64,
}

/// Per-request CPU and wall time, batch by batch: the figure is the median batch, so that
/// a busy spell of the (shared) machine during one batch does not move it, as the other
/// rows of scripts/bench.sh are medians too.
#[derive(Default)]
struct Acc {
    batches: Vec<(f64, f64)>,
}

impl Acc {
    fn time(&mut self, n: usize, f: impl FnOnce()) {
        let (c0, t0) = (thread_cpu_ns(), Instant::now());
        f();
        let wall = t0.elapsed();
        let cpu_ns = thread_cpu_ns() - c0;
        let n = n.max(1) as f64;
        self.batches
            .push((cpu_ns as f64 / 1e3 / n, wall.as_secs_f64() * 1e6 / n));
    }

    fn sample(&self) -> Sample {
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        };
        Sample {
            cpu_us: median(self.batches.iter().map(|b| b.0).collect()),
            wall_us: median(self.batches.iter().map(|b| b.1).collect()),
        }
    }
}

fn measure(n: usize, mut f: impl FnMut(usize)) -> Sample {
    let mut acc = Acc::default();
    for start in (0..n).step_by(BATCH) {
        let end = (start + BATCH).min(n);
        acc.time(end - start, || {
            for i in start..end {
                f(i);
            }
        });
    }
    acc.sample()
}

/// The test host keeps every finished request's state, so requests are timed in batches
/// on fresh hosts: the host's bookkeeping stays small, as
/// Envoy's does.
const BATCH: usize = 100;

fn main() {
    // Optimised guest code, as Envoy's runtimes (V8, wasmtime) run it.
    std::env::set_var("PROXY_WASM_TESTHOST_OPT", "speed");
    let n_new: usize = std::env::var("BENCH_NEW")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let n_cached: usize = std::env::var("BENCH_CACHED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);

    let wasm = filter_wasm();
    eprintln!("filter: {} bytes", wasm.len());
    let tokens: Vec<String> = (0..n_new + 20)
        .map(|i| {
            let mut c = vm_claims();
            c["uti"] = json!(format!("bench-{i}"));
            sign(&c, 1)
        })
        .collect();
    let mut config = local_config();
    config["jwt_cache_size"] = json!(n_new + 100);
    let fresh = || {
        let mut h = host(&config);
        // Warm-up: instance memory growth, first key use.
        for t in &tokens[n_new..n_new + 3] {
            let r = get(&mut h, "/orders", Some(t));
            assert_eq!(h.action(r), Some(Action::Continue));
            h.finish(r).expect("finish");
        }
        h
    };
    let run = |h: &mut proxy_wasm_testhost::Host, path: &str, t: Option<&str>, want: Action| {
        let r = get(h, path, t);
        assert_eq!(h.action(r), Some(want));
        h.finish(r).expect("finish");
    };

    let (mut new, mut cached, mut forbidden, mut passthrough, mut in_turn) = (
        Acc::default(),
        Acc::default(),
        Acc::default(),
        Acc::default(),
        Acc::default(),
    );
    for b in 0..n_new.div_ceil(BATCH) {
        let mut h = fresh();
        let batch = &tokens[b * BATCH..((b + 1) * BATCH).min(n_new)];
        new.time(batch.len(), || {
            for t in batch {
                run(&mut h, "/orders", Some(t), Action::Continue);
            }
        });
    }
    let cached_token = tokens[0].as_str();
    for _ in 0..n_cached.div_ceil(BATCH) {
        let mut h = fresh();
        run(&mut h, "/orders", Some(cached_token), Action::Continue);
        cached.time(BATCH, || {
            for _ in 0..BATCH {
                run(&mut h, "/orders", Some(cached_token), Action::Continue);
            }
        });
        assert!(h.metric("aadauth.jwt_cache_hit").unwrap_or(0) >= BATCH as u64);
        // A refusal answered from the cache (403: the role is evaluated per request).
        forbidden.time(BATCH / 2, || {
            for _ in 0..BATCH / 2 {
                run(&mut h, "/admin", Some(cached_token), Action::Pause);
            }
        });
        // Cached tokens that are not among the last 16 the filter saw (20 in turn): each
        // request hashes its token (SHA-256) before the lookup, as a gateway in front of
        // many workloads does.
        let rotation = &tokens[n_new..n_new + 20];
        for t in rotation {
            run(&mut h, "/orders", Some(t), Action::Continue);
        }
        in_turn.time(BATCH, || {
            for t in rotation.iter().cycle().take(BATCH) {
                run(&mut h, "/orders", Some(t), Action::Continue);
            }
        });
        // The host's own cost plus the filter's minimum (rule match, header removal).
        passthrough.time(BATCH / 2, || {
            for _ in 0..BATCH / 2 {
                run(&mut h, "/health", None, Action::Continue);
            }
        });
    }
    let (new, cached, forbidden, passthrough, in_turn) = (
        new.sample(),
        cached.sample(),
        forbidden.sample(),
        passthrough.sample(),
        in_turn.sample(),
    );

    // The native core, for comparison: verify + authorize per token, no cache.
    let keys = KeySet::from_jwks(&jwks_both()).expect("jwks");
    let v = Verifier::new(
        TENANT,
        Cloud::AzurePublicCloud,
        &GatewaySettings {
            audiences: vec![ARM_AUD.into()],
            ..GatewaySettings::default()
        },
        "",
    )
    .expect("verifier");
    let role = Role::from_json(
        &json!({"bound_service_principal_ids": VM_OID, "bound_resource_groups": "rg-web"}),
        "web",
    )
    .expect("role");
    let native = measure(n_new, |i| {
        let c = v.verify(&tokens[i], &keys, NOW, &[]).expect("valid");
        gateway::authorize(&role, &c).expect("allowed");
    });

    println!("aadauth-filter benchmark (proxy-wasm-testhost, wasmtime, optimised guest code)");
    println!("{:<46} {:>10} {:>10}", "per request", "CPU µs", "wall µs");
    for (name, s) in [
        ("new token (verify RS256 + role), filter", &new),
        ("cached token (role only), filter", &cached),
        ("cached token, refused 403, filter", &forbidden),
        ("20 tokens in turn (hash + lookup + role)", &in_turn),
        ("unauthenticated rule (host + filter minimum)", &passthrough),
        ("native core: verify + authorize, no cache", &native),
    ] {
        println!("{name:<46} {:>10.1} {:>10.1}", s.cpu_us, s.wall_us);
    }
    println!(
        "requests: {n_new} new tokens, {n_cached} cached; speed-up from the cache: {:.0}x",
        new.cpu_us / cached.cpu_us.max(0.001)
    );
}
