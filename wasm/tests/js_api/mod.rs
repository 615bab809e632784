//! The wasm package's JavaScript functions (included by `node.rs` and `browser.rs`): every
//! test vector through `evaluate` with a plain object in and a plain object out,
//! byte-identical to the core's JSON, and the errors JavaScript users see.

use crate::common;
use js_sys::{Object, Reflect, JSON};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

fn stringify(v: &JsValue) -> String {
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| format!("<not JSON: {v:?}>"))
}

fn parse(text: &str) -> JsValue {
    JSON::parse(text).expect("valid JSON")
}

fn prop(v: &JsValue, name: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn is_plain_object(v: &JsValue) -> bool {
    v.is_object() && Object::get_prototype_of(v) == Object::get_prototype_of(&Object::new())
}

/// The core's output for `input`, serialized as the CLI prints it.
fn core_json(input: &str) -> String {
    serde_json::to_string(&aadauth::evaluate_json(input.as_bytes()).expect("valid input"))
        .expect("serializes")
}

/// Asserts `err` is an `Error` thrown by the package with this code and field.
fn assert_error(err: &JsValue, name: &str, code: &str, field: &str) -> String {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "not an Error: {err:?}"
    );
    assert_eq!(
        prop(err, "name").as_string().as_deref(),
        Some(name),
        "{err:?}"
    );
    assert_eq!(
        prop(err, "code").as_string().as_deref(),
        Some(code),
        "{err:?}"
    );
    assert_eq!(
        prop(err, "field").as_string().as_deref(),
        Some(field),
        "{err:?}"
    );
    let message = prop(err, "message").as_string().unwrap_or_default();
    assert!(prop(err, "stack").is_string(), "no stack: {err:?}");
    message
}

#[wasm_bindgen_test]
fn every_vector_through_js_evaluate() {
    let n = common::run_all(|_name, doc| {
        let text = common::input_text(doc);
        let out = aadauth_wasm::evaluate(parse(&text))
            .map_err(|e| format!("evaluate threw {}", stringify(&prop(&e, "message"))))?;
        if !is_plain_object(&out) {
            return Err(format!("output is not a plain object: {out:?}"));
        }
        let got = stringify(&out);
        let want = core_json(&text);
        if got != want {
            return Err(format!(
                "JSON.stringify(evaluate(input)) differs from aadauth::evaluate_json:\n    js:   {got}\n    core: {want}"
            ));
        }
        // The same input as JSON text gives the same output.
        let from_text = aadauth_wasm::evaluate(JsValue::from_str(&text))
            .map_err(|e| format!("evaluate(text) threw {}", stringify(&prop(&e, "message"))))?;
        if stringify(&from_text) != got {
            return Err("evaluate(JSON text) differs from evaluate(object)".into());
        }
        Ok(got)
    });
    console_log!("{n} vectors passed through the wasm evaluate");
}

#[wasm_bindgen_test]
fn evaluate_input_errors_name_the_field() {
    let err = aadauth_wasm::evaluate(JsValue::from_str("{")).unwrap_err();
    let m = assert_error(&err, "AadauthInputError", "input_invalid", "input");
    assert!(m.starts_with("input: not valid JSON"), "{m}");

    let err = aadauth_wasm::evaluate(parse(r#"{"login": {"role": "web"}}"#)).unwrap_err();
    let m = assert_error(&err, "AadauthInputError", "input_invalid", "now");
    assert_eq!(m, "now: required: the evaluation time in Unix seconds");

    let err =
        aadauth_wasm::evaluate(parse(r#"{"now": 1, "role": {"token_ttl": "soon"}}"#)).unwrap_err();
    let m = assert_error(&err, "AadauthInputError", "input_invalid", "role.token_ttl");
    assert!(m.starts_with("role.token_ttl: cannot parse"), "{m}");

    let err = aadauth_wasm::evaluate(JsValue::UNDEFINED).unwrap_err();
    assert_error(&err, "AadauthInputError", "input_invalid", "input");

    // A BigInt cannot be serialized as JSON.
    let input = Object::new();
    Reflect::set(
        &input,
        &"now".into(),
        &js_sys::BigInt::from(1_764_500_000u64),
    )
    .unwrap();
    let err = aadauth_wasm::evaluate(input.into()).unwrap_err();
    let m = assert_error(&err, "AadauthInputError", "input_invalid", "input");
    assert!(m.starts_with("input: not representable as JSON"), "{m}");

    // A login Vault refuses is not an error.
    let out = aadauth_wasm::evaluate(parse(r#"{"now": 1764500000, "login": {"role": "web"}}"#))
        .expect("a refusal is a normal output");
    assert_eq!(prop(&out, "allowed"), JsValue::FALSE);
    assert_eq!(
        prop(&out, "error").as_string().as_deref(),
        Some("jwt is required")
    );
}

#[wasm_bindgen_test]
fn parse_role_and_config() {
    let body = r#"{"data": {"bound_service_principal_ids": "a, b", "token_ttl": "1h", "name": "Web", "extra": 1}, "request_id": "x"}"#;
    let role = aadauth_wasm::parse_role(parse(body)).expect("valid role");
    assert!(is_plain_object(&role));
    assert_eq!(
        stringify(&role),
        aadauth_wasm::parse_role_text(body.as_bytes()).unwrap()
    );
    let v: Value = serde_json::from_str(&stringify(&role)).unwrap();
    assert_eq!(v["name"], "web");
    assert_eq!(
        v["bound_service_principal_ids"],
        serde_json::json!(["a", "b"])
    );
    assert_eq!(v["token"]["ttl"], 3600);
    assert_eq!(v["unknown_fields"], serde_json::json!(["extra"]));

    let err = aadauth_wasm::parse_role(parse(r#"{"token_policies": "p"}"#)).unwrap_err();
    let m = assert_error(&err, "AadauthRoleError", "role_invalid", "role");
    assert_eq!(
        m,
        "must have at least one bound constraint when creating/updating a role"
    );
    let err = aadauth_wasm::parse_role(parse(r#"{"bound_group_ids": "g", "token_type": "x"}"#))
        .unwrap_err();
    let m = assert_error(&err, "AadauthRoleError", "role_invalid", "role");
    assert_eq!(m, "invalid 'token_type' value \"x\"");
    let err = aadauth_wasm::parse_role(JsValue::from_str("[")).unwrap_err();
    assert_error(&err, "AadauthInputError", "input_invalid", "role");
    let err = aadauth_wasm::parse_role(parse(
        r#"{"bound_group_ids": "g", "token_num_uses": "many"}"#,
    ))
    .unwrap_err();
    assert_error(
        &err,
        "AadauthInputError",
        "input_invalid",
        "role.token_num_uses",
    );

    let config = aadauth_wasm::parse_config(JsValue::from_str(
        r#"{"tenant_id": " t ", "tenantid": "x", "client_secret": "s"}"#,
    ))
    .expect("valid config");
    assert!(is_plain_object(&config));
    let v: Value = serde_json::from_str(&stringify(&config)).unwrap();
    assert_eq!(v["tenant_id"], "t");
    assert_eq!(v["unknown_fields"], serde_json::json!(["tenantid"]));
    assert!(v.get("client_secret").is_none(), "secrets are never echoed");
    let err = aadauth_wasm::parse_config(parse(r#"{"retry_delay": "later"}"#)).unwrap_err();
    assert_error(
        &err,
        "AadauthInputError",
        "input_invalid",
        "config.retry_delay",
    );
}

#[wasm_bindgen_test]
fn decode_token_accepts_what_users_paste() {
    let jwt = common::vectors().into_iter().find_map(|(name, doc)| {
        let jwt = doc["input"]["login"]["jwt"].as_str()?.to_string();
        (name.starts_with("allowed_vm")).then_some((jwt, doc["input"]["now"].as_i64()?))
    });
    let (jwt, now) = jwt.expect("an allowed_vm vector with a jwt");
    let want = aadauth_wasm::decode_text(&jwt, Some(now)).expect("decodes");
    for pasted in [
        jwt.clone(),
        format!("Bearer {jwt}"),
        format!("Authorization: Bearer {jwt}"),
        format!(r#"{{"access_token": "{jwt}", "token_type": "Bearer"}}"#),
    ] {
        let d = aadauth_wasm::decode_token(JsValue::from_str(&pasted), Some(now as f64))
            .expect("decodes");
        assert!(is_plain_object(&d));
        assert_eq!(stringify(&d), want);
    }
    let v: Value = serde_json::from_str(&want).unwrap();
    assert!(v["azure"]["times"]["exp"]["relative"].is_string(), "{v}");
    let no_now = aadauth_wasm::decode_token(JsValue::from_str(&jwt), None).expect("decodes");
    let v: Value = serde_json::from_str(&stringify(&no_now)).unwrap();
    assert!(v["azure"]["times"]["exp"].get("relative").is_none(), "{v}");

    let err = aadauth_wasm::decode_token(JsValue::from_str("not-a-token"), None).unwrap_err();
    let m = assert_error(&err, "AadauthDecodeError", "token_undecodable", "jwt");
    assert!(m.starts_with("jwt: "), "{m}");
    let err = aadauth_wasm::decode_token(JsValue::from_f64(5.0), None).unwrap_err();
    assert_error(&err, "AadauthInputError", "input_invalid", "jwt");
    let err = aadauth_wasm::decode_token(JsValue::from_str(&jwt), Some(f64::NAN)).unwrap_err();
    assert_error(&err, "AadauthInputError", "input_invalid", "now");
}

#[wasm_bindgen_test]
fn version_is_the_core_version() {
    assert_eq!(aadauth_wasm::version(), aadauth::VERSION);
}
