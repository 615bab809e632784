//! Exercises the host through tests/fixture-filter, a small proxy-wasm filter
//! built here for wasm32-unknown-unknown (the target must be installed:
//! `rustup target add wasm32-unknown-unknown`).
//!
//! The fixture:
//! - `on_vm_start`: logs the VM config, returns false for "fail"; sets a 5 s
//!   tick; defines metrics `fixture.requests`/`fixture.ticks` (counters),
//!   `fixture.header_count` (histogram) and `fixture.gauge` (set to 10 - 3);
//!   logs the status of decrementing a counter.
//! - `on_configure`: logs the plugin config, returns false for "reject".
//! - `on_tick`: bumps `fixture.ticks` and the shared `ticks` value (CAS); with
//!   config "tick-call" also calls cluster `jwks` and stores the response
//!   body in shared `tick-call-body`.
//! - request headers: `x-panic` panics; `x-deny` → local 403; `x-bad-pointer`
//!   makes raw hostcalls with bad arguments and reports their statuses in
//!   `x-bad-status`; `x-reset` resets the stream; `x-shared-set`/`-get` use
//!   shared data; then it removes `x-remove-me`, replaces `x-replace`, adds
//!   `x-plugin-config`, `x-time` and `x-node-id` (property `node.id`);
//!   `x-call: TOKEN` calls cluster `auth` and pauses; on a 200 response it adds
//!   `x-call-status`/`x-call-body` and resumes, otherwise sends 401 (503 if
//!   the call failed). `x-delay-done` makes `on_done` return false until the
//!   call response arrives.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use proxy_wasm_testhost::{Action, Host, LogLevel, SharedData};

fn fixture() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture-filter");
        let target_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixture-filter");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--release", "--target", "wasm32-unknown-unknown"])
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("running cargo to build the fixture filter");
        assert!(
            status.success(),
            "building tests/fixture-filter failed (is the wasm32-unknown-unknown target installed?)"
        );
        let wasm = target_dir.join("wasm32-unknown-unknown/release/fixture_filter.wasm");
        std::fs::read(&wasm).unwrap_or_else(|e| panic!("reading {}: {e}", wasm.display()))
    })
}

/// A started and configured host.
fn host_with(shared: SharedData, config: &str) -> Host {
    let mut host = Host::with_shared(fixture(), shared).unwrap();
    assert!(host.start("vm-config").unwrap());
    assert!(host.configure(config).unwrap());
    host
}

fn host() -> Host {
    host_with(SharedData::new(), "plugin-config")
}

fn logged(host: &Host, level: LogLevel, message: &str) -> bool {
    host.logs().iter().any(|(l, m)| *l == level && m == message)
}

const GET: [(&str, &str); 3] = [(":method", "GET"), (":path", "/"), (":authority", "app")];

fn headers<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    GET.iter().chain(extra).copied().collect()
}

#[test]
fn start_and_configure_pass_configs_and_results() {
    let mut host = Host::new(fixture()).unwrap();
    assert!(host.start("vm-config").unwrap());
    assert!(host.configure("plugin-config").unwrap());
    assert!(logged(&host, LogLevel::Info, "vm config: vm-config"));
    assert!(logged(
        &host,
        LogLevel::Info,
        "plugin config: plugin-config"
    ));

    let mut host = Host::new(fixture()).unwrap();
    assert!(!host.start("fail").unwrap());
    let mut host = Host::new(fixture()).unwrap();
    assert!(host.start("").unwrap());
    assert!(!host.configure("reject").unwrap());
    assert!(!host.failed());
}

#[test]
fn ticks_only_after_a_period_is_set() {
    let mut host = Host::new(fixture()).unwrap();
    assert_eq!(host.tick_period(), None);
    assert!(!host.tick().unwrap());
    assert!(host.start("").unwrap());
    assert_eq!(host.tick_period(), Some(Duration::from_secs(5)));
    assert!(host.tick().unwrap());
    assert!(host.tick().unwrap());
    assert_eq!(host.metric("fixture.ticks"), Some(2));
    assert_eq!(host.shared().get("ticks").as_deref(), Some(&b"2"[..]));
}

#[test]
fn local_response() {
    let mut host = host();
    let req = host.request(&headers(&[("x-deny", "1")])).unwrap();
    assert_eq!(host.action(req), Some(Action::Pause));
    let resp = host.local_response(req).unwrap();
    assert_eq!(resp.status, 403);
    assert_eq!(resp.header("X-Denied-By"), Some("fixture"));
    assert_eq!(resp.body, b"denied");
    assert_eq!(resp.details, "");
    assert_eq!(resp.grpc_status, -1);
    assert!(!host.resumed(req));
}

#[test]
fn header_modifications_time_and_properties() {
    let mut host = host();
    host.set_time(1_700_000_000_123_456_789);
    host.advance(Duration::from_secs(1));
    assert_eq!(host.now(), 1_700_000_001_123_456_789);
    host.set_property(&["node", "id"], "node-7");
    let req = host
        .request(&headers(&[
            ("X-Remove-Me", "x"),
            ("x-replace", "a"),
            ("x-replace", "b"),
        ]))
        .unwrap();
    assert_eq!(host.action(req), Some(Action::Continue));
    assert!(host.local_response(req).is_none());
    assert_eq!(
        host.request_headers(req).unwrap(),
        [
            (":method", "GET"),
            (":path", "/"),
            (":authority", "app"),
            ("x-replace", "replaced"),
            ("x-plugin-config", "plugin-config"),
            ("x-time", "1700000001123456789"),
            ("x-node-id", "node-7"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(
        host.request_header(req, "X-TIME"),
        Some("1700000001123456789")
    );
}

#[test]
fn http_call_success_resumes_request() {
    let mut host = host();
    let req = host.request(&headers(&[("x-call", "tok")])).unwrap();
    assert_eq!(host.action(req), Some(Action::Pause));
    assert!(!host.resumed(req));

    let calls = host.pending_http_calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.upstream, "auth");
    assert_eq!(call.header(":method"), Some("POST"));
    assert_eq!(call.header(":path"), Some("/check"));
    assert_eq!(call.header("x-token"), Some("tok"));
    assert_eq!(call.body, b"check");
    assert!(call.trailers.is_empty());
    assert_eq!(call.timeout_ms, 1500);
    assert_eq!(call.request, Some(req));

    host.respond_http_call(call.token, &[(":status", "200")], b"ok")
        .unwrap();
    assert!(host.resumed(req));
    assert!(host.local_response(req).is_none());
    assert_eq!(host.request_header(req, "x-call-status"), Some("200"));
    assert_eq!(host.request_header(req, "x-call-body"), Some("ok"));
    assert!(host.pending_http_calls().is_empty());
    // A token can be answered once.
    let err = host
        .respond_http_call(call.token, &[(":status", "200")], b"")
        .unwrap_err();
    assert!(err.to_string().contains("no pending HTTP call"), "{err:#}");
}

#[test]
fn http_call_error_status_and_failure() {
    let mut host = host();
    let denied = host.request(&headers(&[("x-call", "a")])).unwrap();
    let failed = host.request(&headers(&[("x-call", "b")])).unwrap();
    let calls = host.pending_http_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].request, Some(denied));
    assert_eq!(calls[1].request, Some(failed));

    host.respond_http_call(calls[0].token, &[(":status", "403"), ("x-a", "b")], b"no")
        .unwrap();
    let resp = host.local_response(denied).unwrap();
    assert_eq!(resp.status, 401);
    assert_eq!(resp.header("x-upstream-status"), Some("403"));
    assert!(resp.body.is_empty());
    assert!(!host.resumed(denied));

    host.fail_http_call(calls[1].token).unwrap();
    let resp = host.local_response(failed).unwrap();
    assert_eq!(resp.status, 503);
    assert_eq!(resp.body, b"call failed");
}

#[test]
fn http_call_from_root_context() {
    let mut host = host_with(SharedData::new(), "tick-call");
    assert!(host.tick().unwrap());
    let calls = host.pending_http_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].upstream, "jwks");
    assert_eq!(calls[0].request, None);
    assert_eq!(calls[0].timeout_ms, 1000);
    host.respond_http_call(calls[0].token, &[(":status", "200")], b"{\"keys\":[]}")
        .unwrap();
    assert_eq!(
        host.shared().get("tick-call-body").as_deref(),
        Some(&b"{\"keys\":[]}"[..])
    );
}

#[test]
fn shared_data_and_metrics_span_hosts() {
    let shared = SharedData::new();
    let mut a = host_with(shared.clone(), "a");
    let mut b = host_with(shared.clone(), "b");

    let req = b.request(&headers(&[("x-shared-get", "1")])).unwrap();
    assert_eq!(b.request_header(req, "x-shared-value"), Some("none"));
    a.request(&headers(&[("x-shared-set", "from-a")])).unwrap();
    let req = b.request(&headers(&[("x-shared-get", "1")])).unwrap();
    assert_eq!(b.request_header(req, "x-shared-value"), Some("from-a"));
    assert_eq!(shared.get("shared-key").as_deref(), Some(&b"from-a"[..]));

    shared.set("shared-key", "from-test");
    let req = a.request(&headers(&[("x-shared-get", "1")])).unwrap();
    assert_eq!(a.request_header(req, "x-shared-value"), Some("from-test"));

    // CAS read-modify-write from both workers.
    a.tick().unwrap();
    b.tick().unwrap();
    assert_eq!(shared.get("ticks").as_deref(), Some(&b"2"[..]));

    // One stat per name across workers.
    assert_eq!(a.metric("fixture.requests"), Some(4));
    assert_eq!(shared.metric("fixture.ticks"), Some(2));
    assert_eq!(shared.metric("fixture.gauge"), Some(7));
    assert_eq!(shared.histogram("fixture.header_count"), Some(vec![4; 4]));
    assert_eq!(shared.metric("fixture.header_count"), None);
    assert_eq!(shared.metric("nope"), None);
    assert_eq!(
        shared.metric_names(),
        [
            "fixture.gauge",
            "fixture.header_count",
            "fixture.requests",
            "fixture.ticks"
        ]
    );
    // Decrementing a counter was refused with BAD_ARGUMENT.
    assert!(logged(&a, LogLevel::Info, "decrement counter: BadArgument"));
}

#[test]
fn misbehaving_guest_gets_statuses_not_a_crash() {
    let mut host = host();
    let req = host.request(&headers(&[("x-bad-pointer", "1")])).unwrap();
    // proxy_log with a bad pointer: INVALID_MEMORY_ACCESS (6); malformed map:
    // BAD_ARGUMENT (2); HTTP call without pseudo-headers: BAD_ARGUMENT (2).
    assert_eq!(host.request_header(req, "x-bad-status"), Some("6,2,2"));
    assert!(!host.failed());
}

#[test]
fn guest_panic_is_an_error_and_fails_the_vm() {
    let mut host = host();
    let err = host.request(&headers(&[("x-panic", "1")])).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("proxy_on_request_headers(2) trapped"), "{msg}");
    assert!(msg.contains("boom in request 2"), "{msg}");
    assert!(host.failed());
    let err = host.request(&GET).unwrap_err();
    assert!(err.to_string().contains("unusable"), "{err:#}");
    assert!(host.tick().is_err());
}

#[test]
fn reset_is_recorded() {
    let mut host = host();
    let req = host.request(&headers(&[("x-reset", "1")])).unwrap();
    assert!(host.reset(req));
    let other = host.request(&GET).unwrap();
    assert!(!host.reset(other));
}

#[test]
fn finish_runs_done_log_delete() {
    let mut host = host();
    let req = host.request(&GET).unwrap();
    assert!(host.finish(req).unwrap());
    assert!(logged(&host, LogLevel::Info, "on_log 2"));
    assert!(host.finish(req).is_err());
    // State stays inspectable after the context is gone.
    assert_eq!(host.action(req), Some(Action::Continue));

    // Finishing cancels the request's pending calls.
    let req = host.request(&headers(&[("x-call", "t")])).unwrap();
    let token = host.pending_http_calls()[0].token;
    assert!(host.finish(req).unwrap());
    assert!(host.pending_http_calls().is_empty());
    assert!(host
        .respond_http_call(token, &[(":status", "200")], b"")
        .is_err());

    // on_done returning false defers on_log until the filter calls proxy_done.
    let req = host
        .request(&headers(&[("x-call", "t"), ("x-delay-done", "1")]))
        .unwrap();
    let log = format!("on_log {}", req.context_id());
    assert!(!host.finish(req).unwrap());
    assert!(!logged(&host, LogLevel::Info, &log));
    let token = host.pending_http_calls()[0].token;
    host.respond_http_call(token, &[(":status", "200")], b"")
        .unwrap();
    assert!(logged(&host, LogLevel::Info, &log));

    assert!(host.shutdown().unwrap());
    assert!(logged(&host, LogLevel::Info, "root on_done"));
}

#[test]
fn rejects_non_filters() {
    assert!(Host::new(b"not wasm").is_err());
    // A valid module without the proxy-wasm ABI marker.
    let empty = [0, b'a', b's', b'm', 1, 0, 0, 0];
    let err = Host::new(&empty).unwrap_err();
    assert!(err.to_string().contains("proxy_abi_version"), "{err:#}");
}

#[test]
fn unknown_request_and_token() {
    let mut host = host();
    assert!(host.fail_http_call(42).is_err());
    let req = host.request(&GET).unwrap();
    assert!(host.finish(req).is_ok());
    assert_eq!(
        host.logs()
            .iter()
            .filter(|(l, _)| *l == LogLevel::Critical)
            .count(),
        0
    );
}
