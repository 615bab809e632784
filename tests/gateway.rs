//! The `gateway` profile, table-driven: through the `evaluate` contract
//! (`"profile": "gateway"`), against the lean per-request path the filter runs
//! (`Verifier::verify` + `authorize`), and against the `vault` profile on the same facts.
//!
//! Tokens are signed here with the demo keys (`demo/keys/*.pem`, test fixtures only).

use std::path::Path;
use std::sync::OnceLock;

use aadauth::gateway::{self, GatewaySettings, TokenVersion, Verifier};
use aadauth::{Cloud, KeySet, Role};
use base64::Engine;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::Sha256;

const NOW: i64 = 1_764_500_000;
const TENANT: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
const SUB: &str = "8d2f4a1c-3b5e-4c6d-9e7f-a1b2c3d4e5f6";
const OTHER_SUB: &str = "1a2b3c4d-0000-4000-8000-00000000beef";
const ARM_AUD: &str = "https://management.azure.com/";
const VM_OID: &str = "5b7e0c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d";
const VM_APPID: &str = "c0ffee00-1111-4222-8333-444455556666";
const UAI_OID: &str = "7a1c3e5f-9b2d-4f6a-8c0e-1d3f5a7b9c2e";
const UAI_APPID: &str = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

struct Keys {
    k1: rsa::PrivateKey,
    jwks: Value,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/keys");
        let load = |f: &str| {
            let pem = std::fs::read_to_string(dir.join(f)).expect("demo key");
            rsa::PrivateKey::from_pkcs8_pem(&pem).expect("pkcs8")
        };
        let k1 = load("tenant-key-1.pem");
        let k2 = load("tenant-key-2.pem");
        let jwk = |k: &rsa::PrivateKey, kid: &str| {
            let p = k.to_public_key();
            json!({"kty": "RSA", "use": "sig", "kid": kid, "x5t": kid,
                   "n": b64(&p.n_bytes()), "e": b64(&p.e_bytes())})
        };
        let jwks = json!({"keys": [jwk(&k1, "demo-key-1"), jwk(&k2, "demo-key-2")]});
        Keys { k1, jwks }
    })
}

fn sign_with(header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(keys().k1.clone());
    format!("{input}.{}", b64(&signer.sign(input.as_bytes()).to_vec()))
}

fn sign(claims: &Value) -> String {
    sign_with(
        &json!({"typ": "JWT", "alg": "RS256", "kid": "demo-key-1", "x5t": "demo-key-1"}),
        claims,
    )
}

fn vm_path(rg: &str, vm: &str) -> String {
    format!(
        "/subscriptions/{SUB}/resourcegroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"
    )
}

/// A VM's system-assigned identity token for ARM (v1).
fn vm_claims() -> Value {
    let iss = format!("https://sts.windows.net/{TENANT}/");
    json!({
        "aud": ARM_AUD, "iss": iss, "iat": NOW - 300, "nbf": NOW - 300, "exp": NOW + 86_000,
        "appid": VM_APPID, "appidacr": "2", "idp": iss, "idtyp": "app", "oid": VM_OID,
        "sub": VM_OID, "tid": TENANT, "ver": "1.0", "xms_mirid": vm_path("rg-web", "web-01"),
    })
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    match value {
        Value::Null => {
            claims.as_object_mut().map(|m| m.remove(key));
        }
        v => claims[key] = v,
    }
    claims
}

fn sp_role(extra: Value) -> Value {
    let mut r = json!({"bound_service_principal_ids": [VM_OID], "token_policies": "p"});
    if let (Some(r), Some(e)) = (r.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            r.insert(k.clone(), v.clone());
        }
    }
    r
}

fn gateway_input(jwt: &str, role: Value, settings: Option<Value>) -> Value {
    let mut input = json!({
        "profile": "gateway",
        "config": {"tenant_id": TENANT, "resource": ARM_AUD},
        "role": role,
        "login": {"role": "r", "jwt": jwt},
        "keys": keys().jwks,
        "now": NOW,
    });
    if let Some(s) = settings {
        input["gateway"] = s;
    }
    input
}

struct Case {
    name: &'static str,
    jwt: String,
    role: Value,
    settings: Option<Value>,
    remote_addr: Option<&'static str>,
    /// (status, failing check or "" when allowed, text the error contains)
    want: (u16, &'static str, &'static str),
}

fn case(
    name: &'static str,
    claims: Value,
    role: Value,
    want: (u16, &'static str, &'static str),
) -> Case {
    Case {
        name,
        jwt: sign(&claims),
        role,
        settings: None,
        remote_addr: None,
        want,
    }
}

fn cases() -> Vec<Case> {
    let uai_claims = with(
        with(
            with(vm_claims(), "oid", json!(UAI_OID)),
            "appid",
            json!(UAI_APPID),
        ),
        "xms_mirid",
        json!(format!("/subscriptions/{OTHER_SUB}/resourcegroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-batch")),
    );
    let uai_on_vm = with(
        uai_claims.clone(),
        "xms_az_rid",
        json!(vm_path("rg-web", "web-01")),
    );
    let uniform = with(
        vm_claims(),
        "xms_mirid",
        json!(format!("/subscriptions/{SUB}/resourcegroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/api-vmss")),
    );
    let flexible = with(
        vm_claims(),
        "xms_mirid",
        json!(vm_path("rg-web", "jobs_1a2b3c4d")),
    );
    let v2 = with(
        with(
            with(
                vm_claims(),
                "iss",
                json!(format!("https://login.microsoftonline.com/{TENANT}/v2.0")),
            ),
            "ver",
            json!("2.0"),
        ),
        "appid",
        Value::Null,
    );
    let v2 = with(v2, "azp", json!(VM_APPID));
    let mut out = vec![
        case("sp binding", vm_claims(), sp_role(json!({})), (200, "", "")),
        case(
            "resource group, case-insensitive whole name",
            vm_claims(),
            sp_role(
                json!({"bound_resource_groups": "RG-WEB", "bound_subscription_ids": SUB.to_uppercase()}),
            ),
            (200, "", ""),
        ),
        case(
            "resource group prefix is not a match (no substring quirk)",
            vm_claims(),
            sp_role(json!({"bound_resource_groups": "rg"})),
            (
                403,
                "bound.resource_group",
                "resource group rg-web is not bound to role",
            ),
        ),
        case(
            "subscription from the token",
            vm_claims(),
            sp_role(json!({"bound_subscription_ids": OTHER_SUB})),
            (403, "bound.subscription", "subscription 8d2f4a1c"),
        ),
        case(
            "uniform scale set",
            uniform.clone(),
            sp_role(json!({"bound_scale_sets": "API-VMSS"})),
            (200, "", ""),
        ),
        case(
            "uniform scale set, other name",
            uniform,
            sp_role(json!({"bound_scale_sets": "api"})),
            (403, "bound.scale_set", "scale set api-vmss is not bound"),
        ),
        case(
            "flexible instance prefix",
            flexible,
            sp_role(json!({"bound_scale_sets": "jobs", "bound_resource_groups": "rg-web"})),
            (200, "", ""),
        ),
        case(
            "a VM outside scale sets",
            vm_claims(),
            sp_role(json!({"bound_scale_sets": "web"})),
            (
                403,
                "bound.scale_set",
                "virtual machine web-01 is not in a scale set",
            ),
        ),
        case(
            "user-assigned identity: xms_az_rid decides",
            uai_on_vm.clone(),
            json!({"bound_service_principal_ids": UAI_OID, "bound_resource_groups": "rg-web", "bound_subscription_ids": SUB}),
            (200, "", ""),
        ),
        case(
            "user-assigned identity without xms_az_rid: the identity's group",
            uai_claims.clone(),
            json!({"bound_service_principal_ids": UAI_OID, "bound_resource_groups": "rg-web"}),
            (403, "bound.resource_group", "rg-identity"),
        ),
        case(
            "no xms claims with a resource binding",
            with(vm_claims(), "xms_mirid", Value::Null),
            sp_role(json!({"bound_resource_groups": "rg-web"})),
            (403, "resource.claims", "no xms_az_rid or xms_mirid"),
        ),
        case(
            "no xms claims without resource bindings",
            with(vm_claims(), "xms_mirid", Value::Null),
            sp_role(json!({})),
            (200, "", ""),
        ),
        case(
            "unparseable xms_mirid",
            with(vm_claims(), "xms_mirid", json!("not-a-resource")),
            sp_role(json!({"bound_resource_groups": "rg-web"})),
            (403, "resource.claims", "is not an Azure resource id"),
        ),
        case(
            "service principal (case-insensitive, as Vault)",
            vm_claims(),
            json!({"bound_service_principal_ids": VM_OID.to_uppercase()}),
            (200, "", ""),
        ),
        case(
            "other service principal",
            vm_claims(),
            json!({"bound_service_principal_ids": UAI_OID}),
            (
                403,
                "bindings.service_principal",
                "service principal 5b7e0c1a",
            ),
        ),
        case(
            "groups-only role, token without groups",
            vm_claims(),
            json!({"bound_group_ids": "g1"}),
            (403, "bindings.groups", "groups [] are not bound"),
        ),
        case(
            "groups overlap",
            with(vm_claims(), "groups", json!(["g0", "G1"])),
            json!({"bound_group_ids": "g1"}),
            (200, "", ""),
        ),
        case(
            "wildcards on both lists",
            vm_claims(),
            json!({"bound_service_principal_ids": "*", "bound_group_ids": "*", "bound_resource_groups": "rg-web"}),
            (
                500,
                "bindings.specific",
                "binds no specific service principal or group",
            ),
        ),
        case(
            "expired 30 s ago, default skew",
            with(vm_claims(), "exp", json!(NOW - 30)),
            sp_role(json!({})),
            (200, "", ""),
        ),
        case(
            "expired 61 s ago",
            with(vm_claims(), "exp", json!(NOW - 61)),
            sp_role(json!({})),
            (
                401,
                "token.expiry",
                "token expired at 2025-11-30T10:52:19Z (clock skew 60s)",
            ),
        ),
        case(
            "no exp",
            with(vm_claims(), "exp", Value::Null),
            sp_role(json!({})),
            (401, "token.expiry", "token has no exp claim"),
        ),
        case(
            "nbf 30 s ahead, default skew",
            with(vm_claims(), "nbf", json!(NOW + 30)),
            sp_role(json!({})),
            (200, "", ""),
        ),
        case(
            "nbf 200 s ahead (go-oidc's 5 min leeway does not apply)",
            with(vm_claims(), "nbf", json!(NOW + 200)),
            sp_role(json!({})),
            (401, "token.not_before", "token is not valid before"),
        ),
        case(
            "v2 token, v1 only",
            v2.clone(),
            sp_role(json!({})),
            (
                401,
                "token.issuer",
                "is not accepted (accepted: https://sts.windows.net/",
            ),
        ),
        case(
            "audience mismatch",
            with(vm_claims(), "aud", json!("https://management.azure.com")),
            sp_role(json!({})),
            (
                401,
                "token.audience",
                "token audience [\"https://management.azure.com\"] is not accepted",
            ),
        ),
        case(
            "other tenant",
            with(
                vm_claims(),
                "iss",
                json!("https://sts.windows.net/9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a/"),
            ),
            sp_role(json!({})),
            (401, "token.issuer", "9e8d7c6b"),
        ),
        case(
            "malformed claims",
            with(vm_claims(), "exp", json!("soon")),
            sp_role(json!({})),
            (401, "token.claims", "malformed token claims:"),
        ),
        case(
            "groups of the wrong type",
            with(vm_claims(), "groups", json!("g1")),
            sp_role(json!({})),
            (
                401,
                "claims.read",
                "malformed token claims: json: cannot unmarshal string",
            ),
        ),
    ];
    // Settings.
    let mut c = case(
        "expired 30 s ago, no skew",
        with(vm_claims(), "exp", json!(NOW - 30)),
        sp_role(json!({})),
        (401, "token.expiry", "clock skew 0s"),
    );
    c.settings = Some(json!({"clock_skew_seconds": 0}));
    out.push(c);
    let mut c = case(
        "nbf 30 s ahead, no skew",
        with(vm_claims(), "nbf", json!(NOW + 30)),
        sp_role(json!({})),
        (401, "token.not_before", "clock skew 0s"),
    );
    c.settings = Some(json!({"clock_skew_seconds": 0}));
    out.push(c);
    let mut c = case(
        "v2 token accepted on request",
        v2,
        sp_role(json!({})),
        (200, "", ""),
    );
    c.settings = Some(json!({"token_versions": ["v1", "v2"]}));
    out.push(c);
    let mut c = case(
        "v1 token when only v2 is accepted",
        vm_claims(),
        sp_role(json!({})),
        (401, "token.issuer", "/v2.0"),
    );
    c.settings = Some(json!({"token_versions": "v2"}));
    out.push(c);
    let mut c = case(
        "audiences list",
        with(
            vm_claims(),
            "aud",
            json!(["api://orders", "https://vault.example"]),
        ),
        sp_role(json!({})),
        (200, "", ""),
    );
    c.settings = Some(json!({"audiences": ["https://vault.example", "https://other"]}));
    out.push(c);
    let mut c = case(
        "audiences replace config.resource",
        vm_claims(),
        sp_role(json!({})),
        (401, "token.audience", "accepted: api://orders"),
    );
    c.settings = Some(json!({"audiences": "api://orders"}));
    out.push(c);
    // Client address.
    let mut c = case(
        "inside token_bound_cidrs",
        vm_claims(),
        sp_role(json!({"token_bound_cidrs": "10.0.0.0/24"})),
        (200, "", ""),
    );
    c.remote_addr = Some("10.0.0.7:5555");
    out.push(c);
    let mut c = case(
        "outside token_bound_cidrs",
        vm_claims(),
        sp_role(json!({"token_bound_cidrs": "10.0.0.0/24"})),
        (
            403,
            "role.bound_cidrs",
            "client address 10.0.1.7 is outside",
        ),
    );
    c.remote_addr = Some("10.0.1.7");
    out.push(c);
    // Token shapes.
    let t = sign(&vm_claims());
    let mut tampered = t.clone();
    tampered.truncate(t.len() - 4);
    tampered.push_str("AAAA");
    out.push(Case {
        name: "altered signature",
        jwt: tampered,
        role: sp_role(json!({})),
        settings: None,
        remote_addr: None,
        want: (401, "token.signature", "token signature is invalid"),
    });
    out.push(Case {
        name: "unknown kid",
        jwt: sign_with(&json!({"alg": "RS256", "kid": "rotated-key"}), &vm_claims()),
        role: sp_role(json!({})),
        settings: None,
        remote_addr: None,
        want: (
            401,
            "token.signature",
            "no signing key with kid \"rotated-key\"",
        ),
    });
    out.push(Case {
        name: "HS256",
        jwt: format!(
            "{}.{}.c2ln",
            b64(br#"{"alg":"HS256"}"#),
            b64(vm_claims().to_string().as_bytes())
        ),
        role: sp_role(json!({})),
        settings: None,
        remote_addr: None,
        want: (
            401,
            "token.algorithm",
            "malformed token: unexpected signature algorithm \"HS256\"",
        ),
    });
    out.push(Case {
        name: "missing token",
        jwt: String::new(),
        role: sp_role(json!({})),
        settings: None,
        remote_addr: None,
        want: (401, "request.jwt", "token is missing"),
    });
    out.push(Case {
        name: "not a JWT",
        jwt: "abc".into(),
        role: sp_role(json!({})),
        settings: None,
        remote_addr: None,
        want: (
            401,
            "token.format",
            "malformed token: expected 3 parts got 1",
        ),
    });
    out
}

fn evaluate(c: &Case) -> aadauth::Output {
    let mut input = gateway_input(&c.jwt, c.role.clone(), c.settings.clone());
    if let Some(a) = c.remote_addr {
        input["remote_addr"] = json!(a);
    }
    aadauth::evaluate(&input).unwrap_or_else(|e| panic!("{}: input error {e}", c.name))
}

/// The filter's per-request order: missing token, client address, token, role.
fn lean(c: &Case) -> Result<(), (u16, &'static str, String)> {
    let role = Role::from_json(&c.role, "r").expect("role");
    let settings = match &c.settings {
        Some(s) => GatewaySettings::from_json(s, "gateway").expect("settings"),
        None => GatewaySettings::default(),
    };
    let v = Verifier::new(TENANT, Cloud::AzurePublicCloud, &settings, ARM_AUD).expect("verifier");
    let keys = KeySet::from_jwks(&keys().jwks).expect("jwks");
    if c.jwt.is_empty() {
        return Err((401, "request.jwt", "token is missing".into()));
    }
    gateway::check_bound_cidrs(&role, c.remote_addr).map_err(|d| (d.status, d.check, d.message))?;
    let claims = v
        .verify(&c.jwt, &keys, NOW, &[])
        .map_err(|e| (e.status(), e.check, e.message))?;
    gateway::authorize(&role, &claims).map_err(|d| (d.status, d.check, d.message))
}

#[test]
fn gateway_table() {
    let mut failures = Vec::new();
    for c in cases() {
        let out = evaluate(&c);
        let (status, check, text) = c.want;
        let failed = out.failed_check().map(|f| &*f.id).unwrap_or("");
        let error = out.error.clone().unwrap_or_default();
        if out.status != status || failed != check || !error.contains(text) {
            failures.push(format!(
                "{}: want {status} {check:?} containing {text:?}; got {} {failed:?} {error:?}",
                c.name, out.status
            ));
        }
        if out.profile != "gateway" || !out.arm_requests.is_empty() {
            failures.push(format!("{}: profile/arm_requests", c.name));
        }
        if out.allowed != (status == 200) || out.allowed != out.auth.is_some() {
            failures.push(format!("{}: allowed/auth disagree", c.name));
        }
        if let Some(f) = out.failed_check() {
            if f.hint.is_none() {
                failures.push(format!("{}: failing check {} has no hint", c.name, f.id));
            }
        }
        let fails = out
            .checks
            .iter()
            .filter(|c| c.outcome == aadauth::Outcome::Fail)
            .count();
        if fails != usize::from(!out.allowed) {
            failures.push(format!("{}: {fails} failing checks", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lean_path_agrees_with_the_explained_flow() {
    for c in cases() {
        let out = evaluate(&c);
        match lean(&c) {
            Ok(()) => assert!(
                out.allowed,
                "{}: lean allowed, flow refused {:?}",
                c.name, out.error
            ),
            Err((status, check, message)) => {
                assert_eq!(out.status, status, "{}", c.name);
                assert_eq!(
                    out.failed_check().map(|f| &*f.id),
                    Some(check),
                    "{}",
                    c.name
                );
                assert_eq!(out.error.as_deref(), Some(message.as_str()), "{}", c.name);
            }
        }
    }
}

#[test]
fn auth_block_reads_the_token() {
    let uai = with(
        with(vm_claims(), "oid", json!(UAI_OID)),
        "xms_az_rid",
        json!(vm_path("rg-web", "jobs_0a1b2c3d")),
    );
    let out = aadauth::evaluate(&gateway_input(
        &sign(&uai),
        json!({"name": "r", "bound_service_principal_ids": UAI_OID, "bound_scale_sets": "jobs", "token_policies": "a,b"}),
        None,
    ))
    .expect("input");
    assert!(out.allowed, "{:?}", out.error);
    let auth = out.auth.clone().expect("auth");
    assert_eq!(auth.display_name, UAI_OID);
    assert_eq!(auth.policies, vec!["a", "b"]);
    assert_eq!(auth.metadata["subscription_id"], SUB);
    assert_eq!(auth.metadata["resource_group_name"], "rg-web");
    assert_eq!(auth.metadata["vmss_name"], "jobs");
    assert_eq!(auth.metadata["vm_name"], "jobs_0a1b2c3d");
    assert_eq!(auth.metadata["role"], "r");
    assert_eq!(auth.metadata["app_id"], VM_APPID);
    for id in ["request.subscription_id", "claims.not_before"] {
        assert_eq!(
            out.check(id).map(|c| c.outcome),
            Some(aadauth::Outcome::Skip),
            "{id}"
        );
    }
}

#[test]
fn configuration_errors_are_input_errors() {
    let jwt = sign(&vm_claims());
    let e = aadauth::evaluate(&gateway_input(
        &jwt,
        sp_role(json!({"bound_locations": "eastus"})),
        None,
    ))
    .unwrap_err();
    assert_eq!(e.field, "role.bound_locations");
    assert!(e.message.contains("a token carries no location"), "{e}");
    let mut input = gateway_input(&jwt, Value::Null, None);
    input["roles"] = json!({"web": sp_role(json!({"bound_locations": ["eastus"]}))});
    assert_eq!(
        aadauth::evaluate(&input).unwrap_err().field,
        "roles.web.bound_locations"
    );
    let e = aadauth::evaluate(&gateway_input(
        &jwt,
        sp_role(json!({})),
        Some(json!({"skew": 1})),
    ))
    .unwrap_err();
    assert_eq!(e.field, "gateway.skew");
    let e = aadauth::evaluate(&gateway_input(
        &jwt,
        sp_role(json!({})),
        Some(json!({"token_versions": ["v3"]})),
    ))
    .unwrap_err();
    assert_eq!(e.field, "gateway.token_versions");
    let mut vault = gateway_input(&jwt, sp_role(json!({})), Some(json!({})));
    vault["profile"] = json!("vault");
    assert_eq!(aadauth::evaluate(&vault).unwrap_err().field, "gateway");
    // The vault profile still accepts bound_locations.
    vault.as_object_mut().map(|m| m.remove("gateway"));
    vault["role"] = sp_role(json!({"bound_locations": "eastus"}));
    assert!(aadauth::evaluate(&vault).is_ok());
}

#[test]
fn gateway_configuration_checks() {
    let jwt = sign(&vm_claims());
    let mut input = gateway_input(&jwt, sp_role(json!({})), None);
    input["config"]["tenant_id"] = json!("contoso.onmicrosoft.com");
    let out = aadauth::evaluate(&input).expect("input");
    assert_eq!(out.status, 500);
    assert_eq!(out.failed_check().map(|c| &*c.id), Some("config.tenant_id"));
    let mut input = gateway_input(&jwt, sp_role(json!({})), None);
    input["config"]["resource"] = json!("");
    let out = aadauth::evaluate(&input).expect("input");
    assert_eq!(out.error.as_deref(), Some("no audience configured"));
    // Keys that could not be fetched: 503, not a bad token.
    let mut input = gateway_input(&jwt, sp_role(json!({})), None);
    input["keys"] = json!("<html>gateway timeout</html>");
    let out = aadauth::evaluate(&input).expect("input");
    assert_eq!(out.status, 503);
    assert!(
        out.error
            .as_deref()
            .is_some_and(|e| e.starts_with("signing keys are unavailable: ")),
        "{:?}",
        out.error
    );
    // Versions are parsed leniently.
    assert_eq!(TokenVersion::parse("2.0"), Some(TokenVersion::V2));
}

/// For the same facts (a token, and ARM answers consistent with it) and the same bindings,
/// the gateway never allows a request that the vault profile refuses for a binding reason
/// (a `bindings.*`, `bound.*` or `resource.*` check). The vault login is what
/// `vault login -method=azure` sends from the workload (IMDS instance metadata).
#[test]
fn gateway_never_allows_what_vault_refuses_for_binding_reasons() {
    struct Fact {
        name: &'static str,
        claims: Value,
        login: Value,
        arm: Value,
    }
    let vm = format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-01");
    let vmss = format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/api-vmss");
    let flex = format!("/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachineScaleSets/jobs");
    let uai = format!("/subscriptions/{SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-batch");
    let app =
        format!("/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Web/sites/orders");
    let ident = |oid: &str| json!({"type": "SystemAssigned", "principalId": oid});
    let facts = vec![
        Fact {
            name: "vm system-assigned",
            claims: vm_claims(),
            login: json!({"subscription_id": SUB, "resource_group_name": "rg-web", "vm_name": "web-01"}),
            arm: json!({ vm.clone(): {"location": "eastus", "identity": ident(VM_OID)} }),
        },
        Fact {
            name: "vm user-assigned",
            claims: with(
                with(
                    with(vm_claims(), "oid", json!(UAI_OID)),
                    "xms_mirid",
                    json!(uai.replace("resourceGroups", "resourcegroups")),
                ),
                "xms_az_rid",
                json!(vm.replace("resourceGroups", "resourcegroups")),
            ),
            login: json!({"subscription_id": SUB, "resource_group_name": "rg-web", "vm_name": "web-01"}),
            arm: json!({ vm.clone(): {"location": "eastus", "identity": {"type": "UserAssigned", "userAssignedIdentities": { uai.clone(): {"principalId": UAI_OID, "clientId": UAI_APPID} }}} }),
        },
        Fact {
            name: "uniform scale set",
            claims: with(
                vm_claims(),
                "xms_mirid",
                json!(vmss.replace("resourceGroups", "resourcegroups")),
            ),
            login: json!({"subscription_id": SUB, "resource_group_name": "rg-web", "vmss_name": "api-vmss"}),
            arm: json!({ vmss.clone(): {"location": "westeurope", "identity": ident(VM_OID)} }),
        },
        Fact {
            name: "flexible instance",
            claims: with(
                vm_claims(),
                "xms_mirid",
                json!(vm_path("rg-web", "jobs_1a2b3c4d")),
            ),
            login: json!({"subscription_id": SUB, "resource_group_name": "rg-web", "vm_name": "jobs_1a2b3c4d", "vmss_name": "jobs"}),
            arm: json!({ flex.clone(): {"location": "westeurope", "identity": ident(VM_OID)} }),
        },
        Fact {
            name: "app service",
            claims: with(
                vm_claims(),
                "xms_mirid",
                json!(app.replace("resourceGroups", "resourcegroups")),
            ),
            login: json!({"subscription_id": SUB, "resource_group_name": "rg-apps", "resource_id": app.clone()}),
            arm: json!({ app.clone(): {"location": "eastus", "identity": ident(VM_OID)} }),
        },
        Fact {
            name: "custom audience, no xms claims",
            claims: with(vm_claims(), "xms_mirid", Value::Null),
            login: json!({"subscription_id": SUB, "resource_group_name": "rg-web", "vm_name": "web-01"}),
            arm: json!({ vm.clone(): {"location": "eastus", "identity": ident(VM_OID)} }),
        },
    ];
    let sps: [Value; 4] = [json!(VM_OID), json!(UAI_OID), json!("*"), Value::Null];
    let groups: [Value; 3] = [Value::Null, json!("g1"), json!("*")];
    let subs: [Value; 3] = [Value::Null, json!(SUB), json!(OTHER_SUB)];
    let rgs: [Value; 5] = [
        Value::Null,
        json!("rg-web"),
        json!("RG-WEB,rg-apps"),
        json!("rg"),
        json!("rg-identity"),
    ];
    let sss: [Value; 4] = [Value::Null, json!("api-vmss"), json!("jobs"), json!("api")];
    let mut compared = 0;
    let mut vault_binding_refusals = 0;
    let mut problems = Vec::new();
    for f in &facts {
        let jwt = sign(&f.claims);
        for sp in &sps {
            for g in &groups {
                for sub in &subs {
                    for rg in &rgs {
                        for ss in &sss {
                            let mut role = json!({"name": "r", "token_policies": "p"});
                            for (k, v) in [
                                ("bound_service_principal_ids", sp),
                                ("bound_group_ids", g),
                                ("bound_subscription_ids", sub),
                                ("bound_resource_groups", rg),
                                ("bound_scale_sets", ss),
                            ] {
                                if !v.is_null() {
                                    role[k] = v.clone();
                                }
                            }
                            let mut login = f.login.clone();
                            login["role"] = json!("r");
                            login["jwt"] = json!(jwt);
                            let vault_in = json!({
                                "config": {"tenant_id": TENANT, "resource": ARM_AUD},
                                "role": role, "login": login, "keys": keys().jwks,
                                "arm": f.arm, "now": NOW,
                            });
                            let vault = aadauth::evaluate(&vault_in).expect("vault input");
                            let mut gw_in = vault_in.clone();
                            gw_in["profile"] = json!("gateway");
                            let gw = aadauth::evaluate(&gw_in).expect("gateway input");
                            compared += 1;
                            let binding_refusal = vault.failed_check().is_some_and(|c| {
                                c.id.starts_with("bindings.")
                                    || c.id.starts_with("bound.")
                                    || c.id.starts_with("resource.")
                            });
                            if binding_refusal {
                                vault_binding_refusals += 1;
                                if gw.allowed {
                                    problems.push(format!(
                                        "{}: role {role}: vault refused ({:?}), gateway allowed",
                                        f.name, vault.error
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        compared > 1000 && vault_binding_refusals > 500,
        "{compared} {vault_binding_refusals}"
    );
}

fn settings_of(s: Option<&Value>) -> GatewaySettings {
    s.map(|s| GatewaySettings::from_json(s, "gateway").expect("settings"))
        .unwrap_or_default()
}

fn gate(keys_json: &Value, capacity: usize) -> aadauth::Gate {
    gate_with(keys_json, capacity, None)
}

fn gate_with(keys_json: &Value, capacity: usize, settings: Option<&Value>) -> aadauth::Gate {
    let v = Verifier::new(
        TENANT,
        Cloud::AzurePublicCloud,
        &settings_of(settings),
        ARM_AUD,
    )
    .expect("verifier");
    aadauth::Gate::new(
        v,
        KeySet::from_jwks(keys_json).expect("jwks"),
        capacity,
        Vec::new(),
    )
}

/// Whether the token of `c` verifies (whatever its role says).
fn verifies(c: &Case) -> bool {
    let v = Verifier::new(
        TENANT,
        Cloud::AzurePublicCloud,
        &settings_of(c.settings.as_ref()),
        ARM_AUD,
    )
    .expect("verifier");
    let keys = KeySet::from_jwks(&keys().jwks).expect("jwks");
    v.verify(&c.jwt, &keys, NOW, &[]).is_ok()
}

/// `Gate::check` is the lean path with a cache in front: the first decision equals the
/// lean path's, the second the same again, from the cache when the token was verified
/// (a refused token is never cached).
#[test]
fn gate_decides_as_the_lean_path_first_and_from_the_cache() {
    let mut cached_hits = 0;
    for c in cases() {
        if c.jwt.is_empty() {
            continue;
        }
        let role = Role::from_json(&c.role, "r").expect("role");
        let mut g = gate_with(&keys().jwks, 100, c.settings.as_ref());
        let want = lean(&c);
        for round in 0..2 {
            let d = g.check(&c.jwt, NOW, &role, c.remote_addr);
            match &want {
                Ok(()) => assert!(
                    d.allowed && d.status == 200,
                    "{} round {round}: {d:?}",
                    c.name
                ),
                Err((status, check, message)) => {
                    assert!(!d.allowed, "{} round {round}", c.name);
                    assert_eq!(
                        (d.status, d.check.as_str(), d.message.as_str()),
                        (*status, *check, message.as_str()),
                        "{} round {round}",
                        c.name
                    );
                }
            }
            let token_refused = !verifies(&c);
            let cidr_refused = matches!(&want, Err((_, check, _)) if *check == "role.bound_cidrs");
            let expect_cached = round == 1 && !token_refused && !cidr_refused;
            assert_eq!(d.cached, expect_cached, "{} round {round}: {d:?}", c.name);
            assert_eq!(
                d.claims.is_some(),
                !token_refused && !cidr_refused,
                "{}",
                c.name
            );
            cached_hits += usize::from(d.cached);
        }
    }
    assert!(
        cached_hits >= 5,
        "only {cached_hits} cache hits: the table lost its allowed cases"
    );
}

#[test]
fn gate_cache_rechecks_exp_with_the_skew() {
    let jwt = sign(&with(vm_claims(), "exp", json!(NOW + 100)));
    let role = Role::from_json(&sp_role(json!({})), "r").expect("role");
    let mut g = gate(&keys().jwks, 10);
    assert!(g.check(&jwt, NOW, &role, None).allowed);
    // Within exp + 60 s of skew: still served from the cache.
    let d = g.check(&jwt, NOW + 160, &role, None);
    assert!(d.allowed && d.cached, "{d:?}");
    // Past it: refused from the cache entry, which is dropped...
    let d = g.check(&jwt, NOW + 161, &role, None);
    assert!(
        !d.allowed && d.cached && d.status == 401 && d.check == "token.expiry",
        "{d:?}"
    );
    assert_eq!(g.cached_tokens(), 0);
    // ...so that the next request verifies again (and is refused again).
    let d = g.check(&jwt, NOW + 162, &role, None);
    assert!(
        !d.allowed && !d.cached && d.check == "token.expiry",
        "{d:?}"
    );
}

#[test]
fn gate_decides_roles_on_every_request() {
    let jwt = sign(&vm_claims());
    let allow = Role::from_json(&sp_role(json!({})), "allow").expect("role");
    let deny = Role::from_json(
        &json!({"bound_service_principal_ids": ["someone-else"]}),
        "deny",
    )
    .expect("role");
    let mut g = gate(&keys().jwks, 10);
    assert!(g.check(&jwt, NOW, &allow, None).allowed);
    let d = g.check(&jwt, NOW, &deny, None);
    assert!(d.cached && !d.allowed && d.status == 403, "{d:?}");
    assert_eq!(d.check, "bindings.service_principal");
    let d = g.check(&jwt, NOW, &allow, None);
    assert!(d.cached && d.allowed, "{d:?}");
}

#[test]
fn gate_reports_an_unknown_key_and_takes_new_keys() {
    let jwt = sign(&vm_claims());
    let role = Role::from_json(&sp_role(json!({})), "r").expect("role");
    let mut g = gate(&json!({"keys": []}), 10);
    let d = g.check(&jwt, NOW, &role, None);
    assert!(!d.allowed && d.unknown_key && d.status == 401, "{d:?}");
    assert_eq!(d.check, "token.signature");
    assert_eq!(g.cached_tokens(), 0);
    g.set_keys(KeySet::from_jwks(&keys().jwks).expect("jwks"));
    let d = g.check(&jwt, NOW, &role, None);
    assert!(d.allowed && !d.cached && !d.unknown_key, "{d:?}");
}

#[test]
fn gate_without_a_cache_verifies_every_time() {
    let jwt = sign(&vm_claims());
    let role = Role::from_json(&sp_role(json!({})), "r").expect("role");
    let mut g = gate(&keys().jwks, 0);
    for _ in 0..3 {
        let d = g.check(&jwt, NOW, &role, None);
        assert!(d.allowed && !d.cached, "{d:?}");
    }
    assert_eq!(g.cached_tokens(), 0);
}

/// `check_cached` answers from the cache alone: nothing before the token was verified,
/// then what `check` answers (the client's address first in both).
#[test]
fn gate_check_cached_answers_from_the_cache_alone() {
    let jwt = sign(&vm_claims());
    let role = Role::from_json(&sp_role(json!({})), "r").expect("role");
    let cidr_role =
        Role::from_json(&sp_role(json!({"token_bound_cidrs": ["10.0.0.0/8"]})), "c").expect("role");
    let mut g = gate(&keys().jwks, 10);
    let key = aadauth::cache::CacheKey::of(&jwt);
    assert_eq!(g.check_cached(&key, NOW, &role, None), None);
    let d = g.check_cached(&key, NOW, &cidr_role, Some("192.0.2.1"));
    assert!(
        matches!(&d, Some(d) if d.status == 403 && d.check == "role.bound_cidrs"),
        "{d:?}"
    );
    let first = g.check(&jwt, NOW, &role, None);
    assert!(first.allowed && !first.cached);
    let cached = g.check_cached(&key, NOW, &role, None).expect("cached");
    assert_eq!(cached, g.check(&jwt, NOW, &role, None));
    assert!(cached.cached && cached.allowed);
    let late = g
        .check_cached(&key, NOW + 86_061, &role, None)
        .expect("expired");
    assert!(
        !late.allowed && late.check == "token.expiry" && late.cached,
        "{late:?}"
    );
    assert_eq!(g.check_cached(&key, NOW + 86_062, &role, None), None);
}

/// A key rotation forgets the cached tokens of a key that left the set (the filter's rule),
/// and keeps the others.
#[test]
fn gate_set_keys_forgets_tokens_of_withdrawn_keys() {
    let jwt = sign(&vm_claims());
    let role = Role::from_json(&sp_role(json!({})), "r").expect("role");
    let mut g = gate(&keys().jwks, 10);
    assert!(g.check(&jwt, NOW, &role, None).allowed);
    // Same keys again: the token stays cached.
    g.set_keys(KeySet::from_jwks(&keys().jwks).expect("jwks"));
    assert_eq!(g.cached_tokens(), 1);
    // demo-key-1 (the token's) withdrawn: forgotten, and refused on its next request.
    let only_key_2 = json!({"keys": [keys().jwks["keys"][1].clone()]});
    g.set_keys(KeySet::from_jwks(&only_key_2).expect("jwks"));
    assert_eq!(g.cached_tokens(), 0);
    let d = g.check(&jwt, NOW, &role, None);
    assert!(!d.allowed && !d.cached && d.unknown_key, "{d:?}");
}

/// The JSON form of a decision carries only the claims the gate was asked for, as an
/// object in the order asked (what the wasm `Gateway` returns to JavaScript).
#[test]
fn gate_decision_json_carries_the_wanted_claims() {
    let jwt = sign(&vm_claims());
    let role = Role::from_json(&sp_role(json!({})), "r").expect("role");
    let v = Verifier::new(TENANT, Cloud::AzurePublicCloud, &settings_of(None), ARM_AUD)
        .expect("verifier");
    let wanted = vec![
        "resource_group".to_string(),
        "oid".to_string(),
        "absent".to_string(),
    ];
    let mut g = aadauth::Gate::new(
        v,
        KeySet::from_jwks(&keys().jwks).expect("jwks"),
        10,
        wanted,
    );
    let text = serde_json::to_string(&g.check(&jwt, NOW, &role, None)).expect("json");
    assert_eq!(
        text,
        format!(
            r#"{{"allowed":true,"status":200,"check":"","message":"","cached":false,"unknown_key":false,"claims":{{"resource_group":"rg-web","oid":"{VM_OID}"}}}}"#
        )
    );
    let refused = g.check("a.b.c", NOW, &role, None);
    let v: Value = serde_json::to_value(&refused).expect("json");
    assert_eq!(v["status"], 401);
    assert!(v.get("claims").is_none(), "{v}");
}
