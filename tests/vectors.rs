//! Runs every test vector in `tests/vectors/` through `evaluate` and compares the result
//! with the expectations written from the spec (`tools/vectorgen`). The same folder runs in
//! Node, in a browser (wasm package) and through the C ABI.

use std::path::Path;

use serde_json::Value;

/// Every member of `want` equals the one in `got` (objects compared member-wise, recursively).
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

fn check_vector(doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let input = serde_json::to_vec(&doc["input"]).unwrap_or_default();
    let out = match aadauth::evaluate_json(&input) {
        Ok(o) => o,
        Err(e) => return vec![format!("input error: {e}")],
    };
    let got = serde_json::to_value(&out).unwrap_or(Value::Null);
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
            match out.check(id) {
                Some(c) => {
                    let o = serde_json::to_value(c.outcome).unwrap_or(Value::Null);
                    if &o != outcome {
                        errors.push(format!(
                            "check {id}: want {outcome}, got {o} ({})",
                            c.detail
                        ));
                    }
                }
                None => errors.push(format!("check {id}: missing")),
            }
        }
    }
    if let Some(Value::Object(hints)) = expect.get("hint_contains") {
        for (id, needle) in hints {
            let hint = out
                .check(id)
                .and_then(|c| c.hint.clone())
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
        if d != &got["decode_only"] {
            errors.push(format!("decode_only: want {d}, got {}", got["decode_only"]));
        }
    }
    // Invariants that hold for every vector.
    if out.allowed != out.auth.is_some() || out.allowed != out.error.is_none() {
        errors.push("allowed, auth and error disagree".into());
    }
    let fails = out
        .checks
        .iter()
        .filter(|c| c.outcome == aadauth::Outcome::Fail)
        .count();
    if fails != usize::from(!out.allowed) {
        errors.push(format!(
            "{fails} failing checks for allowed={}",
            out.allowed
        ));
    }
    if out
        .checks
        .iter()
        .any(|c| c.outcome == aadauth::Outcome::Fail && c.hint.is_none())
    {
        errors.push("the failing check has no hint".into());
    }
    errors
}

#[test]
fn every_vector_matches_the_spec() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/vectors exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 50,
        "expected the full vector set, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(f).expect("readable"))
            .expect("vector is JSON");
        let errors = check_vector(&doc);
        if !errors.is_empty() {
            failures.push(format!("{}:\n  {}", f.display(), errors.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn outputs_are_deterministic_bytes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    for e in std::fs::read_dir(dir).expect("dir").flatten().take(40) {
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(e.path()).expect("read")).expect("json");
        let input = serde_json::to_vec(&doc["input"]).expect("bytes");
        let a = serde_json::to_string(&aadauth::evaluate_json(&input).expect("ok")).expect("ser");
        let b = serde_json::to_string(&aadauth::evaluate_json(&input).expect("ok")).expect("ser");
        assert_eq!(a, b);
    }
}
