//! The host adapters against the local stand-in (127.0.0.1 only).

mod standin;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aadauth::{
    ArmAnswer, ArmReadKind, ArmRequest, Cloud, EvaluateInput, KeyFetchError, LoginContext,
};
use aadauth_host::credential::TokenVersion;
use aadauth_host::driver::{decide, ArmSource, KeySource};
use aadauth_host::imds::AppService;
use aadauth_host::{
    ArmClient, Credential, Endpoints, HttpClient, ImdsClient, KeyCache, RetryPolicy, Selector,
    VaultClient,
};
use serde_json::{json, Value};
use standin::*;

fn endpoints(s: &StandIn) -> Endpoints {
    endpoints_for(s, Cloud::AzurePublicCloud)
}

fn endpoints_for(s: &StandIn, cloud: Cloud) -> Endpoints {
    s.endpoints(cloud)
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        retry_delay: Duration::from_millis(20),
        max_retry_delay: Some(Duration::from_secs(3)),
    }
}

fn secret() -> Credential {
    Credential::ClientSecret {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        version: TokenVersion::V1,
    }
}

fn arm_client(s: &StandIn) -> ArmClient {
    ArmClient::new(&endpoints(s), secret(), fast_retry())
}

fn keys_of(s: &StandIn) -> KeyCache {
    KeyCache::new(HttpClient::new(), &endpoints(s), TENANT)
}

fn parsed(v: &Value) -> EvaluateInput {
    EvaluateInput::from_json(&v["input"]).expect("vector input")
}

fn ctx(v: &Value) -> LoginContext {
    parsed(v).context
}

fn vm_path() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-01")
}

#[test]
fn discovery_then_key_set_cached() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let cache = keys_of(&s);
    let f = cache.current().expect("keys");
    assert_eq!(
        f.discovery.issuer,
        format!("https://sts.windows.net/{TENANT}/")
    );
    assert_eq!(
        f.discovery.jwks_uri,
        format!("{}/common/discovery/keys", s.base())
    );
    let kids: Vec<_> = f
        .keys
        .info()
        .into_iter()
        .map(|k| k.kid.unwrap_or_default())
        .collect();
    assert_eq!(kids, ["demo-key-1", "demo-key-2"]);
    cache.current().expect("cached");
    assert_eq!(cache.stats().discovery_fetches, 1);
    assert_eq!(cache.stats().key_fetches, 1);
    assert_eq!(s.count("/.well-known/openid-configuration"), 1);
    assert_eq!(s.count("/common/discovery/keys"), 1);
}

#[test]
fn key_rotation_succeeds_after_one_refetch() {
    // The token is signed by demo-key-2, which the tenant publishes only after the cache
    // was filled.
    let v = vector("second_key_of_the_set");
    let s = StandIn::for_vector(&v);
    s.state().jwks = only_keys(&v, &["demo-key-1"]);
    let cache = keys_of(&s);
    assert_eq!(cache.current().unwrap().keys.keys.len(), 1);
    s.state().jwks = only_keys(&v, &["demo-key-1", "demo-key-2"]);

    let input = parsed(&v);
    let snap = input.arm.clone();
    let d = decide(
        input.context.clone(),
        &KeySource::Live(&cache),
        &ArmSource::Snapshot(&snap),
        false,
    );
    assert!(d.output.allowed, "{:?}", d.output.error);
    assert_eq!(d.key_fetches, 1, "one refetch");
    assert_eq!(cache.stats().key_fetches, 2);
    assert_eq!(cache.stats().discovery_fetches, 1);
    let sig = d.output.check("token.signature").expect("signature check");
    assert!(sig.detail.contains("demo-key-2"), "{}", sig.detail);

    // The new key is cached now: no further fetch.
    let d = decide(
        input.context,
        &KeySource::Live(&cache),
        &ArmSource::Snapshot(&snap),
        false,
    );
    assert!(d.output.allowed);
    assert_eq!(d.key_fetches, 0);
    assert_eq!(cache.stats().key_fetches, 2);
}

#[test]
fn unknown_key_fails_after_exactly_one_refetch() {
    let v = vector("second_key_of_the_set");
    let s = StandIn::for_vector(&v);
    s.state().jwks = only_keys(&v, &["demo-key-1"]);
    let cache = keys_of(&s);
    cache.current().unwrap();
    let input = parsed(&v);
    let d = decide(
        input.context,
        &KeySource::Live(&cache),
        &ArmSource::Snapshot(&input.arm),
        false,
    );
    assert!(!d.output.allowed);
    assert_eq!(
        d.output.error.as_deref(),
        Some("failed to verify signature: failed to verify id token signature")
    );
    assert_eq!(d.key_fetches, 1);
    assert_eq!(cache.stats().key_fetches, 2);
}

#[test]
fn concurrent_refetches_share_one_flight() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let cache = Arc::new(keys_of(&s));
    let seen = cache.current().unwrap().attempt;
    s.state().jwks_delay = Duration::from_millis(400);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let c = cache.clone();
            std::thread::spawn(move || c.refetch(seen).map(|f| f.attempt))
        })
        .collect();
    let attempts: Vec<u64> = threads
        .into_iter()
        .map(|t| t.join().unwrap().unwrap())
        .collect();
    assert!(attempts.iter().all(|a| *a == seen + 1), "{attempts:?}");
    assert_eq!(
        s.count("/common/discovery/keys"),
        2,
        "one warm-up fetch and one shared refetch"
    );
}

#[test]
fn last_good_keys_are_kept_when_a_fetch_fails() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let cache = keys_of(&s).with_refresh_interval(Duration::ZERO);
    let first = cache.current().unwrap();
    {
        let mut st = s.state();
        st.jwks_status = 500;
        st.jwks = "upstream exploded".into();
    }
    // Stale (interval 0) and the refresh fails: the old keys are still served.
    let again = cache.current().expect("last good keys");
    assert_eq!(again.attempt, first.attempt);
    // The core's own refetch sees the failure, worded as go-oidc.
    let e = cache.refetch(again.attempt).unwrap_err();
    assert_eq!(
        e,
        KeyFetchError("oidc: get keys failed: 500 Internal Server Error upstream exploded".into())
    );
    // A login still succeeds with the last good keys.
    let input = parsed(&v);
    let d = decide(
        input.context,
        &KeySource::Live(&cache),
        &ArmSource::Snapshot(&input.arm),
        false,
    );
    assert!(d.output.allowed, "{:?}", d.output.error);
}

#[test]
fn key_endpoint_failure_reaches_the_verdict() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    {
        let mut st = s.state();
        st.jwks_status = 404;
        st.jwks = "no keys here".into();
    }
    let cache = keys_of(&s);
    let input = parsed(&v);
    let d = decide(
        input.context,
        &KeySource::Live(&cache),
        &ArmSource::Snapshot(&input.arm),
        false,
    );
    assert_eq!(
        d.output.error.as_deref(),
        Some("failed to verify signature: fetching keys oidc: get keys failed: 404 Not Found no keys here")
    );
    // Discovery failing names the URL.
    s.state().jwks_status = 200;
    let other = KeyCache::new(HttpClient::new(), &endpoints(&s), "");
    let e = other.current().unwrap_err();
    assert!(
        e.0.starts_with("oidc: discovery failed: Get \"http://127.0.0.1:"),
        "{}",
        e.0
    );
    assert!(e.0.contains("404 Not Found"), "{}", e.0);
}

#[test]
fn arm_vm_read_with_client_credentials() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let arm = arm_client(&s);
    let snap_keys = parsed(&v).keys;
    for _ in 0..2 {
        let d = decide(
            ctx(&v),
            &KeySource::Fixed(snap_keys.clone()),
            &ArmSource::Live(&arm),
            false,
        );
        assert!(d.output.allowed, "{:?}", d.output.error);
    }
    let reads = s.requests(&vm_path());
    assert_eq!(reads.len(), 2);
    assert_eq!(
        reads[0].query,
        "$expand=instanceView&api-version=2024-07-01"
    );
    assert_eq!(reads[0].header("authorization"), Some("Bearer arm-token-1"));
    assert_eq!(reads[0].header("metadata"), None);
    // One token for both logins; v1 endpoint with the cloud's ARM audience.
    let tokens = s.requests("/oauth2/token");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].path, format!("/{TENANT}/oauth2/token"));
    let form: BTreeMap<String, String> = parse_form(&tokens[0].body).into_iter().collect();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["resource"], "https://management.azure.com/");
    assert_eq!(form["client_id"], CLIENT_ID);
}

#[test]
fn client_credentials_v2_and_refused_secret() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let arm = ArmClient::new(
        &endpoints(&s),
        Credential::ClientSecret {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            version: TokenVersion::V2,
        },
        fast_retry(),
    );
    let req = ArmRequest {
        kind: ArmReadKind::VirtualMachine,
        path: vm_path(),
    };
    assert!(matches!(arm.read(&req), ArmAnswer::Found { .. }));
    let t = &s.requests("/oauth2/v2.0/token")[0];
    assert!(
        t.body
            .contains("scope=https%3A%2F%2Fmanagement.azure.com%2F.default"),
        "{}",
        t.body
    );

    let bad = ArmClient::new(
        &endpoints(&s),
        Credential::ClientSecret {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            client_secret: "wrong".into(),
            version: TokenVersion::V1,
        },
        fast_retry(),
    );
    match bad.read(&req) {
        ArmAnswer::Failed {
            status: 0, message, ..
        } => {
            assert!(
                message.contains(
                    "cannot get a token for ARM: client-credentials token: POST http://127.0.0.1:"
                ),
                "{message}"
            );
            assert!(
                message.contains("401 Unauthorized: invalid_client: AADSTS7000215"),
                "{message}"
            );
            assert!(
                !message.contains("wrong"),
                "the secret must not be printed: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn arm_429_then_200_honours_retry_after() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    s.fault(
        &vm_path(),
        vec![Canned::json(
            429,
            json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
        )
        .with_header("Retry-After", "1")],
    );
    let arm = arm_client(&s);
    let t = Instant::now();
    let d = decide(
        ctx(&v),
        &KeySource::Fixed(parsed(&v).keys),
        &ArmSource::Live(&arm),
        false,
    );
    assert!(d.output.allowed, "{:?}", d.output.error);
    assert!(
        t.elapsed() >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured"
    );
    assert_eq!(s.count(&vm_path()), 2);
}

#[test]
fn arm_500s_retried_up_to_max_retries_then_vaults_message() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let boom = Canned::json(
        500,
        json!({"error": {"code": "InternalServerError", "message": "boom"}}),
    );
    s.fault(
        &vm_path(),
        vec![boom.clone(), boom.clone(), boom.clone(), boom],
    );
    let mut arm = arm_client(&s);
    arm.retry.max_retries = 2;
    let d = decide(
        ctx(&v),
        &KeySource::Fixed(parsed(&v).keys),
        &ArmSource::Live(&arm),
        false,
    );
    assert_eq!(s.count(&vm_path()), 3, "1 try + 2 retries");
    let e = d.output.error.unwrap();
    assert!(
        e.starts_with(&format!(
            "unable to retrieve virtual machine metadata: GET https://management.azure.com{}\n",
            vm_path()
        )),
        "{e}"
    );
    assert!(
        e.contains("RESPONSE 500: 500 Internal Server Error\nERROR CODE: InternalServerError"),
        "{e}"
    );

    // 500 then 200: succeeds.
    s.fault(&vm_path(), vec![Canned::json(500, json!({}))]);
    let d = decide(
        ctx(&v),
        &KeySource::Fixed(parsed(&v).keys),
        &ArmSource::Live(&arm),
        false,
    );
    assert!(d.output.allowed, "{:?}", d.output.error);
}

#[test]
fn arm_unreachable_is_a_transport_failure() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut ep = endpoints(&s);
    ep.arm = format!("http://127.0.0.1:{port}/");
    let arm = ArmClient::new(
        &ep,
        secret(),
        RetryPolicy {
            max_retries: 1,
            ..fast_retry()
        },
    );
    let d = decide(
        ctx(&v),
        &KeySource::Fixed(parsed(&v).keys),
        &ArmSource::Live(&arm),
        false,
    );
    let e = d.output.error.unwrap();
    assert!(
        e.starts_with(&format!(
            "unable to retrieve virtual machine metadata: GET https://management.azure.com{p}: GET http://127.0.0.1:{port}{p}?$expand=instanceView&api-version=2024-07-01: connection refused",
            p = vm_path()
        )),
        "{e}"
    );
    assert!(e.contains("(after 2 attempts)"), "{e}");
}

#[test]
fn generic_resource_api_version_is_resolved_and_cached() {
    let v = vector("allowed_resource_id_app_service");
    let s = StandIn::for_vector(&v);
    s.state().providers.insert(
        "microsoft.web".into(),
        json!({"namespace": "Microsoft.Web", "resourceTypes": [
            {"resourceType": "sites", "apiVersions": ["2025-03-01-preview", "2024-04-01", "2023-12-01", "2022-03-01"]},
            {"resourceType": "serverfarms", "apiVersions": ["2025-01-01"]}
        ]}),
    );
    let arm = arm_client(&s);
    for _ in 0..2 {
        let d = decide(
            ctx(&v),
            &KeySource::Fixed(parsed(&v).keys),
            &ArmSource::Live(&arm),
            false,
        );
        assert!(d.output.allowed, "{:?}", d.output.error);
    }
    let providers = s.requests(&format!("/subscriptions/{SUB}/providers/Microsoft.Web"));
    assert_eq!(providers.len(), 1, "cached");
    assert_eq!(
        providers[0].param("api-version").as_deref(),
        Some("2022-09-01")
    );
    let reads = s.requests("/Microsoft.Web/sites/orders-app");
    assert_eq!(reads.len(), 2);
    assert!(reads
        .iter()
        .all(|r| r.param("api-version").as_deref() == Some("2024-04-01")));

    // A type the providers endpoint does not list: Vault's default.
    s.state().providers.insert(
        "microsoft.hybridcompute".into(),
        json!({"resourceTypes": []}),
    );
    let path = format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.HybridCompute/machines/arc-1");
    assert_eq!(arm.api_version_for(&path), "2022-03-01");
}

#[test]
fn identity_lists_are_paged_and_merged() {
    let v = vector("app_id_match_skips_resource_group_bound");
    let s = StandIn::for_vector(&v);
    let list = format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.ManagedIdentity/userAssignedIdentities");
    {
        // Two more identities in front of the one that matches: three pages of one.
        let mut st = s.state();
        let entry = st.arm.get_mut(&list.to_lowercase()).unwrap();
        let items = entry.1["value"].as_array_mut().unwrap();
        for n in ["id-a", "id-b"] {
            items.insert(0, json!({"id": format!("{list}/{n}"), "name": n, "properties": {"clientId": format!("00000000-0000-4000-8000-0000000000{}", n.len()), "principalId": "p"}}));
        }
    }
    let arm = arm_client(&s);
    match arm.read(&ArmRequest {
        kind: ArmReadKind::IdentityList,
        path: list.clone(),
    }) {
        ArmAnswer::Found { body } => {
            assert_eq!(body["value"].as_array().unwrap().len(), 3);
            assert!(body.get("nextLink").is_none());
        }
        other => panic!("{other:?}"),
    }
    let pages = s.requests(&list);
    assert_eq!(pages.len(), 3);
    assert!(pages
        .iter()
        .all(|p| p.param("api-version").as_deref() == Some("2023-01-31")));
    let d = decide(
        ctx(&v),
        &KeySource::Fixed(parsed(&v).keys),
        &ArmSource::Live(&arm),
        false,
    );
    assert!(
        d.output.allowed,
        "app id match through the third page: {:?}",
        d.output.error
    );
}

#[test]
fn arm_with_the_machines_managed_identity() {
    let v = vector("allowed_vmss_flexible_user_assigned");
    let s = StandIn::for_vector(&v);
    let ep = endpoints(&s);
    let arm = ArmClient::new(
        &ep,
        Credential::ManagedIdentity {
            imds: ImdsClient::new(&ep.imds),
            selector: Selector::Default,
        },
        fast_retry(),
    );
    let d = decide(
        ctx(&v),
        &KeySource::Fixed(parsed(&v).keys),
        &ArmSource::Live(&arm),
        false,
    );
    assert!(d.output.allowed, "{:?}", d.output.error);
    let imds = s.requests("/metadata/identity/oauth2/token");
    assert_eq!(imds.len(), 1, "token cached across reads");
    assert_eq!(imds[0].header("metadata"), Some("true"));
    assert_eq!(
        imds[0].param("resource").as_deref(),
        Some("https://management.azure.com/")
    );
    assert_eq!(imds[0].param("api-version").as_deref(), Some("2018-02-01"));
    let vmss = &s.requests("/virtualMachineScaleSets/jobs")[0];
    assert_eq!(vmss.param("api-version").as_deref(), Some("2024-07-01"));
    let uai = &s.requests("/userAssignedIdentities/id-jobs")[0];
    assert_eq!(uai.param("api-version").as_deref(), Some("2023-01-31"));
}

#[test]
fn imds_tokens_selectors_retries_and_errors() {
    let v = vector("allowed_vm_user_assigned");
    let s = StandIn::for_vector(&v);
    s.state().imds_identities = vec!["known-client".into()];
    let mut imds = ImdsClient::new(&s.base());
    imds.retry.retry_delay = Duration::from_millis(10);
    s.state()
        .imds_faults
        .push_back(Canned::json(429, json!({"error": "too_many_requests"})));
    let t = imds
        .token(
            "https://management.azure.com/",
            &Selector::ClientId("known-client".into()),
        )
        .expect("token after one 429");
    assert_eq!(t.access_token, s.state().imds_token);
    assert!(t.expires_on.unwrap() > aadauth_host::unix_now());
    let reqs = s.requests("/metadata/identity/oauth2/token");
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].param("client_id").as_deref(), Some("known-client"));

    let e = imds
        .token(
            "https://management.azure.com/",
            &Selector::ObjectId("nobody".into()),
        )
        .unwrap_err();
    assert_eq!(e.status, Some(400));
    assert!(
        e.message
            .starts_with("managed identity token (IMDS): GET http://127.0.0.1:"),
        "{e}"
    );
    assert!(
        e.message
            .ends_with("&object_id=nobody: 400 Bad Request: invalid_request: Identity not found"),
        "{e}"
    );

    let (raw, doc) = {
        s.state().imds_metadata = json!({"compute": {"subscriptionId": SUB, "resourceGroupName": "rg-web", "name": "web-01", "vmScaleSetName": ""}});
        imds.instance_metadata().expect("metadata")
    };
    assert_eq!(doc["compute"]["name"], "web-01");
    assert!(raw.contains("rg-web"));
    let m = &s.requests("/metadata/instance")[0];
    assert_eq!(m.param("api-version").as_deref(), Some("2021-02-01"));
    assert_eq!(m.header("metadata"), Some("true"));
}

#[test]
fn imds_off_azure_fails_fast_with_the_url() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let imds = ImdsClient::new(&format!("http://127.0.0.1:{port}"));
    let t = Instant::now();
    let e = imds
        .token("https://management.azure.com/", &Selector::Default)
        .unwrap_err();
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "connection failures are not retried"
    );
    assert!(e.message.starts_with(&format!("managed identity token (IMDS): GET http://127.0.0.1:{port}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F: connection refused")), "{e}");
}

#[test]
fn app_service_identity_endpoint() {
    let v = vector("allowed_resource_id_app_service");
    let s = StandIn::for_vector(&v);
    let mut imds = ImdsClient::new("http://127.0.0.1:9");
    imds.app_service = Some(AppService {
        endpoint: format!("{}/msi/token", s.base()),
        header: APP_SERVICE_HEADER.into(),
    });
    let t = imds
        .token(
            "https://management.azure.com/",
            &Selector::ResourceId("/subscriptions/x/id".into()),
        )
        .expect("token");
    assert_eq!(t.access_token, s.state().imds_token);
    let r = &s.requests("/msi/token")[0];
    assert_eq!(r.param("api-version").as_deref(), Some("2019-08-01"));
    assert_eq!(r.param("mi_res_id").as_deref(), Some("/subscriptions/x/id"));
    assert_eq!(r.header("x-identity-header"), Some(APP_SERVICE_HEADER));

    imds.app_service.as_mut().unwrap().header = "wrong".into();
    let e = imds
        .token("https://management.azure.com/", &Selector::Default)
        .unwrap_err();
    assert!(
        e.message.contains("(App Service): GET http://127.0.0.1:"),
        "{e}"
    );
    assert!(
        e.message
            .ends_with("401 Unauthorized: Unauthorized: missing or wrong X-IDENTITY-HEADER"),
        "{e}"
    );
}

#[test]
fn vault_login_is_recorded_and_errors_are_read() {
    let s = StandIn::start();
    let mut vault = VaultClient::from_env(Some(&s.base())).unwrap();
    vault.namespace = Some("team-a".into());
    let body = json!({"role": "web", "jwt": "eyJ.x.y", "subscription_id": SUB, "resource_group_name": "rg-web", "vm_name": "web-01", "vmss_name": ""});
    let a = vault.login("azure", &body).unwrap();
    assert_eq!(a.client_token(), Some("hvs.standin-token"));
    let r = &s.requests("/v1/auth/azure/login")[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.json(), body);
    assert_eq!(r.header("x-vault-namespace"), Some("team-a"));
    assert_eq!(r.header("x-vault-request"), Some("true"));
    let preview = vault.preview("azure", &body);
    assert_eq!(preview["body"]["jwt"], "<redacted: 7 bytes>");

    s.state().vault_reply = Canned::json(400, json!({"errors": ["invalid role name \"nope\""]}));
    let a = vault.login("azure", &body).unwrap();
    assert!(!a.ok());
    assert_eq!(a.errors(), ["invalid role name \"nope\""]);
}

/// Live adapters decide every vector exactly as `evaluate` does with the snapshot.
#[test]
fn live_decisions_equal_evaluate_for_every_vector() {
    let mut compared = 0;
    let mut entries: Vec<_> = std::fs::read_dir(vectors_dir())
        .unwrap()
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.path());
    let s = StandIn::start();
    for e in entries {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
        let name = v["name"].as_str().unwrap_or_default().to_string();
        let Ok(input) = EvaluateInput::from_json(&v["input"]) else {
            continue;
        };
        let expected = input.clone().evaluate();
        s.load_vector(&v);
        let cloud = Cloud::from_environment(&input.context.config.environment)
            .unwrap_or(Cloud::AzurePublicCloud);
        let ep = endpoints_for(&s, cloud);
        let cache = KeyCache::new(HttpClient::new(), &ep, &input.context.config.tenant_id);
        let arm = ArmClient::new(&ep, secret(), fast_retry());
        let d = decide(
            input.context.clone(),
            &KeySource::Live(&cache),
            &ArmSource::Live(&arm),
            true,
        );
        assert_eq!(
            (
                d.output.allowed,
                d.output.status,
                &d.output.error,
                &d.output.arm_requests
            ),
            (
                expected.allowed,
                expected.status,
                &expected.error,
                &expected.arm_requests
            ),
            "{name}"
        );
        // Every check too, where the tenant's keys can be discovered at all.
        if !input.context.config.tenant_id.is_empty() {
            assert_eq!(
                serde_json::to_value(&d.output).unwrap(),
                serde_json::to_value(&expected).unwrap(),
                "{name}: checks differ"
            );
        }
        compared += 1;
    }
    assert!(compared >= 90, "only {compared} vectors compared");
}

/// Python's azure-identity (`ManagedIdentityCredential`) gets a token from the stand-in's
/// IMDS and App Service endpoints: the stand-in answers like the real services.
#[test]
fn azure_identity_python_accepts_the_standin() {
    let required = std::env::var("AADAUTH_REQUIRE_AZURE_IDENTITY").is_ok_and(|v| v == "1");
    let probe = std::process::Command::new("python3")
        .args(["-c", "import azure.identity"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            !required,
            "python3 with azure-identity is required (pip install azure-identity)"
        );
        eprintln!(
            "skipped: python3 with azure-identity not available (scripts/test-host.sh installs it)"
        );
        return;
    }
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let expected = s.state().imds_token.clone();
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/standin/azure_identity_probe.py");
    let run = |env: Vec<(&str, String)>, args: &[&str]| {
        let mut cmd = std::process::Command::new("python3");
        cmd.arg(&script).args(args);
        for k in [
            "IDENTITY_ENDPOINT",
            "IDENTITY_HEADER",
            "IMDS_ENDPOINT",
            "MSI_ENDPOINT",
            "MSI_SECRET",
            "AZURE_POD_IDENTITY_AUTHORITY_HOST",
            "AZURE_CLIENT_ID",
            "AZURE_TENANT_ID",
            "AZURE_FEDERATED_TOKEN_FILE",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "http_proxy",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            cmd.env_remove(k);
        }
        cmd.env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1");
        for (k, val) in env {
            cmd.env(k, val);
        }
        let out = cmd.output().expect("python3");
        assert!(
            out.status.success(),
            "azure-identity failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST is the base URL azure-identity / MSAL use).
    let got = run(vec![("AZURE_POD_IDENTITY_AUTHORITY_HOST", s.base())], &[]);
    assert_eq!(got, expected);
    let r = s.requests("/metadata/identity/oauth2/token");
    let last = r.last().unwrap();
    assert_eq!(last.header("metadata"), Some("true"));
    assert_eq!(
        last.param("resource").as_deref(),
        Some("https://management.azure.com")
    );
    // With a user-assigned identity selected by client id.
    let got = run(
        vec![("AZURE_POD_IDENTITY_AUTHORITY_HOST", s.base())],
        &["--client-id", "c0ffee00-1111-4222-8333-444455556666"],
    );
    assert_eq!(got, expected);
    assert_eq!(
        s.requests("/metadata/identity/oauth2/token")
            .last()
            .unwrap()
            .param("client_id")
            .as_deref(),
        Some("c0ffee00-1111-4222-8333-444455556666")
    );
    // App Service.
    let got = run(
        vec![
            ("IDENTITY_ENDPOINT", format!("{}/msi/token", s.base())),
            ("IDENTITY_HEADER", APP_SERVICE_HEADER.to_string()),
        ],
        &[],
    );
    assert_eq!(got, expected);
    assert_eq!(
        s.requests("/msi/token")
            .last()
            .unwrap()
            .param("api-version")
            .as_deref(),
        Some("2019-08-01")
    );
}
