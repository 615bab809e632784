//! Native checks of the functions behind the JavaScript exports: every vector gives exactly
//! the core's JSON, errors carry the right code and field, and the TypeScript declarations
//! appended to the `.d.ts` (`src/types.d.ts`) name exactly the members the core serializes.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use aadauth_wasm::{ApiError, ErrorCode};
use serde_json::Value;

#[test]
fn every_vector_equals_the_core() {
    let n = common::run_all(|_name, doc| {
        let text = common::input_text(doc);
        let got = aadauth_wasm::evaluate_text(text.as_bytes()).map_err(|e| e.to_string())?;
        let core = aadauth::evaluate_json(text.as_bytes()).map_err(|e| e.to_string())?;
        let want = serde_json::to_string(&core).map_err(|e| e.to_string())?;
        if got != want {
            return Err(format!(
                "differs from aadauth::evaluate_json:\n    got:  {got}\n    core: {want}"
            ));
        }
        Ok(got)
    });
    assert!(n > 0);
}

#[test]
fn errors_carry_code_and_field() {
    let e = aadauth_wasm::evaluate_text(b"{\"now\": \"x\"}").unwrap_err();
    assert_eq!(
        e,
        ApiError {
            code: ErrorCode::InputInvalid,
            field: "now".into(),
            message: "now: must be Unix seconds (an integer)".into()
        }
    );
    let e = aadauth_wasm::parse_role_text(
        br#"{"bound_group_ids": "g", "token_ttl": "2h", "token_max_ttl": "1h"}"#,
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::RoleInvalid);
    assert_eq!(e.code.as_str(), "role_invalid");
    assert_eq!(e.field, "role");
    assert_eq!(
        e.message,
        "'token_ttl' cannot be greater than 'token_max_ttl'"
    );
    let e = aadauth_wasm::parse_role_text(b"nope").unwrap_err();
    assert_eq!(
        (e.code, e.field.as_str()),
        (ErrorCode::InputInvalid, "role")
    );
    assert!(
        e.message.starts_with("role: not valid JSON"),
        "{}",
        e.message
    );
    let e = aadauth_wasm::parse_config_text(br#"{"max_retries": "x"}"#).unwrap_err();
    assert_eq!(e.field, "config.max_retries");
    let e = aadauth_wasm::decode_text("a", None).unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.field.as_str()),
        ("token_undecodable", "jwt")
    );
}

// ---------------------------------------------------------------------------------------
// The TypeScript declarations against the serde output.

struct Interface {
    /// Member name → optional.
    members: BTreeMap<String, bool>,
    /// Has an index signature (`[key: string]: …`): other members are allowed.
    open: bool,
}

fn interfaces() -> BTreeMap<String, Interface> {
    let mut map = BTreeMap::new();
    let mut current: Option<(String, Interface)> = None;
    for line in aadauth_wasm::TYPESCRIPT_TYPES.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("export interface ") {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric()).collect();
            current = Some((
                name,
                Interface {
                    members: BTreeMap::new(),
                    open: false,
                },
            ));
            continue;
        }
        let Some((name, iface)) = current.as_mut() else {
            continue;
        };
        if line == "}" {
            let (name, iface) = current.take().expect("inside an interface");
            map.insert(name, iface);
            continue;
        }
        if t.starts_with('[') {
            iface.open = true;
            continue;
        }
        if t.starts_with("/**") || t.starts_with('*') || t.starts_with("//") || t.is_empty() {
            continue;
        }
        let member: String = t
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let rest = &t[member.len()..];
        assert!(
            rest.starts_with(':') || rest.starts_with("?:"),
            "cannot read member line {t:?} of {name}"
        );
        iface.members.insert(member, rest.starts_with('?'));
    }
    assert!(current.is_none(), "unterminated interface");
    map
}

/// `v` is an object whose members are exactly what interface `name` declares.
fn conforms(
    ifaces: &BTreeMap<String, Interface>,
    name: &str,
    v: &Value,
    path: &str,
    errors: &mut Vec<String>,
) {
    let iface = ifaces
        .get(name)
        .unwrap_or_else(|| panic!("types.d.ts declares no interface {name}"));
    let Some(obj) = v.as_object() else {
        errors.push(format!("{path}: not an object ({name})"));
        return;
    };
    for k in obj.keys() {
        if !iface.open && !iface.members.contains_key(k) {
            errors.push(format!("{path}.{k}: not declared in interface {name}"));
        }
    }
    for (k, optional) in &iface.members {
        if !optional && !obj.contains_key(k) {
            errors.push(format!(
                "{path}.{k}: declared required in {name} but absent"
            ));
        }
    }
}

#[test]
fn typescript_declarations_match_the_serde_output() {
    let ifaces = interfaces();
    for required in [
        "EvaluateInput",
        "EvaluateOutput",
        "Check",
        "Auth",
        "Decoded",
        "Role",
        "Config",
    ] {
        assert!(
            ifaces.contains_key(required),
            "types.d.ts must declare {required}"
        );
    }
    let mut errors = Vec::new();
    let (mut allowed, mut decoded, mut roles, mut configs) = (0, 0, 0, 0);
    for (name, doc) in common::vectors() {
        let input = &doc["input"];
        conforms(
            &ifaces,
            "EvaluateInput",
            input,
            &format!("{name}:input"),
            &mut errors,
        );
        if input["login"].is_object() {
            conforms(
                &ifaces,
                "LoginInput",
                &input["login"],
                &format!("{name}:input.login"),
                &mut errors,
            );
        }
        let text = common::input_text(&doc);
        let Ok(out) = aadauth_wasm::evaluate_text(text.as_bytes()) else {
            continue;
        };
        let out: Value = serde_json::from_str(&out).expect("JSON");
        let p = format!("{name}:output");
        conforms(&ifaces, "EvaluateOutput", &out, &p, &mut errors);
        for (i, c) in out["checks"].as_array().into_iter().flatten().enumerate() {
            conforms(
                &ifaces,
                "Check",
                c,
                &format!("{p}.checks[{i}]"),
                &mut errors,
            );
        }
        if !out["auth"].is_null() {
            allowed += 1;
            let auth = &out["auth"];
            conforms(&ifaces, "Auth", auth, &format!("{p}.auth"), &mut errors);
            conforms(
                &ifaces,
                "Alias",
                &auth["alias"],
                &format!("{p}.auth.alias"),
                &mut errors,
            );
            conforms(
                &ifaces,
                "InternalData",
                &auth["internal_data"],
                &format!("{p}.auth.internal_data"),
                &mut errors,
            );
            for g in auth["group_aliases"].as_array().into_iter().flatten() {
                conforms(
                    &ifaces,
                    "GroupAlias",
                    g,
                    &format!("{p}.auth.group_aliases[]"),
                    &mut errors,
                );
            }
        }
        if let Some(jwt) = input["login"]["jwt"].as_str() {
            if let Ok(d) = aadauth_wasm::decode_text(jwt, input["now"].as_i64()) {
                decoded += 1;
                let d: Value = serde_json::from_str(&d).expect("JSON");
                let p = format!("{name}:decoded");
                conforms(&ifaces, "Decoded", &d, &p, &mut errors);
                let az = &d["azure"];
                conforms(
                    &ifaces,
                    "Annotations",
                    az,
                    &format!("{p}.azure"),
                    &mut errors,
                );
                if !az["issuer"].is_null() {
                    conforms(
                        &ifaces,
                        "IssuerNote",
                        &az["issuer"],
                        &format!("{p}.azure.issuer"),
                        &mut errors,
                    );
                }
                for k in ["xms_mirid", "xms_az_rid"] {
                    if !az[k].is_null() {
                        conforms(
                            &ifaces,
                            "ManagedIdentityPath",
                            &az[k],
                            &format!("{p}.azure.{k}"),
                            &mut errors,
                        );
                    }
                }
                for (k, t) in az["times"].as_object().into_iter().flatten() {
                    conforms(
                        &ifaces,
                        "TimeNote",
                        t,
                        &format!("{p}.azure.times.{k}"),
                        &mut errors,
                    );
                }
            }
        }
        if input["role"].is_object() {
            if let Ok(r) = aadauth_wasm::parse_role_text(input["role"].to_string().as_bytes()) {
                roles += 1;
                let r: Value = serde_json::from_str(&r).expect("JSON");
                conforms(&ifaces, "Role", &r, &format!("{name}:role"), &mut errors);
                conforms(
                    &ifaces,
                    "TokenFields",
                    &r["token"],
                    &format!("{name}:role.token"),
                    &mut errors,
                );
            }
        }
        if input["config"].is_object() {
            if let Ok(c) = aadauth_wasm::parse_config_text(input["config"].to_string().as_bytes()) {
                configs += 1;
                let c: Value = serde_json::from_str(&c).expect("JSON");
                conforms(
                    &ifaces,
                    "Config",
                    &c,
                    &format!("{name}:config"),
                    &mut errors,
                );
            }
        }
    }
    assert!(
        errors.is_empty(),
        "types.d.ts and the serde output disagree:\n{}",
        errors.join("\n")
    );
    assert!(
        allowed > 0 && decoded > 0 && roles > 0 && configs > 0,
        "the vectors exercised too little"
    );
}

/// `Verifier.evaluate`: a key set loaded once gives exactly what the same keys in the input
/// give, on every vector that has keys.
#[test]
fn loaded_keys_equal_keys_in_the_input() {
    let mut compared = 0;
    for (name, doc) in common::vectors() {
        let input = &doc["input"];
        let Some(keys) = input.get("keys").filter(|k| !k.is_null()) else {
            continue;
        };
        let keys_text = match keys {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let Ok(loaded) = aadauth_wasm::LoadedKeys::from_text(keys_text.as_bytes()) else {
            continue; // an undecodable key set: evaluate reports it, loading refuses it
        };
        let mut rest = input.clone();
        rest.as_object_mut().map(|m| m.remove("keys"));
        let got = loaded
            .evaluate_text(rest.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = aadauth_wasm::evaluate_text(common::input_text(&doc).as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}");
        let both = loaded.evaluate_text(common::input_text(&doc).as_bytes());
        assert!(
            matches!(&both, Err(e) if e.field == "keys"),
            "{name}: keys twice must be refused"
        );
        compared += 1;
    }
    assert!(compared >= 80, "only {compared} vectors compared");
}

#[test]
fn gateway_settings_errors_name_the_member() {
    let jwks = br#"{"keys": []}"#;
    let good = serde_json::json!({
        "tenant_id": "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
        "audiences": ["https://management.azure.com/"],
        "roles": {"web": {"bound_service_principal_ids": ["x"]}},
    });
    assert!(aadauth_wasm::GatewayState::from_text(good.to_string().as_bytes(), jwks).is_ok());
    let cases: [(&str, Value, &str); 8] = [
        ("tenant_id", serde_json::json!("contoso.com"), "tenant_id"),
        ("audiences", serde_json::json!([]), "audiences"),
        ("roles", serde_json::json!({}), "roles"),
        ("cache_size", serde_json::json!(100_001), "cache_size"),
        (
            "clock_skew_seconds",
            serde_json::json!("x"),
            "clock_skew_seconds",
        ),
        ("environment", serde_json::json!("Mars"), "environment"),
        (
            "token_versions",
            serde_json::json!(["v3"]),
            "token_versions",
        ),
        ("claims", serde_json::json!({"a": 1}), "claims"),
    ];
    for (member, value, field) in cases {
        let mut s = good.clone();
        s[member] = value;
        let e = aadauth_wasm::GatewayState::from_text(s.to_string().as_bytes(), jwks)
            .expect_err(member);
        assert_eq!(e.code, ErrorCode::InputInvalid, "{member}");
        assert_eq!(e.field, field, "{member}: {}", e.message);
        assert!(e.message.starts_with(&format!("{field}:")), "{}", e.message);
    }
    let e = aadauth_wasm::GatewayState::from_text(good.to_string().as_bytes(), b"[]")
        .expect_err("keys");
    assert_eq!(e.field, "keys");
}
