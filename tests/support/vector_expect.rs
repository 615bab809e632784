//! A test vector's expectations (`tests/vectors/*.json`, member `expect`) checked against an
//! `evaluate` output given as JSON. One checker for every runner: the native tests
//! (`tests/vectors.rs`) and the wasm tests (`wasm/tests/common/mod.rs`) include this file.

use serde_json::Value;

/// Every member of `want` equals the one in `got` (objects member-wise, recursively).
fn subset(want: &Value, got: &Value, path: &str, errors: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => subset(wv, gv, &format!("{path}.{k}"), errors),
                    None => errors.push(format!("{path}.{k}: missing")),
                }
            }
        }
        _ if want == got => {}
        _ => errors.push(format!("{path}: want {want}, got {got}")),
    }
}

fn check<'a>(got: &'a Value, id: &str) -> Option<&'a Value> {
    got["checks"]
        .as_array()?
        .iter()
        .find(|c| c["id"].as_str() == Some(id))
}

/// What differs between the vector's `expect` and the output `got`; empty when it matches.
pub fn check_vector(doc: &Value, got: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let expect = &doc["expect"];
    for k in ["allowed", "status"] {
        if expect[k] != got[k] {
            errors.push(format!("{k}: want {}, got {}", expect[k], got[k]));
        }
    }
    if let Some(e) = expect.get("error") {
        if e != &got["error"] {
            errors.push(format!("error: want {e}, got {}", got["error"]));
        }
    }
    if let Some(p) = expect.get("error_prefix").and_then(Value::as_str) {
        if !got["error"].as_str().is_some_and(|e| e.starts_with(p)) {
            errors.push(format!("error: want prefix {p:?}, got {}", got["error"]));
        }
    }
    if let Some(Value::Object(checks)) = expect.get("checks") {
        for (id, outcome) in checks {
            match check(got, id) {
                Some(c) if &c["outcome"] == outcome => {}
                Some(c) => errors.push(format!(
                    "check {id}: want {outcome}, got {} ({})",
                    c["outcome"], c["detail"]
                )),
                None => errors.push(format!("check {id}: missing")),
            }
        }
    }
    if let Some(Value::Object(hints)) = expect.get("hint_contains") {
        for (id, needle) in hints {
            let hint = check(got, id)
                .and_then(|c| c["hint"].as_str())
                .unwrap_or_default();
            if !hint.contains(needle.as_str().unwrap_or("\u{0}")) {
                errors.push(format!("hint of {id}: want {needle} in {hint:?}"));
            }
        }
    }
    if let Some(auth) = expect.get("auth") {
        subset(auth, &got["auth"], "auth", &mut errors);
    }
    if let Some(arm) = expect.get("arm_requests") {
        if arm != &got["arm_requests"] {
            errors.push(format!(
                "arm_requests: want {arm}, got {}",
                got["arm_requests"]
            ));
        }
    }
    if let Some(d) = expect.get("decode_only") {
        let g = got
            .get("decode_only")
            .cloned()
            .unwrap_or(Value::Bool(false));
        if d != &g {
            errors.push(format!("decode_only: want {d}, got {g}"));
        }
    }
    // Invariants of the contract.
    let allowed = got["allowed"].as_bool();
    if allowed.is_none() {
        errors.push(format!("allowed is not a boolean: {}", got["allowed"]));
    }
    let allowed = allowed.unwrap_or(false);
    let has_auth = !got["auth"].is_null();
    let has_error = !got["error"].is_null();
    if allowed != has_auth || allowed == has_error {
        errors.push("allowed, auth and error disagree".into());
    }
    let fails = got["checks"]
        .as_array()
        .map(|cs| cs.iter().filter(|c| c["outcome"] == "fail").count())
        .unwrap_or(0);
    if fails != usize::from(!allowed) {
        errors.push(format!("{fails} failing checks for allowed={allowed}"));
    }
    let unhinted = got["checks"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["outcome"] == "fail" && c["hint"].as_str().is_none_or(str::is_empty))
    });
    if unhinted {
        errors.push("the failing check has no hint".into());
    }
    errors
}
