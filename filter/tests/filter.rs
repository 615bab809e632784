//! The filter, loaded into proxy-wasm-testhost and driven like Envoy would: requests,
//! key fetches (answered or failed by the test), ticks and the clock.

mod common;

use std::time::Duration;

use common::*;
use proxy_wasm_testhost::{Action, LogLevel, SharedData};
use serde_json::{json, Value};

fn www_authenticate(
    host: &proxy_wasm_testhost::Host,
    req: proxy_wasm_testhost::RequestId,
) -> String {
    response(host, req)
        .and_then(|r| r.header("www-authenticate").map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn allowed_request_gets_claim_headers_and_loses_the_token() {
    let mut h = host(&local_config());
    let claims = {
        let mut c = vm_claims();
        c["groups"] = json!(["g1", "g2"]);
        c
    };
    let token = sign(&claims, 1);
    let req = h
        .request(&[
            (":method", "GET"),
            (":path", "/orders?id=1"),
            (":authority", "api.example"),
            ("authorization", &format!("Bearer {token}")),
            // Spoofed by the client: replaced, or removed when the token has no value.
            ("x-azure-oid", "someone-else"),
            ("x-azure-oid", "and-another"),
            ("x-azure-scale-set", "spoofed"),
            ("x-azure-scale-set", "twice"),
        ])
        .unwrap();
    assert_eq!(h.action(req), Some(Action::Continue));
    assert!(response(&h, req).is_none());
    assert_eq!(
        h.request_header(req, "authorization"),
        None,
        "token stripped"
    );
    assert_eq!(h.request_header(req, "x-azure-oid"), Some(VM_OID));
    let values = |name: &str| {
        h.request_headers(req)
            .unwrap_or_default()
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count()
    };
    assert_eq!(values("x-azure-oid"), 1, "the spoofed copies are gone");
    assert_eq!(values("x-azure-scale-set"), 0);
    assert_eq!(h.request_header(req, "x-azure-subscription"), Some(SUB));
    assert_eq!(
        h.request_header(req, "x-azure-resource-group"),
        Some("rg-web")
    );
    assert_eq!(h.request_header(req, "x-azure-resource"), Some("web-01"));
    assert_eq!(h.request_header(req, "x-azure-groups"), Some("g1,g2"));
    assert_eq!(h.request_header(req, "x-azure-scale-set"), None);
    assert_eq!(metric(&h, "allowed"), 1);
    assert_eq!(metric(&h, "denied"), 0);
    assert!(!h.failed());
}

#[test]
fn a_vector_token_is_allowed() {
    // tests/vectors/allowed_vm_system_assigned.json, as a gateway sees it.
    let path = workspace().join("tests/vectors/allowed_vm_system_assigned.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let input = &doc["input"];
    let mut role = input["role"].clone();
    if let Some(r) = role.as_object_mut() {
        r.remove("bound_locations"); // a gateway cannot check locations
        r.remove("name");
    }
    let config = json!({
        "tenant": input["config"]["tenant_id"],
        "audiences": [input["config"]["resource"]],
        "local_jwks": input["keys"],
        "roles": {"web": role},
        "rules": [{"match": {"prefix": "/"}, "role": "web"}],
    });
    let mut h = host(&config);
    let jwt = input["login"]["jwt"].as_str().unwrap();
    let req = get(&mut h, "/", Some(jwt));
    assert_eq!(
        h.action(req),
        Some(Action::Continue),
        "{:?}",
        response(&h, req)
    );
}

#[test]
fn forward_keeps_the_token() {
    let mut c = local_config();
    c["forward"] = json!(true);
    let mut h = host(&c);
    let token = vm_token();
    let req = get(&mut h, "/", Some(&token));
    assert_eq!(h.action(req), Some(Action::Continue));
    assert_eq!(
        h.request_header(req, "authorization"),
        Some(format!("Bearer {token}").as_str())
    );
}

#[test]
fn missing_token_is_401_without_error() {
    let mut h = host(&local_config());
    let req = get(&mut h, "/orders", None);
    assert_eq!(h.action(req), Some(Action::Pause));
    let r = response(&h, req).unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        www_authenticate(&h, req),
        "Bearer realm=\"https://api.example/orders\""
    );
    assert_eq!(body(&r), "request.jwt: token is missing\n");
    assert_eq!(metric(&h, "denied_missing_token"), 1);
    assert_eq!(metric(&h, "denied"), 1);
    // A token in another scheme is no token.
    let req = h
        .request(&[
            (":path", "/"),
            (":authority", "a"),
            ("authorization", "Basic dXNlcg=="),
        ])
        .unwrap();
    assert_eq!(response(&h, req).unwrap().status, 401);
}

#[test]
fn bad_token_is_401_invalid_token() {
    let mut h = host(&local_config());
    for (token, check) in [
        ("not-a-jwt".to_string(), "token.format"),
        (
            {
                let t = vm_token();
                format!("{}AAAA", &t[..t.len() - 4])
            },
            "token.signature",
        ),
        (
            {
                let mut c = vm_claims();
                c["aud"] = json!("https://management.azure.com");
                sign(&c, 1)
            },
            "token.audience",
        ),
        (
            {
                let mut c = vm_claims();
                c["iss"] = json!(format!("https://login.microsoftonline.com/{TENANT}/v2.0"));
                sign(&c, 1)
            },
            "token.issuer",
        ),
    ] {
        let req = get(&mut h, "/", Some(&token));
        let r = response(&h, req).unwrap();
        assert_eq!(r.status, 401, "{check}");
        assert_eq!(
            www_authenticate(&h, req),
            "Bearer realm=\"https://api.example/\", error=\"invalid_token\""
        );
        assert!(body(&r).starts_with(&format!("{check}: ")), "{}", body(&r));
    }
    assert_eq!(metric(&h, "denied_invalid_token"), 4);
}

#[test]
fn valid_token_not_bound_is_403() {
    let mut h = host(&local_config());
    let req = get(&mut h, "/admin/users", Some(&vm_token()));
    let r = response(&h, req).unwrap();
    assert_eq!(r.status, 403);
    assert!(r.header("www-authenticate").is_none());
    assert_eq!(
        body(&r),
        format!("bindings.service_principal: service principal {VM_OID} is not bound to role \"other\"\n")
    );
    assert_eq!(metric(&h, "denied_forbidden"), 1);
    // Resource bindings come from the token: another resource group is refused.
    let mut c = vm_claims();
    c["xms_mirid"] = json!(vm_path("rg-webshop", "web-01"));
    let req = get(&mut h, "/", Some(&sign(&c, 1)));
    let r = response(&h, req).unwrap();
    assert_eq!(r.status, 403);
    assert!(
        body(&r).starts_with("bound.resource_group: "),
        "{}",
        body(&r)
    );
}

#[test]
fn failure_detail_can_be_omitted() {
    let mut c = local_config();
    c["include_failure_detail"] = json!(false);
    let mut h = host(&c);
    let req = get(&mut h, "/admin", Some(&vm_token()));
    assert_eq!(body(&response(&h, req).unwrap()), "Forbidden\n");
    let req = get(&mut h, "/", Some("x.y.z"));
    assert_eq!(body(&response(&h, req).unwrap()), "Unauthorized\n");
}

#[test]
fn expiry_with_and_without_clock_skew() {
    let mut claims = vm_claims();
    claims["exp"] = json!(NOW - 30);
    let token = sign(&claims, 1);
    // Default skew (60 s): still valid.
    let mut h = host(&local_config());
    let req = get(&mut h, "/", Some(&token));
    assert_eq!(h.action(req), Some(Action::Continue));
    // No skew: expired.
    let mut c = local_config();
    c["clock_skew_seconds"] = json!(0);
    let mut h = host(&c);
    let req = get(&mut h, "/", Some(&token));
    let r = response(&h, req).unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        body(&r),
        "token.expiry: token expired at 2025-11-30T10:52:50Z (clock skew 0s)\n"
    );
    // nbf in the near future: within the skew, allowed.
    let mut claims = vm_claims();
    claims["nbf"] = json!(NOW + 45);
    let mut h = host(&local_config());
    let req = get(&mut h, "/", Some(&sign(&claims, 1)));
    assert_eq!(h.action(req), Some(Action::Continue));
}

#[test]
fn cached_tokens_skip_verification_but_not_the_role_or_expiry() {
    let mut h = host(&local_config());
    let mut claims = vm_claims();
    claims["exp"] = json!(NOW + 100);
    let token = sign(&claims, 1);
    let r1 = get(&mut h, "/", Some(&token));
    assert_eq!(h.action(r1), Some(Action::Continue));
    assert_eq!(
        (metric(&h, "jwt_cache_miss"), metric(&h, "jwt_cache_hit")),
        (1, 0)
    );
    let r2 = get(&mut h, "/", Some(&token));
    assert_eq!(h.action(r2), Some(Action::Continue));
    assert_eq!(h.request_header(r2, "x-azure-oid"), Some(VM_OID));
    assert_eq!(
        (metric(&h, "jwt_cache_miss"), metric(&h, "jwt_cache_hit")),
        (1, 1)
    );
    // The role is evaluated per request, on the cached claims.
    let r3 = get(&mut h, "/admin", Some(&token));
    assert_eq!(response(&h, r3).unwrap().status, 403);
    assert_eq!(metric(&h, "jwt_cache_hit"), 2);
    // exp (+ skew) is checked on every hit.
    h.advance(Duration::from_secs(100 + 61));
    let r4 = get(&mut h, "/", Some(&token));
    let r = response(&h, r4).unwrap();
    assert_eq!(r.status, 401);
    assert!(
        body(&r).starts_with("token.expiry: token expired at"),
        "{}",
        body(&r)
    );
    assert_eq!(metric(&h, "jwt_cache_hit"), 3);
}

#[test]
fn unauthenticated_rules_and_unmatched_paths_pass() {
    let mut c = local_config();
    c["rules"] = json!([
        {"match": {"prefix": "/health"}, "allow_unauthenticated": true},
        {"match": {"prefix": "/api", "method": "POST"}, "role": "web"}
    ]);
    let mut h = host(&c);
    let req = get(&mut h, "/healthz", None);
    assert_eq!(h.action(req), Some(Action::Continue));
    // Claim headers sent by the client never reach the upstream, token or not.
    let req = h
        .request(&[
            (":method", "GET"),
            (":path", "/healthz"),
            (":authority", "a"),
            ("x-azure-oid", "spoofed"),
            ("x-azure-oid", "spoofed-again"),
            ("x-azure-groups", "admins"),
        ])
        .unwrap();
    assert_eq!(h.action(req), Some(Action::Continue));
    let spoofed = h
        .request_headers(req)
        .unwrap_or_default()
        .iter()
        .filter(|(k, _)| k.starts_with("x-azure-"))
        .count();
    assert_eq!(spoofed, 0);
    let req = get(&mut h, "/api/x", None);
    assert_eq!(h.action(req), Some(Action::Continue), "GET matches no rule");
    let req = h
        .request(&[
            (":method", "POST"),
            (":path", "/api/x"),
            (":authority", "a"),
        ])
        .unwrap();
    assert_eq!(response(&h, req).unwrap().status, 401);
    assert_eq!(metric(&h, "passthrough"), 3);
}

/// A rule with `host` sees `:authority` (or `host`, with or without a port); the realm of a
/// refusal names the authority whether or not a rule read it.
#[test]
fn rules_match_on_host_and_the_realm_names_it() {
    let mut c = local_config();
    c["rules"] = json!([
        {"match": {"prefix": "/", "host": "open.example"}, "allow_unauthenticated": true},
        {"match": {"prefix": "/"}, "role": "web"}
    ]);
    let mut h = host(&c);
    for headers in [
        [(":authority", "open.example"), (":path", "/x")],
        [(":authority", "OPEN.example:8443"), (":path", "/x")],
        [("host", "open.example"), (":path", "/x")],
    ] {
        let req = h.request(&headers).unwrap();
        assert_eq!(h.action(req), Some(Action::Continue), "{headers:?}");
    }
    let req = get(&mut h, "/x", None);
    assert_eq!(response(&h, req).unwrap().status, 401);
    assert_eq!(
        www_authenticate(&h, req),
        "Bearer realm=\"https://api.example/x\""
    );
    assert_eq!(metric(&h, "passthrough"), 3);
    // No rule reads the host: the realm still names it.
    let mut h = host(&local_config());
    let req = h
        .request(&[(":path", "/orders"), ("host", "api.example:8080")])
        .unwrap();
    assert_eq!(
        www_authenticate(&h, req),
        "Bearer realm=\"http://api.example:8080/orders\""
    );
}

#[test]
fn keys_fetched_at_start_then_requests_pass() {
    let mut h = host(&remote_config());
    let calls = h.pending_http_calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.upstream, "aad");
    assert_eq!(call.header(":path"), Some("/common/discovery/keys"));
    assert_eq!(call.header(":authority"), Some("login.microsoftonline.com"));
    assert_eq!(call.header(":method"), Some("GET"));
    answer_fetch(&mut h, "200", jwks_both().to_string().as_bytes());
    assert_eq!(metric(&h, "jwks_fetch_success"), 1);
    let req = get(&mut h, "/", Some(&vm_token()));
    assert_eq!(h.action(req), Some(Action::Continue));
}

#[test]
fn requests_wait_for_the_first_fetch_and_are_all_resumed() {
    let mut h = host(&remote_config());
    assert_eq!(h.pending_http_calls().len(), 1);
    let t1 = vm_token();
    let mut other = vm_claims();
    other["oid"] = json!(OTHER_OID);
    let t2 = sign(&other, 2);
    let a = get(&mut h, "/", Some(&t1));
    let b = get(&mut h, "/", Some(&t1));
    let c = get(&mut h, "/admin", Some(&t2));
    let d = get(&mut h, "/", Some(&t2));
    let gone = get(&mut h, "/", Some(&t1));
    // A forged signature (t2's header and claims, t1's signature) waits too, and its 401
    // names the waiting request's own realm, read when it is resumed.
    let forged = format!(
        "{}.{}",
        t2.rsplit_once('.').unwrap().0,
        t1.rsplit_once('.').unwrap().1
    );
    let e = get(&mut h, "/orders/7?x=1", Some(&forged));
    for r in [a, b, c, d, gone, e] {
        assert_eq!(h.action(r), Some(Action::Pause));
        assert!(response(&h, r).is_none());
    }
    assert_eq!(h.pending_http_calls().len(), 1, "one fetch in flight");
    h.finish(gone).unwrap(); // the client went away while waiting
    answer_fetch(&mut h, "200", jwks_both().to_string().as_bytes());
    for r in [a, b, c] {
        assert!(h.resumed(r), "{r:?} resumed");
        assert!(response(&h, r).is_none());
        assert_eq!(h.request_header(r, "authorization"), None);
    }
    assert_eq!(h.request_header(a, "x-azure-oid"), Some(VM_OID));
    assert_eq!(h.request_header(c, "x-azure-oid"), Some(OTHER_OID));
    // d: valid token, but role web is bound to another identity.
    assert!(!h.resumed(d));
    assert_eq!(response(&h, d).unwrap().status, 403);
    assert_eq!(response(&h, e).unwrap().status, 401);
    assert_eq!(
        www_authenticate(&h, e),
        "Bearer realm=\"https://api.example/orders/7\", error=\"invalid_token\""
    );
    assert!(!h.resumed(gone));
    assert_eq!(metric(&h, "allowed"), 3);
    assert!(!h.failed());
}

#[test]
fn no_keys_is_503_not_401() {
    let mut h = host(&remote_config());
    let req = get(&mut h, "/", Some(&vm_token()));
    assert_eq!(h.action(req), Some(Action::Pause));
    let call = h.pending_http_calls()[0].token;
    h.fail_http_call(call).unwrap();
    let r = response(&h, req).unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("5"));
    assert!(r.header("www-authenticate").is_none());
    assert!(
        body(&r).contains("signing keys are unavailable: https://login.microsoftonline.com/common/discovery/keys: no response"),
        "{}",
        body(&r)
    );
    assert_eq!(metric(&h, "jwks_fetch_failed"), 1);
    assert_eq!(metric(&h, "denied_no_keys"), 1);
    // Within 30 s no new fetch: answered at once.
    let req = get(&mut h, "/", Some(&vm_token()));
    assert_eq!(response(&h, req).unwrap().status, 503);
    assert!(h.pending_http_calls().is_empty());
    // A bad token is still a bad token.
    let req = get(&mut h, "/", Some("x.y.z"));
    assert_eq!(response(&h, req).unwrap().status, 401);
    assert!(logged(
        &h,
        LogLevel::Warn,
        "key fetch from https://login.microsoftonline.com/common/discovery/keys failed"
    ));
}

#[test]
fn waiting_is_bounded() {
    let mut h = host(&remote_config());
    let req = get(&mut h, "/", Some(&vm_token()));
    assert_eq!(h.action(req), Some(Action::Pause));
    h.advance(Duration::from_secs(3));
    h.tick().unwrap();
    assert!(response(&h, req).is_none(), "still waiting after 3 s");
    h.advance(Duration::from_secs(3));
    h.tick().unwrap();
    let r = response(&h, req).unwrap();
    assert_eq!(r.status, 503);
    assert!(
        body(&r).contains("timed out waiting for signing keys"),
        "{}",
        body(&r)
    );
    // The late answer is still used.
    answer_fetch(&mut h, "200", jwks_both().to_string().as_bytes());
    let req = get(&mut h, "/", Some(&vm_token()));
    assert_eq!(h.action(req), Some(Action::Continue));
}

#[test]
fn unknown_kid_triggers_a_rate_limited_refetch() {
    let mut h = host(&remote_config());
    answer_fetch(&mut h, "200", jwks_only_2().to_string().as_bytes());
    // Key 1 is new (rotation). The start-up fetch was just now: rate-limited, 401.
    let token = vm_token();
    let req = get(&mut h, "/", Some(&token));
    let r = response(&h, req).unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(
        body(&r),
        "token.signature: no signing key with kid \"demo-key-1\" in the key set\n"
    );
    assert!(h.pending_http_calls().is_empty());
    // 30 s later the unknown kid fetches the key set again; the request waits.
    h.advance(Duration::from_secs(31));
    let req = get(&mut h, "/", Some(&token));
    assert_eq!(h.action(req), Some(Action::Pause));
    let second = get(&mut h, "/", Some(&token));
    assert_eq!(h.action(second), Some(Action::Pause));
    answer_fetch(&mut h, "200", jwks_both().to_string().as_bytes());
    assert!(h.resumed(req) && h.resumed(second));
    assert_eq!(h.request_header(req, "x-azure-oid"), Some(VM_OID));
    assert_eq!(metric(&h, "jwks_fetch_success"), 2);
    // A kid that is still unknown after the refresh: 401, no fetch.
    h.advance(Duration::from_secs(5));
    let bad = {
        let t = sign(&vm_claims(), 1);
        // Same signature, header naming a kid no key set has.
        let header = base64_url(br#"{"alg":"RS256","kid":"never-seen"}"#);
        let rest = t.split_once('.').unwrap().1.to_string();
        format!("{header}.{rest}")
    };
    let req = get(&mut h, "/", Some(&bad));
    assert_eq!(response(&h, req).unwrap().status, 401);
    assert!(h.pending_http_calls().is_empty(), "rate-limited");
}

fn base64_url(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[test]
fn a_failed_refresh_keeps_the_old_keys() {
    let mut h = host(&remote_config());
    answer_fetch(&mut h, "200", jwks_both().to_string().as_bytes());
    // jwks_cache_seconds (600) later the tick refreshes.
    h.advance(Duration::from_secs(601));
    h.tick().unwrap();
    answer_fetch(&mut h, "500", b"oops");
    assert_eq!(metric(&h, "jwks_fetch_failed"), 1);
    assert!(logged(
        &h,
        LogLevel::Warn,
        "HTTP status 500; keeping the previous keys"
    ));
    let req = get(&mut h, "/", Some(&vm_token()));
    assert_eq!(h.action(req), Some(Action::Continue));
    // Garbage is a failure too; the keys stay.
    h.advance(Duration::from_secs(31));
    h.tick().unwrap();
    answer_fetch(&mut h, "200", b"<html>maintenance</html>");
    assert_eq!(metric(&h, "jwks_fetch_failed"), 2);
    let req = get(&mut h, "/", Some(&sign(&vm_claims(), 2)));
    assert_eq!(h.action(req), Some(Action::Continue));
    // Retried every 30 s; a success replaces the keys (key 1 removed).
    h.advance(Duration::from_secs(31));
    h.tick().unwrap();
    answer_fetch(&mut h, "200", jwks_only_2().to_string().as_bytes());
    h.advance(Duration::from_secs(31));
    let req = get(&mut h, "/", Some(&vm_token()));
    assert_eq!(
        h.action(req),
        Some(Action::Pause),
        "key 1 left: fetch again"
    );
}

#[test]
fn workers_share_fetched_keys() {
    let shared = SharedData::new();
    let mut a = host_with(&remote_config(), shared.clone());
    answer_fetch(&mut a, "200", jwks_only_2().to_string().as_bytes());
    // A second worker starts after: it takes the keys from shared data, no fetch.
    let mut b = host_with(&remote_config(), shared);
    assert!(b.pending_http_calls().is_empty());
    let req = get(&mut b, "/", Some(&sign(&vm_claims(), 2)));
    assert_eq!(b.action(req), Some(Action::Continue));
    // Worker a sees a rotated key first and fetches; worker b then finds the new key in
    // shared data instead of fetching again.
    a.advance(Duration::from_secs(31));
    b.advance(Duration::from_secs(31));
    let token = vm_token();
    let req = get(&mut a, "/", Some(&token));
    assert_eq!(a.action(req), Some(Action::Pause));
    answer_fetch(&mut a, "200", jwks_both().to_string().as_bytes());
    assert!(a.resumed(req));
    b.advance(Duration::from_secs(2));
    let req = get(&mut b, "/", Some(&token));
    assert_eq!(b.action(req), Some(Action::Continue));
    assert!(b.pending_http_calls().is_empty());
    assert_eq!(
        metric(&b, "jwks_fetch_success"),
        2,
        "counters are process-wide"
    );
}

#[test]
fn bad_configuration_is_refused_and_the_old_one_kept() {
    let mut h = host(&local_config());
    let mut bad = local_config();
    bad["roles"]["web"]["bound_locations"] = json!(["eastus"]);
    assert!(!h.configure(bad.to_string()).unwrap());
    assert!(logged(
        &h,
        LogLevel::Error,
        "aadauth: configuration refused: roles.web.bound_locations: "
    ));
    assert!(logged(
        &h,
        LogLevel::Error,
        "keeping the previous configuration"
    ));
    let req = get(&mut h, "/", Some(&vm_token()));
    assert_eq!(
        h.action(req),
        Some(Action::Continue),
        "the previous config still decides"
    );

    for (field, cfg) in [
        ("tenant", {
            let mut c = local_config();
            c["tenant"] = json!("contoso.onmicrosoft.com");
            c
        }),
        ("rules[2].role", {
            let mut c = local_config();
            c["rules"][2]["role"] = json!("nope");
            c
        }),
        ("audiences", {
            let mut c = local_config();
            c["audiences"] = json!([]);
            c
        }),
        ("clock_skew_seconds", {
            let mut c = local_config();
            c["clock_skew_seconds"] = json!("60s");
            c
        }),
        ("jwks_cluster", {
            let mut c = local_config();
            c.as_object_mut().unwrap().remove("local_jwks");
            c
        }),
        ("claim_to_headers[0].header_name", {
            let mut c = local_config();
            c["claim_to_headers"][0]["header_name"] = json!(":path");
            c
        }),
        ("configuration", json!("not an object")),
    ] {
        h.clear_logs();
        assert!(!h.configure(cfg.to_string()).unwrap(), "{field}");
        assert!(
            logged(
                &h,
                LogLevel::Error,
                &format!("configuration refused: {field}: ")
            ),
            "{field}: {:?}",
            h.logs()
        );
    }
    let req = get(&mut h, "/admin", Some(&vm_token()));
    assert_eq!(
        response(&h, req).unwrap().status,
        403,
        "still the first config"
    );

    // A first configuration that is bad leaves nothing active.
    let mut fresh = proxy_wasm_testhost::Host::new(filter_wasm()).unwrap();
    assert!(fresh.start("").unwrap());
    assert!(!fresh.configure("{}").unwrap());
    assert!(logged(
        &fresh,
        LogLevel::Error,
        "configuration refused: tenant: "
    ));
    assert!(logged(
        &fresh,
        LogLevel::Error,
        "no configuration is active"
    ));
    assert!(!fresh.failed());
}

#[test]
fn reconfiguration_applies_new_roles() {
    let mut h = host(&local_config());
    let token = vm_token();
    let req = get(&mut h, "/admin", Some(&token));
    assert_eq!(response(&h, req).unwrap().status, 403);
    let mut c = local_config();
    c["roles"]["other"]["bound_service_principal_ids"] = json!([VM_OID]);
    assert!(h.configure(c.to_string()).unwrap());
    let req = get(&mut h, "/admin", Some(&token));
    assert_eq!(h.action(req), Some(Action::Continue));
}

#[test]
fn token_bound_cidrs_use_the_client_address() {
    let mut c = local_config();
    c["roles"]["web"]["token_bound_cidrs"] = json!(["10.0.0.0/24"]);
    let mut h = host(&c);
    h.set_property(&["source", "address"], "10.0.0.9:41000");
    let req = get(&mut h, "/", Some(&vm_token()));
    assert_eq!(h.action(req), Some(Action::Continue));
    h.set_property(&["source", "address"], "192.0.2.1:41000");
    let req = get(&mut h, "/", Some(&vm_token()));
    let r = response(&h, req).unwrap();
    assert_eq!(r.status, 403);
    assert!(
        body(&r).starts_with("role.bound_cidrs: client address 192.0.2.1"),
        "{}",
        body(&r)
    );
}

#[test]
fn scale_sets_from_the_token() {
    let mut c = local_config();
    c["roles"]["web"] =
        json!({"bound_service_principal_ids": VM_OID, "bound_scale_sets": ["jobs"]});
    let mut h = host(&c);
    let mut flex = vm_claims();
    flex["xms_mirid"] = json!(vm_path("rg-web", "jobs_1a2b3c4d"));
    let req = get(&mut h, "/", Some(&sign(&flex, 1)));
    assert_eq!(h.action(req), Some(Action::Continue));
    assert_eq!(h.request_header(req, "x-azure-scale-set"), Some("jobs"));
    let req = get(&mut h, "/", Some(&vm_token()));
    let r = response(&h, req).unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(
        body(&r),
        "bound.scale_set: virtual machine web-01 is not in a scale set, and role \"web\" requires one of bound_scale_sets\n"
    );
}
