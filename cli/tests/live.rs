//! `aadauth login`, `explain` and `keys` end to end, against the local stand-in
//! (127.0.0.1 only; see host/tests/standin).

#[path = "../../host/tests/standin/mod.rs"]
mod standin;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};
use standin::*;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Variables that would point the binary elsewhere are cleared.
const CLEARED: &[&str] = &[
    "AADAUTH_AUTHORITY_HOST",
    "AADAUTH_ARM_ENDPOINT",
    "AADAUTH_IMDS_ENDPOINT",
    "VAULT_ADDR",
    "VAULT_NAMESPACE",
    "VAULT_CACERT",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

fn aadauth(args: &[&str], env: &[(String, String)], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aadauth"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in CLEARED {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run aadauth");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("write stdin");
        }
    }
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "aadauth-cli-live-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).expect("scratch dir");
        Scratch(p)
    }

    fn write(&self, name: &str, v: &Value) -> String {
        self.write_text(name, &serde_json::to_string_pretty(v).unwrap())
    }

    fn write_text(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("write");
        p.to_string_lossy().into_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The vector's config, role and login as the files `explain` reads.
struct Files {
    config: String,
    role: String,
    login: String,
    now: String,
}

fn files(dir: &Scratch, v: &Value, config_extra: Value) -> Files {
    let input = &v["input"];
    let mut config = input["config"].clone();
    if let (Some(c), Some(extra)) = (config.as_object_mut(), config_extra.as_object()) {
        for (k, x) in extra {
            c.insert(k.clone(), x.clone());
        }
    }
    let role = match input.get("role") {
        Some(r) if !r.is_null() => r.clone(),
        _ => json!({ "roles": input["roles"] }),
    };
    Files {
        config: dir.write("config.json", &config),
        role: dir.write("role.json", &role),
        login: dir.write("login.json", &input["login"]),
        now: input["now"].to_string(),
    }
}

fn explain_args<'a>(f: &'a Files, format: &'a str) -> Vec<&'a str> {
    vec![
        "explain", "--config", &f.config, "--role", &f.role, "--login", &f.login, "--now", &f.now,
        "--format", format,
    ]
}

fn vm_metadata() -> Value {
    json!({"compute": {
        "subscriptionId": SUB, "resourceGroupName": "rg-web", "name": "web-01", "vmScaleSetName": "",
        "location": "eastus", "resourceId": format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-01"),
        "osType": "Linux", "vmId": "0b5ed64c-1d5e-4f0a-9a1a-000000000001"
    }, "network": {"interface": []}})
}

fn with(env: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut e = env;
    e.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    e
}

#[test]
fn login_on_a_vm_sends_vaults_fields() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    s.state().imds_metadata = vm_metadata();
    let r = aadauth(
        &["login", "--role", "web"],
        &with(s.env(), &[("VAULT_NAMESPACE", "team-a")]),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "hvs.standin-token\n");

    let imds = &s.requests("/metadata/identity/oauth2/token")[0];
    assert_eq!(imds.header("metadata"), Some("true"));
    assert_eq!(
        imds.param("resource").as_deref(),
        Some("https://management.azure.com/")
    );
    assert_eq!(
        s.requests("/metadata/instance")[0]
            .param("api-version")
            .as_deref(),
        Some("2021-02-01")
    );

    let sent = s.requests("/v1/auth/azure/login");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].header("x-vault-namespace"), Some("team-a"));
    assert_eq!(
        sent[0].json(),
        json!({
            "role": "web",
            "jwt": v["input"]["login"]["jwt"],
            "subscription_id": SUB,
            "resource_group_name": "rg-web",
            "vm_name": "web-01",
            "vmss_name": "",
        })
    );
}

#[test]
fn login_on_a_scale_set_instance() {
    let v = vector("allowed_vmss_uniform");
    let s = StandIn::for_vector(&v);
    s.state().imds_metadata = json!({"compute": {
        "subscriptionId": SUB, "resourceGroupName": "rg-web", "name": "api-vmss_3", "vmScaleSetName": "api-vmss", "location": "eastus"
    }});
    let r = aadauth(
        &[
            "login",
            "--role",
            "api",
            "--mount",
            "azure-prod",
            "--format",
            "json",
            "--client-id",
            "c0ffee00-1111-4222-8333-444455556666",
            "--resource",
            "https://management.azure.com/",
        ],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let printed: Value = serde_json::from_str(&r.stdout).expect("the whole response as JSON");
    assert_eq!(printed["auth"]["client_token"], "hvs.standin-token");
    assert_eq!(
        s.requests("/metadata/identity/oauth2/token")[0]
            .param("client_id")
            .as_deref(),
        Some("c0ffee00-1111-4222-8333-444455556666")
    );
    let sent = &s.requests("/v1/auth/azure-prod/login")[0];
    let body = sent.json();
    assert_eq!(body["role"], "api");
    assert_eq!(body["vmss_name"], "api-vmss");
    assert_eq!(body["vm_name"], "api-vmss_3");
    assert_eq!(body["resource_group_name"], "rg-web");
    assert_eq!(body["subscription_id"], SUB);
    assert_eq!(body["jwt"], v["input"]["login"]["jwt"]);
}

#[test]
fn login_refused_by_vault_prints_the_errors() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    s.state().imds_metadata = vm_metadata();
    s.state().vault_reply = Canned::json(400, json!({"errors": ["invalid role name \"nope\""]}));
    let r = aadauth(&["login", "--role", "nope"], &s.env(), None);
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("Vault refused the login (HTTP 400)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("URL: POST {}/v1/auth/azure/login", s.base())),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("* invalid role name \"nope\""),
        "{}",
        r.stderr
    );
}

#[test]
fn login_dry_run_redacts_the_jwt() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    s.state().imds_metadata = vm_metadata();
    let jwt = v["input"]["login"]["jwt"].as_str().unwrap();
    let r = aadauth(
        &[
            "login",
            "--role",
            "web",
            "--dry-run",
            "--vault-addr",
            "http://127.0.0.1:9",
        ],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(jwt), "the JWT must not be printed");
    let preview: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(preview["url"], "http://127.0.0.1:9/v1/auth/azure/login");
    assert_eq!(
        preview["body"]["jwt"],
        format!("<redacted: {} bytes>", jwt.len())
    );
    assert_eq!(preview["body"]["vm_name"], "web-01");
    assert_eq!(s.count("/v1/auth/"), 0, "nothing sent to Vault");
}

#[test]
fn login_errors_name_the_endpoint() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let imds = format!("http://127.0.0.1:{port}");
    let r = aadauth(
        &["login", "--role", "web"],
        &[("AADAUTH_IMDS_ENDPOINT".into(), imds.clone())],
        None,
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(&format!("aadauth: managed identity token (IMDS): GET {imds}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F: connection refused")),
        "{}",
        r.stderr
    );
    // Vault unreachable.
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    s.state().imds_metadata = vm_metadata();
    let r = aadauth(
        &["login", "--role", "web", "--vault-addr", &imds],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.starts_with(&format!(
            "aadauth: Vault login: POST {imds}/v1/auth/azure/login: connection refused"
        )),
        "{}",
        r.stderr
    );
    // Usage.
    assert_eq!(aadauth(&["login"], &s.env(), None).code, 2);
    assert_eq!(
        aadauth(
            &[
                "login",
                "--role",
                "r",
                "--client-id",
                "a",
                "--object-id",
                "b"
            ],
            &s.env(),
            None
        )
        .code,
        2
    );
    let r = aadauth(
        &["login", "--role", "r"],
        &with(s.env(), &[("VAULT_CACERT", "/nonexistent/ca.pem")]),
        None,
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("VAULT_CACERT /nonexistent/ca.pem: cannot read it"),
        "{}",
        r.stderr
    );
}

/// `explain` with live keys and ARM decides as `evaluate` with the vector's snapshot.
#[test]
fn explain_live_matches_evaluate() {
    for (name, client_secret) in [
        ("allowed_vm_system_assigned", true),
        ("allowed_vmss_flexible_user_assigned", false),
        ("allowed_vmss_uniform", true),
        ("allowed_resource_id_app_service", true),
        ("app_id_match_skips_resource_group_bound", false),
        ("identity_mismatch_appid_not_listed", true),
        ("vm_claim_mismatch", true),
        ("arm_authorization_failed", true),
        ("vm_not_found_in_arm", false),
        ("audience_trailing_slash", true),
        ("second_key_of_the_set", true),
        ("roles_map_lookup", true),
    ] {
        let v = vector(name);
        let s = StandIn::for_vector(&v);
        let dir = Scratch::new();
        let extra = if client_secret {
            json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        } else {
            json!({})
        };
        let f = files(&dir, &v, extra);
        let live = aadauth(&explain_args(&f, "json"), &s.env(), None);
        let vector_file = vectors_dir().join(format!("{name}.json"));
        let snap = aadauth(
            &["evaluate", "--input", vector_file.to_str().unwrap()],
            &[],
            None,
        );
        assert_eq!(live.code, snap.code, "{name}: {}", live.stderr);
        assert!(live.code == 0 || live.code == 1, "{name}: {}", live.stderr);
        let live_out: Value = serde_json::from_str(&live.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", live.stdout));
        let snap_out: Value = serde_json::from_str(&snap.stdout).unwrap();
        assert_eq!(live_out, snap_out, "{name}");
        if client_secret {
            assert_eq!(s.count("/oauth2/token"), 1, "{name}: client credentials");
        } else if !live_out["arm_requests"].as_array().unwrap().is_empty() {
            assert_eq!(
                s.count("/metadata/identity/oauth2/token"),
                1,
                "{name}: managed identity"
            );
        }
        assert_eq!(s.count("/.well-known/openid-configuration"), 1, "{name}");
    }
}

#[test]
fn explain_retries_arm_429_then_succeeds() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let vm = format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-01");
    s.fault(
        &vm,
        vec![Canned::json(
            429,
            json!({"error": {"code": "TooManyRequests", "message": "Rate limit exceeded"}}),
        )
        .with_header("Retry-After", "1")],
    );
    let dir = Scratch::new();
    let f = files(
        &dir,
        &v,
        json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    );
    let r = aadauth(&explain_args(&f, "text"), &s.env(), None);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("ALLOWED (200)"), "{}", r.stdout);
    assert_eq!(s.count(&vm), 2);
}

#[test]
fn explain_arm_down_gives_vaults_message() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    s.state().arm_down = Some(
        Canned::json(503, json!({"error": {"code": "ServiceUnavailable", "message": "The service is unavailable."}}))
            .with_header("Retry-After", "0"),
    );
    let dir = Scratch::new();
    let f = files(
        &dir,
        &v,
        json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "max_retries": 2}),
    );
    let r = aadauth(&explain_args(&f, "json"), &s.env(), None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    let err = out["error"].as_str().unwrap();
    assert!(err.starts_with("unable to retrieve virtual machine metadata: GET https://management.azure.com/subscriptions/"), "{err}");
    assert!(
        err.contains("RESPONSE 503: 503 Service Unavailable\nERROR CODE: ServiceUnavailable"),
        "{err}"
    );
    assert_eq!(out["status"], 500);
    assert_eq!(
        s.count("/virtualMachines/web-01"),
        3,
        "1 try + max_retries 2"
    );

    // Unreachable ARM: a transport failure, still under Vault's prefix, naming the URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let f = files(
        &dir,
        &v,
        json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "max_retries": -1}),
    );
    let r = aadauth(
        &explain_args(&f, "text"),
        &with(
            s.env(),
            &[("AADAUTH_ARM_ENDPOINT", &format!("http://127.0.0.1:{port}/"))],
        ),
        None,
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("REFUSED (500)"), "{}", r.stdout);
    assert!(r.stdout.contains("unable to retrieve virtual machine metadata: GET https://management.azure.com/subscriptions/"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("GET http://127.0.0.1:{port}/subscriptions/")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("connection refused"), "{}", r.stdout);
}

#[test]
fn explain_token_from_stdin_or_imds() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let dir = Scratch::new();
    let mut login = v["input"]["login"].clone();
    let jwt = login["jwt"].as_str().unwrap().to_string();
    login.as_object_mut().unwrap().remove("jwt");
    let mut f = files(
        &dir,
        &v,
        json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    );
    f.login = dir.write("login-nojwt.json", &login);

    let mut args = explain_args(&f, "json");
    args.extend(["--token", "-"]);
    let r = aadauth(
        &args,
        &s.env(),
        Some(&format!("Authorization: Bearer {jwt}\n")),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    let mut args = explain_args(&f, "text");
    args.extend(["--token", "imds"]);
    let r = aadauth(&args, &s.env(), None);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .starts_with("token  managed identity token for https://management.azure.com/\n"),
        "{}",
        r.stdout
    );
    let imds = &s.requests("/metadata/identity/oauth2/token")[0];
    assert_eq!(
        imds.param("resource").as_deref(),
        Some("https://management.azure.com/")
    );

    // The IMDS token file as IMDS printed it.
    let token_file = dir.write(
        "token.json",
        &json!({"access_token": jwt, "token_type": "Bearer"}),
    );
    let mut args = explain_args(&f, "json");
    args.extend(["--token", token_file.as_str()]);
    assert_eq!(aadauth(&args, &s.env(), None).code, 0);
}

#[test]
fn explain_text_shows_sources_checks_and_verdict() {
    let v = vector("vm_claim_mismatch");
    let s = StandIn::for_vector(&v);
    let dir = Scratch::new();
    let f = files(
        &dir,
        &v,
        json!({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    );
    let r = aadauth(&explain_args(&f, "text"), &s.env(), None);
    assert_eq!(r.code, 1);
    let o = &r.stdout;
    assert!(
        o.contains(&format!(
            "keys   2 keys from {}/common/discovery/keys",
            s.base()
        )),
        "{o}"
    );
    assert!(
        o.contains(&format!(
            "ARM    1 read(s) from {}/ as client secret of application {CLIENT_ID}",
            s.base()
        )),
        "{o}"
    );
    assert!(o.contains("FAIL resource.claim_match"), "{o}");
    assert!(
        o.contains("REFUSED (500)\n  xms_mirid token claim does not match vm_name web-02"),
        "{o}"
    );
    assert!(
        !o.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );

    // Given keys and ARM: nothing fetched.
    let keys = dir.write("keys.json", &v["input"]["keys"]);
    let arm = dir.write("arm.json", &v["input"]["arm"]);
    let mut args = explain_args(&f, "text");
    args.extend(["--keys", keys.as_str(), "--arm", arm.as_str()]);
    let before = s.state().log.len();
    let r = aadauth(&args, &s.env(), None);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("keys   given (--keys)\nARM    given (--arm)\n"),
        "{}",
        r.stdout
    );
    assert_eq!(s.state().log.len(), before, "no request");
}

#[test]
fn explain_usage_and_input_errors_exit_2() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let dir = Scratch::new();
    let f = files(&dir, &v, json!({}));
    let r = aadauth(
        &["explain", "--role", &f.role, "--login", &f.login],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("explain needs --config FILE"),
        "{}",
        r.stderr
    );
    let r = aadauth(
        &[
            "explain", "--config", &f.config, "--role", &f.role, "--login", &f.login, "--now",
            "soon",
        ],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 2);
    let r = aadauth(
        &[
            "explain", "--config", &f.config, "--role", &f.role, "--login", &f.login, "--bogus",
        ],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unexpected argument \"--bogus\""),
        "{}",
        r.stderr
    );
    let bad = dir.write_text("bad.json", "{not json");
    let r = aadauth(
        &[
            "explain", "--config", &f.config, "--role", &f.role, "--login", &bad,
        ],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--login"), "{}", r.stderr);
    let bad_role = dir.write("bad-role.json", &json!({"token_ttl": "forever"}));
    let r = aadauth(
        &[
            "explain", "--config", &f.config, "--role", &bad_role, "--login", &f.login,
        ],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("role.token_ttl"), "{}", r.stderr);
    assert_eq!(s.state().log.len(), 0, "nothing fetched for bad input");
}

#[test]
fn keys_prints_discovery_and_key_summary() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    let r = aadauth(&["keys", "--tenant", TENANT], &s.env(), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(&format!("issuer     https://sts.windows.net/{TENANT}/")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "discovery  {}/{TENANT}/.well-known/openid-configuration",
            s.base()
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("demo-key-2"), "{}", r.stdout);
    assert!(r.stdout.contains("RSA 2048-bit"), "{}", r.stdout);
    let r = aadauth(
        &[
            "keys",
            "--tenant",
            TENANT,
            "--format",
            "json",
            "--environment",
            "AzureChinaCloud",
        ],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["environment"], "AzureChinaCloud");
    assert_eq!(doc["keys"].as_array().unwrap().len(), 2);
    assert_eq!(doc["keys"][0]["usable"], true);

    s.state().jwks_status = 503;
    let r = aadauth(&["keys", "--tenant", TENANT], &s.env(), None);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("oidc: get keys failed: 503 Service Unavailable"),
        "{}",
        r.stderr
    );
    assert_eq!(
        aadauth(&["keys", "--environment", "Mars"], &s.env(), None).code,
        2
    );
}

/// A Vault over HTTPS on 127.0.0.1 with the test CA's certificate (host/tests/tls):
/// answers `connections` requests with a token, recording the request bodies.
fn tls_vault(connections: usize) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{BufRead, BufReader, Read};
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../host/tests/tls");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("certificates");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server.key");
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    let config = std::sync::Arc::new(config);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let conn = rustls::ServerConnection::new(config.clone()).expect("tls connection");
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut reader = BufReader::new(&mut tls);
            let mut len = 0usize;
            let mut ok = true;
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => {
                        ok = false;
                        break;
                    }
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
            }
            if !ok {
                continue; // The client refused our certificate.
            }
            let mut body = vec![0u8; len];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            record
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let reply = r#"{"auth":{"client_token":"hvs.tls-token"}}"#;
            let _ = write!(
                tls,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (port, seen)
}

#[test]
fn vault_cacert_is_the_trusted_root() {
    let v = vector("allowed_vm_system_assigned");
    let s = StandIn::for_vector(&v);
    s.state().imds_metadata = vm_metadata();
    let (port, seen) = tls_vault(2);
    let addr = format!("https://127.0.0.1:{port}");
    let ca = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../host/tests/tls/ca.pem");

    // Without VAULT_CACERT the test CA is unknown: TLS fails, naming the URL.
    let r = aadauth(
        &["login", "--role", "web", "--vault-addr", &addr],
        &s.env(),
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.starts_with(&format!(
            "aadauth: Vault login: POST {addr}/v1/auth/azure/login: "
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.to_lowercase().contains("unknown")
            || r.stderr.to_lowercase().contains("certificate"),
        "{}",
        r.stderr
    );

    // With it, the login goes through.
    let r = aadauth(
        &["login", "--role", "web", "--vault-addr", &addr],
        &with(s.env(), &[("VAULT_CACERT", ca.to_str().unwrap())]),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "hvs.tls-token\n");
    let bodies = seen.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    let body: Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(body["vm_name"], "web-01");
}
