//! Writes the test vectors (`tests/vectors/*.json`) and the demo scenario
//! (`demo/demo.json`), signing tokens with the demo keys in `demo/keys/` (test fixtures).
//!
//! Each vector is one `evaluate` input plus what Vault answers for it. The expectations
//! are written here by hand from `spec/vault-azure-login.md`, never computed by aadauth.
//! RSA PKCS#1 v1.5 signatures are deterministic, so the output is byte-stable:
//! `cargo run -p vectorgen -- --check` fails when the checked-in files are stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_764_500_000; // 2025-11-30 10:53:20 UTC
const TENANT: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
const OTHER_TENANT: &str = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a";
const SUB: &str = "8d2f4a1c-3b5e-4c6d-9e7f-a1b2c3d4e5f6";
const OTHER_SUB: &str = "1a2b3c4d-0000-4000-8000-00000000beef";
const RG: &str = "rg-web";
const VM: &str = "web-01";
const VM_OID: &str = "5b7e0c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d";
const VM_APPID: &str = "c0ffee00-1111-4222-8333-444455556666";
const UAI_RG: &str = "rg-identity";
const UAI: &str = "id-batch";
const UAI_OID: &str = "7a1c3e5f-9b2d-4f6a-8c0e-1d3f5a7b9c2e";
const UAI_APPID: &str = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6";
const VMSS: &str = "api-vmss";
const VMSS_OID: &str = "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a";
const FLEX: &str = "jobs";
const FLEX_INSTANCE: &str = "jobs_1a2b3c4d";
const FLEX_UAI: &str = "id-jobs";
const FLEX_UAI_OID: &str = "4d6f8b0a-2c4e-4b6d-8f0a-2c4e6b8d0f1a";
const FLEX_UAI_APPID: &str = "e5f6a7b8-c9d0-4e1f-9a2b-3c4d5e6f7a8b";
const APP: &str = "orders-app";
const APP_OID: &str = "9f1e3d5c-7b9a-4c2e-8d4f-6a8c0e2a4c6e";
const APP_APPID: &str = "f0e1d2c3-b4a5-4968-8776-655443322110";
const ARM_AUD: &str = "https://management.azure.com/";

struct Keys {
    k1: rsa::PrivateKey,
    k2: rsa::PrivateKey,
    weak: rsa::PrivateKey,
}

fn load_key(path: &Path) -> rsa::PrivateKey {
    let pem = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    rsa::PrivateKey::from_pkcs8_pem(&pem).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn jwk(key: &rsa::PrivateKey, kid: &str) -> Value {
    let public = key.to_public_key();
    json!({
        "kty": "RSA", "use": "sig", "kid": kid, "x5t": kid,
        "n": b64(&public.n_bytes()), "e": b64(&public.e_bytes()),
    })
}

fn sign_rs256(key: &rsa::PrivateKey, input: &str) -> String {
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone());
    b64(&signer.sign(input.as_bytes()).to_vec())
}

fn hmac_sha256(secret: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if secret.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(secret));
    } else {
        k[..secret.len()].copy_from_slice(secret);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::digest([ipad.as_slice(), msg].concat());
    Sha256::digest([opad.as_slice(), inner.as_slice()].concat()).to_vec()
}

#[derive(Clone, Copy, PartialEq)]
enum Signer_ {
    Key1,
    Key2,
    Weak,
    /// HS256 with the RSA public key (JWKS JSON of key 1) as the HMAC secret.
    HmacWithPublicKey,
    /// `alg: none`, empty signature.
    None,
}

#[derive(Clone)]
struct Scenario {
    header: Value,
    claims: Value,
    signer: Signer_,
    /// Replaces the signed token entirely (malformed tokens).
    jwt: Option<String>,
    /// Applied to the signed token (tampering).
    tamper: Option<fn(String) -> String>,
    config: Value,
    role: Value,
    login: Value,
    keys: Value,
    arm: Map<String, Value>,
    now: i64,
    extra: Map<String, Value>,
}

fn vm_path(sub: &str, rg: &str, vm: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}"
    )
}
fn vmss_path(sub: &str, rg: &str, vmss: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}")
}
fn uai_path(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
}
fn app_path(sub: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Web/sites/{name}")
}
/// The claim form of a path: `resourcegroups` in lower case, as Azure writes it.
fn claim_path(path: &str) -> String {
    path.replace("/resourceGroups/", "/resourcegroups/")
}

impl Scenario {
    /// A VM with a system-assigned identity logging in to role `web`.
    fn vm(keys: &Keys) -> Scenario {
        let iss = format!("https://sts.windows.net/{TENANT}/");
        let vm = vm_path(SUB, RG, VM);
        let mut arm = Map::new();
        arm.insert(
            vm.clone(),
            json!({
                "id": vm, "name": VM, "type": "Microsoft.Compute/virtualMachines", "location": "eastus",
                "identity": {"type": "SystemAssigned", "principalId": VM_OID, "tenantId": TENANT}
            }),
        );
        Scenario {
            header: json!({"typ": "JWT", "alg": "RS256", "x5t": "demo-key-1", "kid": "demo-key-1"}),
            claims: json!({
                "aud": ARM_AUD, "iss": iss, "iat": NOW - 600, "nbf": NOW - 600, "exp": NOW + 85_800,
                "aio": "k2BgYGj5dPqW9uq8vN0pZ2s4AA==", "appid": VM_APPID, "appidacr": "2", "idp": iss,
                "idtyp": "app", "oid": VM_OID, "rh": "1.AAAA0.demo-opaque.", "sub": VM_OID, "tid": TENANT,
                "uti": "Zm9vYmFyYmF6cXV4", "ver": "1.0", "xms_mirid": claim_path(&vm), "xms_tcdt": 1_600_000_000
            }),
            signer: Signer_::Key1,
            jwt: None,
            tamper: None,
            config: json!({"tenant_id": TENANT, "resource": ARM_AUD, "environment": "AzurePublicCloud"}),
            role: json!({
                "name": "web",
                "bound_service_principal_ids": [VM_OID],
                "bound_subscription_ids": [SUB],
                "bound_resource_groups": [RG],
                "bound_locations": ["eastus"],
                "token_policies": ["web-read"],
                "token_ttl": "1h",
                "token_max_ttl": "4h"
            }),
            login: json!({"role": "web", "subscription_id": SUB, "resource_group_name": RG, "vm_name": VM}),
            keys: json!({"keys": [jwk(&keys.k1, "demo-key-1"), jwk(&keys.k2, "demo-key-2")]}),
            arm,
            now: NOW,
            extra: Map::new(),
        }
    }

    /// A uniform scale set with a system-assigned identity.
    fn vmss(keys: &Keys) -> Scenario {
        let mut s = Scenario::vm(keys);
        let path = vmss_path(SUB, RG, VMSS);
        s.claims["oid"] = json!(VMSS_OID);
        s.claims["sub"] = json!(VMSS_OID);
        s.claims["appid"] = json!("aa11bb22-cc33-4d44-8e55-ff6677889900");
        s.claims["xms_mirid"] = json!(claim_path(&path));
        s.arm = Map::new();
        s.arm.insert(
            path.clone(),
            json!({"id": path, "name": VMSS, "location": "westeurope",
                   "identity": {"type": "SystemAssigned", "principalId": VMSS_OID, "tenantId": TENANT}}),
        );
        s.role = json!({
            "name": "api", "bound_service_principal_ids": [VMSS_OID], "bound_scale_sets": [VMSS],
            "bound_resource_groups": [RG], "token_policies": "api-read,api-write", "token_ttl": 1800
        });
        s.login = json!({"role": "api", "subscription_id": SUB, "resource_group_name": RG, "vmss_name": VMSS});
        s
    }

    fn build(&self, keys: &Keys) -> Value {
        let jwt = match &self.jwt {
            Some(j) => j.clone(),
            None => {
                let h = b64(self.header.to_string().as_bytes());
                let c = b64(self.claims.to_string().as_bytes());
                let input = format!("{h}.{c}");
                let sig = match self.signer {
                    Signer_::Key1 => sign_rs256(&keys.k1, &input),
                    Signer_::Key2 => sign_rs256(&keys.k2, &input),
                    Signer_::Weak => sign_rs256(&keys.weak, &input),
                    Signer_::HmacWithPublicKey => {
                        let secret = jwk(&keys.k1, "demo-key-1").to_string();
                        b64(&hmac_sha256(secret.as_bytes(), input.as_bytes()))
                    }
                    Signer_::None => String::new(),
                };
                let t = format!("{input}.{sig}");
                match self.tamper {
                    Some(f) => f(t),
                    None => t,
                }
            }
        };
        let mut login = self.login.clone();
        if let Value::Object(m) = &mut login {
            m.insert("jwt".into(), json!(jwt));
        }
        let mut input = json!({
            "config": self.config, "login": login, "keys": self.keys,
            "arm": Value::Object(self.arm.clone()), "now": self.now,
        });
        if !self.role.is_null() {
            input["role"] = self.role.clone();
        }
        for (k, v) in &self.extra {
            input[k] = v.clone();
        }
        input
    }
}

struct Case {
    name: &'static str,
    description: &'static str,
    scenario: Scenario,
    expect: Value,
}

fn allowed() -> Value {
    json!({"allowed": true, "status": 200, "error": null})
}
fn refused(status: u16, error: &str) -> Value {
    json!({"allowed": false, "status": status, "error": error})
}
fn refused_prefix(status: u16, prefix: &str) -> Value {
    json!({"allowed": false, "status": status, "error_prefix": prefix})
}
fn with(mut expect: Value, key: &str, v: Value) -> Value {
    expect[key] = v;
    expect
}

fn cases(k: &Keys) -> Vec<Case> {
    let mut out = Vec::new();
    let mut add =
        |name: &'static str, description: &'static str, scenario: Scenario, expect: Value| {
            out.push(Case {
                name,
                description,
                scenario,
                expect,
            });
        };
    let vm = Scenario::vm(k);
    let vm_arm = vm_path(SUB, RG, VM);

    // ---- Allowed logins ------------------------------------------------------------
    add(
        "allowed_vm_system_assigned",
        "A VM with a system-assigned identity logs in to a role bound to its principal id, subscription, resource group and location (§3.4 b, §4).",
        vm.clone(),
        with(
            with(allowed(), "auth", json!({
                "display_name": VM_OID, "policies": ["web-read"], "ttl": 3600, "max_ttl": 14400,
                "explicit_max_ttl": 0, "period": 0, "num_uses": 0, "no_default_policy": false,
                "token_type": "default-service", "renewable": true, "bound_cidrs": [],
                "metadata": {"role": "web", "resource_group_name": RG, "subscription_id": SUB, "vm_name": VM, "app_id": VM_APPID},
                "alias": {"name": VM_OID, "metadata": {"resource_group_name": RG, "subscription_id": SUB, "vm_name": VM, "app_id": VM_APPID}},
                "group_aliases": [], "internal_data": {"role": "web"}
            })),
            "arm_requests", json!([vm_arm]),
        ),
    );
    {
        let mut s = vm.clone();
        let uai = uai_path(SUB, UAI_RG, UAI);
        s.claims["oid"] = json!(UAI_OID);
        s.claims["sub"] = json!(UAI_OID);
        s.claims["appid"] = json!(UAI_APPID);
        s.claims["xms_mirid"] = json!(claim_path(&uai));
        s.claims["xms_az_rid"] = json!(claim_path(&vm_arm));
        s.arm.insert(vm_arm.clone(), json!({
            "id": vm_arm, "name": VM, "location": "eastus",
            "identity": {"type": "SystemAssigned, UserAssigned", "principalId": VM_OID, "tenantId": TENANT,
                "userAssignedIdentities": {uai.clone(): {"principalId": UAI_OID, "clientId": UAI_APPID}}}
        }));
        s.role["bound_service_principal_ids"] = json!([VM_OID, UAI_OID]);
        add("allowed_vm_user_assigned", "A VM's user-assigned identity: xms_mirid names the identity, xms_az_rid the VM; claim matching uses xms_az_rid (§3.4).", s, with(allowed(), "auth", json!({"display_name": UAI_OID, "metadata": {"app_id": UAI_APPID, "role": "web", "resource_group_name": RG, "subscription_id": SUB, "vm_name": VM}})));
    }
    let vmss = Scenario::vmss(k);
    add(
        "allowed_vmss_uniform",
        "A uniform scale set (xms_mirid names the scale set) logs in with vmss_name; bound_scale_sets matches (§3.4 a).",
        vmss.clone(),
        with(with(allowed(), "auth", json!({"policies": ["api-read", "api-write"], "ttl": 1800, "metadata": {"vmss_name": VMSS, "role": "api", "resource_group_name": RG, "subscription_id": SUB, "app_id": "aa11bb22-cc33-4d44-8e55-ff6677889900"}})), "checks", json!({"resource.claim_match": "pass", "bound.scale_set": "pass"})),
    );
    let flex = {
        let mut s = Scenario::vmss(k);
        let uai = uai_path(SUB, UAI_RG, FLEX_UAI);
        let instance = vm_path(SUB, RG, FLEX_INSTANCE);
        let path = vmss_path(SUB, RG, FLEX);
        s.claims["oid"] = json!(FLEX_UAI_OID);
        s.claims["sub"] = json!(FLEX_UAI_OID);
        s.claims["appid"] = json!(FLEX_UAI_APPID);
        s.claims["xms_mirid"] = json!(claim_path(&uai));
        s.claims["xms_az_rid"] = json!(claim_path(&instance));
        s.arm = Map::new();
        s.arm.insert(
            path.clone(),
            json!({"id": path, "name": FLEX, "location": "westeurope",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {uai.clone(): {}}}}),
        );
        s.arm.insert(uai.clone(), json!({"id": uai, "name": FLEX_UAI, "location": "westeurope",
            "properties": {"principalId": FLEX_UAI_OID, "clientId": FLEX_UAI_APPID, "tenantId": TENANT}}));
        s.role = json!({"name": "jobs", "bound_service_principal_ids": [FLEX_UAI_OID], "bound_scale_sets": [FLEX], "bound_locations": ["westeurope"], "token_policies": ["jobs"]});
        s.login = json!({"role": "jobs", "subscription_id": SUB, "resource_group_name": RG, "vmss_name": FLEX, "vm_name": FLEX_INSTANCE});
        s
    };
    add(
        "allowed_vmss_flexible_user_assigned",
        "A flexible scale-set instance ({vmss}_{hex}) with a user-assigned identity: the scale set lists it without principalId, so Vault reads the identity (§3.4 a).",
        flex.clone(),
        with(with(allowed(), "arm_requests", json!([vmss_path(SUB, RG, FLEX), uai_path(SUB, UAI_RG, FLEX_UAI)])), "checks", json!({"resource.user_assigned_identities": "pass"})),
    );
    let app = {
        let mut s = Scenario::vm(k);
        let path = app_path(SUB, RG, APP);
        s.claims["oid"] = json!(APP_OID);
        s.claims["sub"] = json!(APP_OID);
        s.claims["appid"] = json!(APP_APPID);
        s.claims["xms_mirid"] = json!(claim_path(&path));
        s.arm = Map::new();
        s.arm.insert(
            path.clone(),
            json!({"id": path, "name": APP, "location": "eastus", "kind": "app",
            "identity": {"type": "SystemAssigned", "principalId": APP_OID, "tenantId": TENANT}}),
        );
        s.role = json!({"name": "orders", "bound_service_principal_ids": APP_OID, "bound_subscription_ids": SUB, "token_policies": "orders"});
        s.login = json!({"role": "orders", "subscription_id": SUB, "resource_group_name": RG, "resource_id": path});
        s
    };
    add(
        "allowed_resource_id_app_service",
        "An App Service app logs in with resource_id; Vault reads the resource by id (§3.4 c).",
        app.clone(),
        with(
            allowed(),
            "auth",
            json!({"metadata": {"resource_id": app_path(SUB, RG, APP), "role": "orders", "resource_group_name": RG, "subscription_id": SUB, "app_id": APP_APPID}}),
        ),
    );
    {
        let mut s = vm.clone();
        s.role = json!({"name": "web", "bound_service_principal_ids": [VM_OID], "token_policies": "web-read"});
        s.login =
            json!({"role": "web", "vm_name": "not-this-vm", "resource_group_name": "anything"});
        s.arm = Map::new();
        add("allowed_no_resource_bindings", "A role without resource bindings skips §3.4 entirely: login fields are not checked, but still appear in the metadata.", s, with(with(allowed(), "checks", json!({"resource.required_fields": "skip", "resource.claim_match": "skip", "bound.location": "skip"})), "auth", json!({"metadata": {"vm_name": "not-this-vm", "resource_group_name": "anything", "subscription_id": "", "role": "web", "app_id": VM_APPID}})));
    }
    {
        let mut s = vm.clone();
        s.login["role"] = json!("WEB");
        add("role_name_case_insensitive", "Role names are case-insensitive (stored lower-case); the login's spelling is kept in metadata (§2, §4).", s, with(allowed(), "auth", json!({"metadata": {"role": "WEB"}, "internal_data": {"role": "WEB"}})));
    }
    {
        let mut s = vm.clone();
        s.role = json!({"request_id": "8c1f", "lease_id": "", "renewable": false, "lease_duration": 0, "data": {
            "bound_group_ids": [], "bound_locations": ["eastus"], "bound_resource_groups": [RG], "bound_scale_sets": [],
            "bound_service_principal_ids": [VM_OID], "bound_subscription_ids": [SUB], "max_ttl": 14400, "num_uses": 0,
            "period": 0, "policies": ["web-read"], "token_bound_cidrs": [], "token_explicit_max_ttl": 0, "token_max_ttl": 14400,
            "token_no_default_policy": false, "token_num_uses": 0, "token_period": 0, "token_policies": ["web-read"],
            "token_ttl": 3600, "token_type": "default-service", "ttl": 3600}, "warnings": null});
        add("role_from_vault_read_output", "The role pasted as `vault read -format=json auth/azure/role/web` output (fields under data) is accepted (§2).", s, with(allowed(), "auth", json!({"ttl": 3600, "max_ttl": 14400, "policies": ["web-read"]})));
    }
    {
        let mut s = vm.clone();
        s.config = json!({"request_id": "x", "data": {"tenant_id": TENANT, "resource": ARM_AUD, "environment": "azurepubliccloud", "client_id": "", "max_retries": 3, "max_retry_delay": 60, "retry_delay": 4, "root_password_ttl": 15768000}});
        s.role = json!({"name": "web", "bound_service_principal_ids": VM_OID, "bound_resource_groups": " rg-web , rg-other", "bound_subscription_ids": SUB, "token_policies": "web-read, audit", "token_ttl": "1h30m"});
        add("comma_strings_and_config_read_output", "Comma-separated binding strings are trimmed; durations such as \"1h30m\" are parsed; the config may be `vault read` output with a lower-case environment (§1, §2).", s, with(allowed(), "auth", json!({"policies": ["web-read", "audit"], "ttl": 5400})));
    }
    {
        let mut s = vm.clone();
        s.claims["exp"] = json!(NOW);
        add("exp_equal_now_is_valid", "A token whose exp equals now is still valid: go-oidc refuses only when exp is strictly before now (§3.2 step 6).", s, allowed());
    }
    {
        let mut s = vm.clone();
        s.claims["nbf"] = json!(NOW);
        add(
            "nbf_equal_now_is_valid",
            "nbf equal to now passes the plugin's zero-leeway check (§3.3 step 1).",
            s,
            allowed(),
        );
    }
    {
        let mut s = vm.clone();
        s.header = json!({"typ": "JWT", "alg": "RS256"});
        s.signer = Signer_::Key2;
        add("no_kid_tries_every_key", "A token without kid is checked against every key of the set, as go-oidc does (§3.2 step 10).", s, with(allowed(), "checks", json!({"token.signature": "pass"})));
    }
    {
        let mut s = vm.clone();
        s.role["bound_service_principal_ids"] = json!([VM_OID.to_uppercase()]);
        s.role["bound_resource_groups"] = json!(["RG-WEB"]);
        s.role["bound_locations"] = json!(["EastUS"]);
        s.role["bound_subscription_ids"] = json!([SUB.to_uppercase()]);
        add(
            "binding_lists_are_case_insensitive",
            "Every binding list is compared case-insensitively (§2).",
            s,
            allowed(),
        );
    }
    {
        let mut s = vm.clone();
        s.role["bound_service_principal_ids"] = json!(["*"]);
        add("sp_wildcard_with_resource_bindings", "bound_service_principal_ids \"*\" with empty groups passes the specificity rule; resource checks still apply (§3.3 steps 2–3).", s, with(allowed(), "checks", json!({"bindings.service_principal": "skip", "bindings.specific": "pass"})));
    }
    {
        let mut s = vm.clone();
        s.claims["groups"] = json!([
            "11111111-2222-4333-8444-555555555555",
            "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
        ]);
        s.role["bound_group_ids"] = json!(["AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"]);
        add("groups_allowed_with_group_aliases", "When both lists are specific both must pass; group membership is case-insensitive and every group becomes a group alias (§3.3 step 4, §4).", s, with(allowed(), "auth", json!({"group_aliases": [{"name": "11111111-2222-4333-8444-555555555555"}, {"name": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}]})));
    }
    {
        let mut s = vm.clone();
        s.role["token_bound_cidrs"] = json!(["10.0.0.0/24"]);
        s.extra.insert("remote_addr".into(), json!("10.0.0.4"));
        add(
            "bound_cidrs_inside",
            "A caller inside token_bound_cidrs passes (§3.1 step 4).",
            s,
            with(allowed(), "auth", json!({"bound_cidrs": ["10.0.0.0/24"]})),
        );
    }
    {
        let mut s = vm.clone();
        s.header = json!({"typ": "JWT", "alg": "RS256", "kid": "demo-key-2", "x5t": "demo-key-2"});
        s.signer = Signer_::Key2;
        add(
            "second_key_of_the_set",
            "The token names the set's second key by kid (key rotation) and verifies with it.",
            s,
            allowed(),
        );
    }
    {
        let mut s = vm.clone();
        let china_iss = format!("https://sts.chinacloudapi.cn/{TENANT}/");
        s.claims["iss"] = json!(china_iss);
        s.claims["idp"] = json!(china_iss);
        s.claims["aud"] = json!("https://management.chinacloudapi.cn/");
        s.config = json!({"tenant_id": TENANT, "resource": "https://management.chinacloudapi.cn/", "environment": "AzureChinaCloud"});
        s.arm.insert(vm_arm.clone(), json!({"id": vm_arm, "name": VM, "location": "chinaeast2", "identity": {"principalId": VM_OID}}));
        s.role["bound_locations"] = json!(["chinaeast2"]);
        add(
            "china_cloud_issuer",
            "AzureChinaCloud expects the sts.chinacloudapi.cn issuer (§1).",
            s,
            allowed(),
        );
    }
    {
        let mut s = vm.clone();
        let vm10 = vm_path(SUB, RG, "web-010");
        s.claims["xms_mirid"] = json!(claim_path(&vm10));
        add("vm_name_substring_quirk", "Vault's claim matching has no delimiter: vm_name web-01 matches a token issued to web-010 (reproduced, and flagged in the check detail).", s, with(allowed(), "checks", json!({"resource.claim_match": "pass"})));
    }
    {
        let mut s = vm.clone();
        s.login["subscription_id"] = json!(OTHER_SUB);
        let other = vm_path(OTHER_SUB, RG, VM);
        s.arm.insert(other.clone(), json!({"id": other, "name": VM, "location": "eastus", "identity": {"principalId": VM_OID}}));
        s.role["bound_subscription_ids"] = json!([OTHER_SUB]);
        add("subscription_never_compared_with_token", "subscription_id is never compared with the token's claims: a token naming another subscription passes when ARM facts agree (§5).", s, allowed());
    }
    {
        let mut s = vm.clone();
        s.claims["oid"] = json!(UAI_OID);
        s.claims["appid"] = json!(UAI_APPID);
        let list = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities");
        s.arm.insert(list, json!({"value": [{"id": uai_path(SUB, RG, UAI), "name": UAI, "properties": {"principalId": UAI_OID, "clientId": UAI_APPID}}]}));
        s.role["bound_service_principal_ids"] = json!([UAI_OID]);
        s.role["bound_resource_groups"] = json!(["some-other-rg"]);
        add("app_id_match_skips_resource_group_bound", "When oid is not one of the VM's identities, Vault lists user-assigned identities in the login's and the bound resource groups; an appid equal to a clientId matches, and bound_resource_groups is then skipped (§3.4 steps 4, 6).", s, with(allowed(), "checks", json!({"resource.identity_match": "pass", "bound.resource_group": "skip"})));
    }
    {
        let mut s = vm.clone();
        s.extra.insert("skip_signature".into(), json!(true));
        s.keys = json!({"keys": []});
        add(
            "decode_only_mode",
            "skip_signature: the signature check is skipped and the output is marked decode_only.",
            s,
            with(
                with(allowed(), "checks", json!({"token.signature": "skip"})),
                "decode_only",
                json!(true),
            ),
        );
    }

    // ---- §3.1 request checks ---------------------------------------------------------
    {
        let mut s = vm.clone();
        s.jwt = Some(String::new());
        add(
            "jwt_required",
            "An empty jwt → 400 `jwt is required` (§3.1 step 1).",
            s,
            with(
                refused(400, "jwt is required"),
                "checks",
                json!({"request.jwt": "fail", "request.role": "not_reached"}),
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.login["role"] = json!("");
        add(
            "role_required",
            "An empty role → 400 (§3.1 step 2).",
            s,
            with(
                refused(400, "role is required"),
                "checks",
                json!({"request.role": "fail"}),
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.login["role"] = json!("web-prod");
        add(
            "invalid_role_name",
            "A role that does not exist → 400 `invalid role name` with Go's %q (§3.1 step 3).",
            s,
            refused(400, "invalid role name \"web-prod\""),
        );
    }
    {
        let mut s = vm.clone();
        s.role = Value::Null;
        s.extra.insert(
            "roles".into(),
            json!({"api": {"bound_service_principal_ids": "x"}, "web": Scenario::vm(k).role}),
        );
        add(
            "roles_map_lookup",
            "`roles` may hold several roles; the login's role is looked up by name.",
            s,
            allowed(),
        );
    }
    {
        let mut s = vm.clone();
        s.role = json!({"name": "web", "token_policies": "web-read"});
        add(
            "role_write_refused_no_bindings",
            "A role with no binding at all cannot be written (400) (§2).",
            s,
            refused(
                400,
                "must have at least one bound constraint when creating/updating a role",
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.role["token_ttl"] = json!("5h");
        add(
            "role_write_refused_ttl_over_max",
            "token_ttl above token_max_ttl is refused at write time (§2).",
            s,
            refused(400, "'token_ttl' cannot be greater than 'token_max_ttl'"),
        );
    }
    {
        let mut s = vm.clone();
        s.role["token_num_uses"] = json!(-1);
        add(
            "role_write_refused_negative_num_uses",
            "Negative token_num_uses is refused at write time (§2).",
            s,
            refused(400, "token num uses cannot be negative"),
        );
    }
    {
        let mut s = vm.clone();
        s.role["token_type"] = json!("services");
        add(
            "role_write_refused_token_type",
            "An unknown token_type is refused at write time (§2).",
            s,
            refused(400, "invalid 'token_type' value \"services\""),
        );
    }
    {
        let mut s = vm.clone();
        s.role["token_bound_cidrs"] = json!("10.0.0.0/24");
        add(
            "bound_cidrs_without_remote_addr",
            "token_bound_cidrs with no known caller address → 403 permission denied (§3.1 step 4).",
            s,
            refused(403, "permission denied"),
        );
    }
    {
        let mut s = vm.clone();
        s.role["token_bound_cidrs"] = json!("10.0.0.0/24");
        s.extra.insert("remote_addr".into(), json!("192.168.1.7"));
        add(
            "bound_cidrs_outside",
            "A caller outside token_bound_cidrs → 403 (§3.1 step 4).",
            s,
            with(
                refused(403, "permission denied"),
                "checks",
                json!({"role.bound_cidrs": "fail"}),
            ),
        );
    }
    for (name, desc, field, value, error) in [
        ("invalid_subscription_id", "subscription_id must be a GUID (§3.1 step 5).", "subscription_id", "my-subscription", "invalid subscription id \"my-subscription\""),
        ("invalid_resource_group_trailing_dot", "A resource group name may not end with '.' (§3.1 step 5).", "resource_group_name", "rg-web.", "invalid resource group name \"rg-web.\""),
        ("invalid_vmss_name", "vmss_name must start with a letter (§3.1 step 5).", "vmss_name", "-api", "invalid vmss_name \"-api\""),
        ("invalid_vm_name_leading_digit", "A vm_name starting with a digit is refused: Vault's known quirk, reproduced (§3.1 step 5).", "vm_name", "01-web", "invalid vm name \"01-web\""),
    ] {
        let mut s = vm.clone();
        s.login[field] = json!(value);
        add(name, desc, s, refused(400, error));
    }
    {
        let mut s = vm.clone();
        s.login["resource_group_name"] = json!("ресурсы-1");
        s.arm.insert(
            vm_path(SUB, "ресурсы-1", VM),
            json!({"location": "eastus", "identity": {"principalId": VM_OID}}),
        );
        add("resource_group_unicode_is_well_formed", "Unicode letters are allowed in resource group names (\\pL\\pN); the login then fails later on the claim (§3.1 step 5).", s, with(refused(500, "xms_mirid token claim does not match resource_group_name ресурсы-1"), "checks", json!({"request.resource_group_name": "pass"})));
    }

    // ---- config (500 at login) ------------------------------------------------------
    {
        let mut s = vm.clone();
        s.config = json!({"resource": ARM_AUD});
        add(
            "config_tenant_required",
            "A config without tenant_id fails every login with 500 (§1).",
            s,
            refused(500, "tenant_id is required"),
        );
    }
    {
        let mut s = vm.clone();
        s.config = json!({"tenant_id": TENANT});
        add(
            "config_resource_required",
            "A config without resource fails every login with 500 (§1).",
            s,
            refused(500, "resource is required"),
        );
    }
    {
        let mut s = vm.clone();
        s.config["environment"] = json!("AzureGermanCloud");
        add(
            "config_environment_unknown",
            "AzureGermanCloud (and any unknown name) is refused with the name upper-cased (§1).",
            s,
            refused(
                500,
                "err: no cloud configuration matching the name \"AZUREGERMANCLOUD\"",
            ),
        );
    }

    // ---- §3.2 token verification ------------------------------------------------------
    {
        let mut s = vm.clone();
        s.jwt = Some("not-a-jwt".into());
        add(
            "token_one_part",
            "A token without dots → malformed (§3.2 step 1).",
            s,
            with(
                refused(
                    500,
                    "oidc: malformed jwt: oidc: malformed jwt, expected 3 parts got 1",
                ),
                "checks",
                json!({"token.format": "fail", "token.signature": "not_reached"}),
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.jwt = Some("eyJhbGciOiJSUzI1NiJ9.eyJ!.c2ln".into());
        add("token_payload_not_base64url", "A payload that is not base64url → Go's CorruptInputError offset (§3.2 step 1).", s, refused(500, "oidc: malformed jwt: oidc: malformed jwt payload: illegal base64 data at input byte 3"));
    }
    {
        let mut s = vm.clone();
        s.jwt = Some(format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", b64(b"[1,2]")));
        add("token_payload_not_object", "A payload that is a JSON array → unmarshal error (§3.2 step 2).", s, refused(500, "oidc: failed to unmarshal claims: json: cannot unmarshal array into Go value of type oidc.idToken"));
    }
    {
        let mut s = vm.clone();
        s.claims["iss"] = json!(42);
        add("token_iss_not_string", "A number where go-oidc expects a string → unmarshal error (§3.2 step 2).", s, refused(500, "oidc: failed to unmarshal claims: json: cannot unmarshal number into Go struct field idToken.iss of type string"));
    }
    {
        let mut s = vm.clone();
        s.claims["_claim_names"] = json!({"groups": "src1"});
        s.claims["_claim_sources"] =
            json!({"src2": {"endpoint": "https://graph.windows.net/x/users/y/getMemberObjects"}});
        add(
            "distributed_claim_source_missing",
            "A _claim_names entry whose source is not in _claim_sources (§3.2 step 3).",
            s,
            refused(500, "oidc: source does not exist"),
        );
    }
    {
        let mut s = vm.clone();
        s.claims["iss"] = json!(format!("https://login.microsoftonline.com/{TENANT}/v2.0"));
        add("issuer_v2_refused", "v2.0 tokens are always refused by issuer (§1, §5); the hint says so.", s, with(with(refused(500, &format!("oidc: id token issued by a different provider, expected \"https://sts.windows.net/{TENANT}/\" got \"https://login.microsoftonline.com/{TENANT}/v2.0\"")), "checks", json!({"token.issuer": "fail"})), "hint_contains", json!({"token.issuer": "v2.0"})));
    }
    {
        let mut s = vm.clone();
        s.claims["iss"] = json!(format!("https://sts.windows.net/{OTHER_TENANT}/"));
        add("issuer_other_tenant", "A token from another tenant fails the issuer check (§3.2 step 4).", s, with(refused(500, &format!("oidc: id token issued by a different provider, expected \"https://sts.windows.net/{TENANT}/\" got \"https://sts.windows.net/{OTHER_TENANT}/\"")), "hint_contains", json!({"token.issuer": OTHER_TENANT})));
    }
    {
        let mut s = vm.clone();
        s.config["resource"] = json!("https://management.azure.com");
        add("audience_trailing_slash", "The most common failure: config.resource without the token's trailing slash; compared exactly (§1, §5).", s, with(with(refused(500, "oidc: expected audience \"https://management.azure.com\" got [\"https://management.azure.com/\"]"), "checks", json!({"token.audience": "fail", "token.expiry": "not_reached"})), "hint_contains", json!({"token.audience": "trailing slash"})));
    }
    {
        let mut s = vm.clone();
        s.claims["aud"] = json!(["api://orders", "https://vault.azure.net"]);
        add("audience_list_mismatch", "aud as a list; the message is Go's %q of a string list (§3.2 step 5).", s, refused(500, "oidc: expected audience \"https://management.azure.com/\" got [\"api://orders\" \"https://vault.azure.net\"]"));
    }
    {
        let mut s = vm.clone();
        s.claims["exp"] = json!(NOW - 3600);
        add(
            "token_expired",
            "exp before now → expired, with Go's time format (§3.2 step 6).",
            s,
            with(
                with(
                    refused(
                        500,
                        "oidc: token is expired (Token Expiry: 2025-11-30 09:53:20 +0000 UTC)",
                    ),
                    "checks",
                    json!({"token.expiry": "fail", "token.signature": "not_reached"}),
                ),
                "hint_contains",
                json!({"token.expiry": "fresh token"}),
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.claims.as_object_mut().map(|m| m.remove("exp"));
        add(
            "token_without_exp",
            "A token without exp counts as expired at 0001-01-01 (§3.2 step 6).",
            s,
            refused(
                500,
                "oidc: token is expired (Token Expiry: 0001-01-01 00:00:00 +0000 UTC)",
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.claims["exp"] = json!((NOW + 3600).to_string());
        add(
            "exp_as_numeric_string",
            "go-oidc's jsonTime accepts a numeric string (Go's json.Number); aadauth deliberately refuses it, as other JWT libraries do (SECURITY.md).",
            s,
            refused(500, &format!("oidc: failed to unmarshal claims: json: cannot unmarshal string \"{}\" into a NumericDate: aadauth accepts JSON numbers only", NOW + 3600)),
        );
    }
    {
        let mut s = vm.clone();
        s.claims["nbf"] = json!(NOW + 600);
        add("nbf_beyond_leeway", "nbf more than 5 minutes ahead fails go-oidc's check (§3.2 step 7).", s, refused(500, "oidc: current time 2025-11-30 10:53:20 +0000 UTC before the nbf (not before) time: 2025-11-30 11:03:20 +0000 UTC"));
    }
    {
        let mut s = vm.clone();
        s.claims["nbf"] = json!(NOW + 120);
        add("nbf_within_leeway_fails_plugin_check", "nbf 2 minutes ahead passes go-oidc's 5-minute leeway, then fails the plugin's own zero-leeway check (§3.3 step 1).", s, with(refused(500, "token is not yet valid (Token Not Before: 2025-11-30 10:55:20 +0000 UTC)"), "checks", json!({"token.not_before": "pass", "claims.not_before": "fail"})));
    }
    {
        let mut s = vm.clone();
        s.header = json!({"typ": "JWT", "alg": "HS256", "kid": "demo-key-1"});
        s.signer = Signer_::HmacWithPublicKey;
        add("alg_hs256_with_public_key_secret", "HS256 signed with the RSA public key as the secret (key confusion) is refused by algorithm (§3.2 step 8).", s, refused(500, "oidc: malformed jwt: go-jose/go-jose: unexpected signature algorithm \"HS256\"; expected [\"RS256\"]"));
    }
    {
        let mut s = vm.clone();
        s.header = json!({"typ": "JWT", "alg": "none"});
        s.signer = Signer_::None;
        add("alg_none", "alg none is refused by algorithm (§3.2 step 8).", s, refused(500, "oidc: malformed jwt: go-jose/go-jose: unexpected signature algorithm \"none\"; expected [\"RS256\"]"));
    }
    {
        let mut s = vm.clone();
        s.tamper = Some(|t| t.rsplit_once('.').map(|(a, _)| a.to_string()).unwrap_or(t));
        add("two_part_token", "A token with two parts passes step 1 and fails in go-jose (§3.2 step 8).", s, with(refused(500, "oidc: malformed jwt: go-jose/go-jose: compact JWS format must have three parts"), "checks", json!({"token.format": "pass", "token.algorithm": "fail"})));
    }
    {
        let mut s = vm.clone();
        s.tamper = Some(|t| {
            // Re-encode the payload with another oid, keeping the original signature.
            let parts: Vec<&str> = t.split('.').collect();
            let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[1])
                .unwrap_or_default();
            let forged = String::from_utf8_lossy(&payload).replace("5b7e0c1a", "5b7e0c1b");
            format!("{}.{}.{}", parts[0], b64(forged.as_bytes()), parts[2])
        });
        s.role["bound_service_principal_ids"] =
            json!([VM_OID, "5b7e0c1b-2d3f-4a5b-8c6d-7e8f9a0b1c2d"]);
        add(
            "signature_tampered_payload",
            "A payload altered after signing fails the signature (§3.2 step 10).",
            s,
            with(
                refused(
                    500,
                    "failed to verify signature: failed to verify id token signature",
                ),
                "checks",
                json!({"token.signature": "fail", "claims.read": "not_reached"}),
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.tamper = Some(|t| {
            let (head, sig) = t.rsplit_once('.').unwrap_or((&t, ""));
            let mut bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(sig)
                .unwrap_or_default();
            if let Some(b) = bytes.get_mut(100) {
                *b ^= 0x01;
            }
            format!("{head}.{}", b64(&bytes))
        });
        add(
            "signature_bit_flipped",
            "One flipped bit in the signature fails verification (§3.2 step 10).",
            s,
            refused(
                500,
                "failed to verify signature: failed to verify id token signature",
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.header =
            json!({"typ": "JWT", "alg": "RS256", "kid": "rotated-key-9", "x5t": "rotated-key-9"});
        add("kid_not_in_key_set", "A kid the key set does not hold: only keys with that kid are tried, so none verifies (§3.2 step 10).", s, with(refused(500, "failed to verify signature: failed to verify id token signature"), "hint_contains", json!({"token.signature": "key set does not hold"})));
    }
    {
        let mut s = vm.clone();
        s.header = json!({"typ": "JWT", "alg": "RS256", "kid": "demo-weak-1024"});
        s.signer = Signer_::Weak;
        s.keys = json!({"keys": [jwk(&k.weak, "demo-weak-1024"), jwk(&k.k1, "demo-key-1")]});
        add("rsa_key_under_2048_bits_never_used", "A token signed by a 1024-bit key fails: aadauth never uses RSA keys under 2048 bits (stricter than Vault), and says so.", s, with(refused(500, "failed to verify signature: failed to verify id token signature"), "checks", json!({"token.signature": "fail"})));
    }
    {
        let mut s = vm.clone();
        s.keys = json!({"keys": "not-a-list"});
        add("key_set_not_a_jwks", "A key endpoint answering something that is not a JWKS: Vault's key fetch error (§3.2 step 10).", s, refused_prefix(500, "failed to verify signature: fetching keys oidc: failed to decode keys: "));
    }
    {
        let mut s = vm.clone();
        s.keys = json!({"keys": []});
        add(
            "empty_key_set",
            "An empty key set: nothing can verify (§3.2 step 10).",
            s,
            with(
                refused(
                    500,
                    "failed to verify signature: failed to verify id token signature",
                ),
                "hint_contains",
                json!({"token.signature": "key set"}),
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.jwt = Some(format!("{}.e30.c2ln", "A".repeat(70_000)));
        add(
            "token_too_large",
            "Tokens over 64 KiB are refused before parsing (aadauth's limit; Vault has none).",
            s,
            refused_prefix(400, "jwt is too large: "),
        );
    }

    // ---- §3.3 claim checks -------------------------------------------------------------
    {
        let mut s = vm.clone();
        s.claims["groups"] = json!("not-a-list");
        add("groups_claim_not_a_list", "groups must be a list of strings (§3.3).", s, refused(500, "json: cannot unmarshal string into Go struct field additionalClaims.groups of type []string"));
    }
    {
        let mut s = vm.clone();
        s.role["bound_service_principal_ids"] = json!([]);
        add("sp_and_groups_both_empty", "Both principal and group lists empty: the role can be written but never logs in (§3.3 step 2).", s, refused(500, "expected specific bound_group_ids or bound_service_principal_ids; both cannot be empty or '*'"));
    }
    {
        let mut s = vm.clone();
        s.role["bound_service_principal_ids"] = json!("*");
        s.role["bound_group_ids"] = json!(["*"]);
        add("sp_and_groups_both_wildcard", "Both lists exactly \"*\" are refused (§3.3 step 2).", s, refused(500, "expected specific bound_group_ids or bound_service_principal_ids; both cannot be empty or '*'"));
    }
    {
        let mut s = vm.clone();
        s.role["bound_service_principal_ids"] = json!([VM_APPID]);
        add("sp_listed_by_app_id", "The client (app) id listed where the object id belongs: refused, and the hint says so (§5).", s, with(refused(500, &format!("service principal not authorized: {VM_OID}")), "hint_contains", json!({"bindings.service_principal": "appid"})));
    }
    {
        let mut s = vm.clone();
        s.role["bound_service_principal_ids"] = json!([]);
        s.role["bound_group_ids"] = json!(["11111111-2222-4333-8444-555555555555"]);
        add("groups_missing_from_managed_identity_token", "A role bound only to groups: managed-identity tokens carry no groups claim → `groups not authorized: []` (§3.3 step 4, §5).", s, with(refused(500, "groups not authorized: []"), "hint_contains", json!({"bindings.groups": "carry no groups"})));
    }
    {
        let mut s = vm.clone();
        s.role["bound_group_ids"] = json!(["11111111-2222-4333-8444-555555555555"]);
        s.claims["groups"] = json!(["22222222-2222-4333-8444-555555555555"]);
        add("groups_and_sp_both_must_pass", "When both lists are specific, both checks must pass: oid passes, groups fail (§3.3 step 4).", s, with(refused(500, "groups not authorized: [22222222-2222-4333-8444-555555555555]"), "checks", json!({"bindings.service_principal": "pass", "bindings.groups": "fail"})));
    }
    {
        let mut s = vm.clone();
        s.role["bound_service_principal_ids"] = json!([]);
        s.role["bound_group_ids"] = json!(["11111111-2222-4333-8444-555555555555"]);
        s.claims["_claim_names"] = json!({"groups": "src1"});
        s.claims["_claim_sources"] = json!({"src1": {"endpoint": "https://graph.windows.net/tenant/users/oid/getMemberObjects"}});
        add("groups_overage_not_resolved", "A groups-overage token passes go-oidc's distributed-claims check but Vault does not resolve it (§3.3 step 4).", s, with(with(refused(500, "groups not authorized: []"), "checks", json!({"token.distributed_claims": "pass"})), "hint_contains", json!({"bindings.groups": "overage"})));
    }

    // ---- §3.4 resource checks ----------------------------------------------------------
    {
        let mut s = vm.clone();
        s.login["resource_group_name"] = json!("");
        add("subscription_and_resource_group_required", "With resource bindings, subscription_id and resource_group_name are required (§3.4 step 1).", s, refused(500, "subscription_id and resource_group_name are required"));
    }
    {
        let mut s = vm.clone();
        s.login = json!({"role": "web", "subscription_id": SUB, "resource_group_name": RG});
        s.claims.as_object_mut().map(|m| m.remove("appid"));
        add(
            "no_vm_no_appid",
            "No vm_name, vmss_name or resource_id, and no appid claim (§3.4 d).",
            s,
            refused(
                500,
                "one of vm_name, vmss_name, resource_id, or an appid JWT claim must be provided",
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.login = json!({"role": "web", "subscription_id": SUB, "resource_group_name": RG});
        add("appid_branch_always_fails_resource_group", "With an appid but no vm/vmss/resource_id, the resource-group step always fails (§3.4 d, step 3).", s, refused(500, "provided resource_id does not match resource_group_name"));
    }
    {
        let mut s = vm.clone();
        s.claims.as_object_mut().map(|m| m.remove("xms_mirid"));
        s.claims["aud"] = json!("api://orders-api");
        s.config["resource"] = json!("api://orders-api");
        add("custom_audience_has_no_xms_mirid", "A custom audience gets no xms_mirid / xms_az_rid, so every resource-bound role fails (§5).", s, with(refused(500, "xms_az_rid and xms_mirid claims are missing from token"), "hint_contains", json!({"resource.claim_match": "first-party"})));
    }
    {
        let mut s = vm.clone();
        s.login["vm_name"] = json!("web-02");
        add(
            "vm_claim_mismatch",
            "vm_name must appear in xms_mirid (§3.4 b).",
            s,
            refused(500, "xms_mirid token claim does not match vm_name web-02"),
        );
    }
    {
        let mut s = vm.clone();
        s.claims["xms_az_rid"] = json!(claim_path(&vm_path(SUB, RG, "web-03")));
        s.claims["xms_mirid"] = json!(claim_path(&uai_path(SUB, UAI_RG, UAI)));
        add("vm_claim_mismatch_both_claims", "With xms_az_rid present the message lists both claims, one per line (§3.4).", s, refused(500, "xms_az_rid token claim does not match vm_name web-01\nxms_mirid token claim does not match vm_name web-01"));
    }
    {
        let mut s = vm.clone();
        s.login["resource_group_name"] = json!("rg-api");
        s.arm.insert(
            vm_path(SUB, "rg-api", VM),
            json!({"location": "eastus", "identity": {"principalId": VM_OID}}),
        );
        add(
            "resource_group_claim_mismatch",
            "The login's resource group must appear in the claim (§3.4 step 3).",
            s,
            with(
                refused(
                    500,
                    "xms_mirid token claim does not match resource_group_name rg-api",
                ),
                "checks",
                json!({"resource.resource_group_match": "fail"}),
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.login["resource_group_name"] = json!("rg");
        s.role["bound_resource_groups"] = json!(["rg"]);
        s.arm.insert(
            vm_path(SUB, "rg", VM),
            json!({"location": "eastus", "identity": {"principalId": VM_OID}}),
        );
        add("resource_group_substring_quirk", "`/resourcegroups/rg` is a substring of `/resourcegroups/rg-web`: Vault accepts (quirk reproduced) (§5).", s, with(allowed(), "checks", json!({"resource.resource_group_match": "pass"})));
    }
    {
        let mut s = Scenario::vmss(k);
        s.login["vmss_name"] = json!("other-vmss");
        add("vmss_claim_mismatch", "A scale set not named in the token: flexible and uniform messages joined by a newline (§3.4 a).", s, refused(500, "failed to verify flexible vmss claim: xms_mirid token claim does not match vmss_name other-vmss\nfailed to verify uniform vmss claim: xms_mirid token claim does not match vmss_name other-vmss"));
    }
    {
        let mut s = vm.clone();
        s.arm = Map::new();
        add("vm_not_found_in_arm", "ARM answers 404 for the VM (§3.4 b).", s, with(refused_prefix(500, &format!("unable to retrieve virtual machine metadata: GET https://management.azure.com{vm_arm}\n")), "checks", json!({"resource.arm_read": "fail"})));
    }
    {
        let mut s = vm.clone();
        s.arm.insert(vm_arm.clone(), json!({"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to perform action 'Microsoft.Compute/virtualMachines/read'."}, "status": 403}));
        add(
            "arm_authorization_failed",
            "ARM refuses Vault's credentials: Vault's message prefix with Azure's error (§3.4 b).",
            s,
            refused_prefix(
                500,
                "unable to retrieve virtual machine metadata: GET https://management.azure.com",
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.arm
            .insert(vm_arm.clone(), json!({"id": vm_arm, "location": "eastus"}));
        add(
            "vm_without_identity",
            "A VM without a managed identity (§3.4 b).",
            s,
            refused(500, "vm client did not return identity information"),
        );
    }
    {
        let mut s = vm.clone();
        s.role["bound_scale_sets"] = json!([VMSS]);
        add(
            "vm_login_with_bound_scale_sets",
            "A VM login to a role with bound_scale_sets (§3.4 b).",
            s,
            refused(
                500,
                "bound scale set defined but this vm isn't in a scale set",
            ),
        );
    }
    {
        let mut s = Scenario::vmss(k);
        s.role["bound_scale_sets"] = json!(["other-vmss"]);
        add(
            "scale_set_not_authorized",
            "A scale set outside bound_scale_sets (§3.4 a).",
            s,
            refused(500, "scale set not authorized"),
        );
    }
    {
        let mut s = Scenario::vmss(k);
        let p = vmss_path(SUB, RG, VMSS);
        s.arm
            .insert(p.clone(), json!({"id": p, "location": "westeurope"}));
        add(
            "vmss_without_identity",
            "A scale set without identity (§3.4 a).",
            s,
            refused(500, "vmss client did not return identity information"),
        );
    }
    {
        let mut s = flex.clone();
        s.arm.remove(&uai_path(SUB, UAI_RG, FLEX_UAI));
        add("vmss_flexible_identity_not_found", "The user-assigned identity of a flexible scale set cannot be read (§3.4 a).", s, refused_prefix(500, "unable to retrieve user assigned identity metadata: GET https://management.azure.com"));
    }
    {
        let mut s = app.clone();
        s.role["bound_scale_sets"] = json!([VMSS]);
        add(
            "resource_id_with_bound_scale_sets",
            "resource_id logins cannot satisfy bound_scale_sets (§3.4 c).",
            s,
            refused(500, "scale set requires the vmss_name field to be set"),
        );
    }
    {
        let mut s = app.clone();
        s.login["resource_id"] = json!("orders-app");
        add(
            "resource_id_unparseable",
            "A resource_id that is not an ARM id (§3.4 c).",
            s,
            refused(500, "unable to parse the resource ID: \"orders-app\""),
        );
    }
    {
        let mut s = app.clone();
        let p = app_path(SUB, RG, APP);
        s.arm
            .insert(p.clone(), json!({"id": p, "location": "eastus"}));
        add(
            "resource_id_without_identity",
            "A resource without identity (§3.4 c).",
            s,
            refused(500, "client did not return identity information"),
        );
    }
    {
        let mut s = app.clone();
        s.login["resource_group_name"] = json!("rg-other");
        add(
            "resource_id_resource_group_mismatch",
            "resource_id must contain /resourcegroups/<rg> (§3.4 step 3).",
            s,
            refused(
                500,
                "provided resource_id does not match resource_group_name",
            ),
        );
    }
    {
        let mut s = app.clone();
        s.role["bound_locations"] = json!(["eastus"]);
        add("resource_id_with_bound_locations", "No location is known for resource_id logins, so bound_locations always fails (§3.4 c, §5).", s, with(refused(500, "location is empty"), "hint_contains", json!({"bound.location": "never pass"})));
    }
    {
        let mut s = vm.clone();
        s.arm.insert(vm_arm.clone(), json!({"location": "eastus", "identity": {"principalId": "00000000-0000-4000-8000-000000000001"}}));
        s.claims.as_object_mut().map(|m| m.remove("appid"));
        add(
            "identity_mismatch_no_appid",
            "oid is not one of the VM's identities and the token has no appid (§3.4 step 4).",
            s,
            refused(
                500,
                "token object id does not match expected identities, and no app id was found",
            ),
        );
    }
    {
        let mut s = vm.clone();
        s.arm.insert(vm_arm.clone(), json!({"location": "eastus", "identity": {"principalId": "00000000-0000-4000-8000-000000000001"}}));
        add("identity_mismatch_appid_not_listed", "oid mismatch and the appid is not a client id in the listed resource groups (§3.4 step 4).", s, with(refused(500, "neither token object id nor token app id match expected identities"), "arm_requests", json!([vm_arm, format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities")])));
    }
    {
        let mut s = vm.clone();
        s.arm.insert(
            vm_arm.clone(),
            json!({"location": "eastus", "identity": {"principalId": VM_OID.to_uppercase()}}),
        );
        s.claims.as_object_mut().map(|m| m.remove("appid"));
        add("oid_comparison_is_case_sensitive", "The oid is compared with ARM principal ids exactly (case-sensitive), unlike the binding lists (§3.4 step 4).", s, with(refused(500, "token object id does not match expected identities, and no app id was found"), "hint_contains", json!({"resource.identity_match": "case"})));
    }
    {
        let mut s = vm.clone();
        s.role["bound_subscription_ids"] = json!([OTHER_SUB]);
        add(
            "subscription_not_authorized",
            "subscription_id outside bound_subscription_ids (§3.4 step 5).",
            s,
            refused(500, "subscription not authorized"),
        );
    }
    {
        let mut s = vm.clone();
        s.role["bound_resource_groups"] = json!(["rg-api"]);
        add(
            "resource_group_not_authorized",
            "resource_group_name outside bound_resource_groups (§3.4 step 6).",
            s,
            refused(500, "resource group not authorized"),
        );
    }
    {
        let mut s = vm.clone();
        s.role["bound_locations"] = json!(["westus2"]);
        add(
            "location_not_authorized",
            "The VM's ARM location outside bound_locations (§3.4 step 7).",
            s,
            with(
                refused(500, "location not authorized"),
                "checks",
                json!({"bound.location": "fail", "bound.resource_group": "pass"}),
            ),
        );
    }
    out
}

fn check_or_write(path: &Path, text: &str, check: bool, stale: &mut Vec<PathBuf>) {
    if check {
        if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
            stale.push(path.to_path_buf());
        }
    } else if let Err(e) = std::fs::write(path, text) {
        eprintln!("{}: {e}", path.display());
        std::process::exit(2);
    }
}

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let keys = Keys {
        k1: load_key(&root.join("demo/keys/tenant-key-1.pem")),
        k2: load_key(&root.join("demo/keys/tenant-key-2.pem")),
        weak: load_key(&root.join("demo/keys/weak-1024.pem")),
    };
    let dir = root.join("tests/vectors");
    let _ = std::fs::create_dir_all(&dir);
    let mut stale = Vec::new();
    let all = cases(&keys);
    let mut names = BTreeMap::new();
    for c in &all {
        if names.insert(c.name, ()).is_some() {
            eprintln!("duplicate vector name {}", c.name);
            std::process::exit(2);
        }
        let doc = json!({"name": c.name, "description": c.description, "input": c.scenario.build(&keys), "expect": c.expect});
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n";
        check_or_write(
            &dir.join(format!("{}.json", c.name)),
            &text,
            check,
            &mut stale,
        );
    }
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_string();
            if !names.contains_key(name.as_str()) {
                stale.push(e.path());
            }
        }
    }
    // The demo scenario: a few cases a newcomer can click through.
    let demo_cases = [
        (
            "allowed_vm_system_assigned",
            "Allowed: VM with a system-assigned identity",
        ),
        ("allowed_vmss_uniform", "Allowed: uniform scale set"),
        (
            "allowed_vmss_flexible_user_assigned",
            "Allowed: flexible scale set, user-assigned identity",
        ),
        (
            "allowed_resource_id_app_service",
            "Allowed: App Service by resource_id",
        ),
        (
            "audience_trailing_slash",
            "Refused: audience trailing slash",
        ),
        ("token_expired", "Refused: expired token"),
        (
            "resource_group_not_authorized",
            "Refused: wrong resource group",
        ),
        (
            "sp_listed_by_app_id",
            "Refused: app id listed instead of object id",
        ),
        ("issuer_v2_refused", "Refused: v2.0 token"),
        (
            "groups_missing_from_managed_identity_token",
            "Refused: role bound to groups only",
        ),
    ];
    let demo: Vec<Value> = demo_cases
        .iter()
        .filter_map(|(name, title)| {
            all.iter().find(|c| c.name == *name).map(|c| {
                json!({"name": name, "title": title, "description": c.description, "input": c.scenario.build(&keys)})
            })
        })
        .collect();
    let demo_doc = json!({
        "about": "aadauth demo scenario: a made-up tenant whose tokens are signed by the TEST FIXTURE keys in demo/keys. Nothing here is a real credential.",
        "now": NOW,
        "cases": demo,
    });
    let text = serde_json::to_string_pretty(&demo_doc).unwrap_or_default() + "\n";
    check_or_write(&root.join("demo/demo.json"), &text, check, &mut stale);
    if check && !stale.is_empty() {
        for p in &stale {
            eprintln!("stale: {}", p.display());
        }
        eprintln!("run `cargo run -p vectorgen` and commit the result");
        std::process::exit(1);
    }
    println!(
        "{} vectors, {} demo cases{}",
        all.len(),
        demo.len(),
        if check { " (up to date)" } else { " written" }
    );
}
