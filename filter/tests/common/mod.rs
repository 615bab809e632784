//! Shared by the filter's tests and benchmark: builds `aadauth_filter.wasm`, signs tokens
//! with the demo keys (`demo/keys/*.pem`, test fixtures only), starts hosts.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine;
use proxy_wasm_testhost::{Host, LocalResponse, LogLevel, RequestId, SharedData};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::Sha256;

/// The test vectors' clock: 2025-11-30 10:53:20 UTC.
pub const NOW: i64 = 1_764_500_000;
pub const TENANT: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
pub const SUB: &str = "8d2f4a1c-3b5e-4c6d-9e7f-a1b2c3d4e5f6";
pub const ARM_AUD: &str = "https://management.azure.com/";
pub const VM_OID: &str = "5b7e0c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d";
pub const VM_APPID: &str = "c0ffee00-1111-4222-8333-444455556666";
pub const OTHER_OID: &str = "7a1c3e5f-9b2d-4f6a-8c0e-1d3f5a7b9c2e";

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// Where the built, trimmed filter is written (scripts/test-filter.sh reads it there).
pub fn wasm_path() -> PathBuf {
    workspace().join("target/filter-wasm/aadauth_filter.wasm")
}

/// `aadauth_filter.wasm`: built for wasm32-unknown-unknown (profile wasm-release, its own
/// target dir so that it does not wait for the outer cargo's lock), then trimmed to the
/// proxy-wasm exports (tools/wasm-trim).
pub fn filter_wasm() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| {
        let target_dir = workspace().join("target/filter-wasm");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(workspace())
            .args([
                "build",
                "-p",
                "aadauth-filter",
                "--lib",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm-release",
                "--target-dir",
            ])
            .arg(&target_dir)
            // .cargo/config.toml selects getrandom's "unsupported" backend for this
            // target; RUSTFLAGS from the environment would replace that.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .status()
            .expect("running cargo to build the filter");
        assert!(
            status.success(),
            "building aadauth-filter for wasm32-unknown-unknown failed (rustup target add wasm32-unknown-unknown)"
        );
        let raw = target_dir.join("wasm32-unknown-unknown/wasm-release/aadauth_filter.wasm");
        let raw = std::fs::read(&raw).unwrap_or_else(|e| panic!("{}: {e}", raw.display()));
        let (wasm, _report) = wasm_trim::trim(&raw).expect("trimming the filter");
        std::fs::write(wasm_path(), &wasm).expect("writing the trimmed filter");
        wasm
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub struct DemoKeys {
    pub k1: rsa::PrivateKey,
    pub k2: rsa::PrivateKey,
}

pub fn keys() -> &'static DemoKeys {
    static KEYS: OnceLock<DemoKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = workspace().join("demo/keys");
        let load = |f: &str| {
            let pem = std::fs::read_to_string(dir.join(f)).expect("demo key");
            rsa::PrivateKey::from_pkcs8_pem(&pem).expect("pkcs8")
        };
        DemoKeys {
            k1: load("tenant-key-1.pem"),
            k2: load("tenant-key-2.pem"),
        }
    })
}

pub fn jwk(k: &rsa::PrivateKey, kid: &str) -> Value {
    let p = k.to_public_key();
    json!({"kty": "RSA", "use": "sig", "kid": kid, "x5t": kid,
           "n": b64(&p.n_bytes()), "e": b64(&p.e_bytes())})
}

/// `{"keys": [demo-key-1, demo-key-2]}`.
pub fn jwks_both() -> Value {
    json!({"keys": [jwk(&keys().k1, "demo-key-1"), jwk(&keys().k2, "demo-key-2")]})
}

pub fn jwks_only_2() -> Value {
    json!({"keys": [jwk(&keys().k2, "demo-key-2")]})
}

/// Signs `claims` with demo key 1 (kid `demo-key-1`) or 2.
pub fn sign(claims: &Value, key: u8) -> String {
    let (k, kid) = if key == 2 {
        (&keys().k2, "demo-key-2")
    } else {
        (&keys().k1, "demo-key-1")
    };
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": kid, "x5t": kid});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(k.clone());
    format!("{input}.{}", b64(&signer.sign(input.as_bytes()).to_vec()))
}

pub fn vm_path(rg: &str, vm: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourcegroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"
    )
}

/// A VM's managed-identity token for ARM.
pub fn vm_claims() -> Value {
    let iss = format!("https://sts.windows.net/{TENANT}/");
    json!({
        "aud": ARM_AUD, "iss": iss, "iat": NOW - 300, "nbf": NOW - 300, "exp": NOW + 86_000,
        "appid": VM_APPID, "appidacr": "2", "idp": iss, "idtyp": "app", "oid": VM_OID,
        "sub": VM_OID, "tid": TENANT, "ver": "1.0", "xms_mirid": vm_path("rg-web", "web-01"),
    })
}

pub fn vm_token() -> String {
    sign(&vm_claims(), 1)
}

/// A configuration with the demo keys inline, a `web` role bound to the VM's identity and
/// resource group, an unauthenticated `/health`, and `/` requiring `web`.
pub fn local_config() -> Value {
    json!({
        "tenant": TENANT,
        "audiences": [ARM_AUD],
        "local_jwks": jwks_both(),
        "claim_to_headers": [
            {"header_name": "x-azure-oid", "claim_name": "oid"},
            {"header_name": "x-azure-subscription", "claim_name": "subscription_id"},
            {"header_name": "x-azure-resource-group", "claim_name": "resource_group"},
            {"header_name": "x-azure-resource", "claim_name": "resource_name"},
            {"header_name": "x-azure-scale-set", "claim_name": "scale_set"},
            {"header_name": "x-azure-groups", "claim_name": "groups"}
        ],
        "roles": {
            "web": {"bound_service_principal_ids": [VM_OID], "bound_resource_groups": ["rg-web"], "token_policies": "web"},
            "other": {"bound_service_principal_ids": [OTHER_OID]}
        },
        "rules": [
            {"match": {"prefix": "/health"}, "allow_unauthenticated": true},
            {"match": {"prefix": "/admin"}, "role": "other"},
            {"match": {"prefix": "/"}, "role": "web"}
        ]
    })
}

/// The same, with keys fetched from cluster `aad` instead of inline.
pub fn remote_config() -> Value {
    let mut c = local_config();
    if let Some(o) = c.as_object_mut() {
        o.remove("local_jwks");
        o.insert("jwks_cluster".into(), json!("aad"));
    }
    c
}

pub fn set_now(host: &mut Host, unix_seconds: i64) {
    host.set_time(u64::try_from(unix_seconds).unwrap_or(0) * 1_000_000_000);
}

/// A started host at [`NOW`], configured with `config` (which must be accepted).
pub fn host_with(config: &Value, shared: SharedData) -> Host {
    let mut host = Host::with_shared(filter_wasm(), shared).expect("loading the filter");
    set_now(&mut host, NOW);
    assert!(host.start("").expect("vm start"));
    let ok = host.configure(config.to_string()).expect("configure");
    assert!(ok, "configuration refused: {:?}", host.logs());
    host
}

pub fn host(config: &Value) -> Host {
    host_with(config, SharedData::new())
}

pub fn get(host: &mut Host, path: &str, token: Option<&str>) -> RequestId {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![
        (":method", "GET"),
        (":path", path),
        (":authority", "api.example"),
        (":scheme", "https"),
    ];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    host.request(&headers).expect("request")
}

pub fn response(host: &Host, req: RequestId) -> Option<LocalResponse> {
    host.local_response(req).cloned()
}

pub fn body(r: &LocalResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

pub fn logged(host: &Host, level: LogLevel, needle: &str) -> bool {
    host.logs()
        .iter()
        .any(|(l, m)| *l == level && m.contains(needle))
}

pub fn metric(host: &Host, name: &str) -> u64 {
    host.metric(&format!("aadauth.{name}")).unwrap_or(0)
}

/// Answers the pending key fetch (there must be exactly one) with `jwks`.
pub fn answer_fetch(host: &mut Host, status: &str, body: &[u8]) {
    let calls = host.pending_http_calls();
    assert_eq!(calls.len(), 1, "one key fetch in flight: {calls:?}");
    host.respond_http_call(calls[0].token, &[(":status", status)], body)
        .expect("deliver");
}
