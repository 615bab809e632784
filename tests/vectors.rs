//! Runs every test vector in `tests/vectors/` through `evaluate` and compares the result
//! with the expectations written from the spec (`tools/vectorgen`). The same folder runs in
//! Node, in a browser (wasm package) and through the C ABI.

use std::path::Path;

use serde_json::Value;

#[path = "support/vector_expect.rs"]
mod vector_expect;

fn check_vector(doc: &Value) -> Vec<String> {
    let input = serde_json::to_vec(&doc["input"]).unwrap_or_default();
    match aadauth::evaluate_json(&input) {
        Ok(out) => {
            let got = serde_json::to_value(&out).unwrap_or(Value::Null);
            vector_expect::check_vector(doc, &got)
        }
        Err(e) => vec![format!("input error: {e}")],
    }
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
