//! The test vectors of `tests/vectors/` (embedded at build time by `build.rs`) and their
//! expectations, checked on an `evaluate` output given as JSON. Shared by the wasm tests
//! (Node and browser) and the native tests.

#![allow(dead_code)]

use serde_json::Value;

include!(concat!(env!("OUT_DIR"), "/vectors.rs"));

/// The parsed vectors, in file-name order. Panics on a vector that is not JSON, and when
/// there are none (an empty folder must not pass).
pub fn vectors() -> Vec<(&'static str, Value)> {
    assert!(
        !VECTORS.is_empty(),
        "no test vectors were embedded: tests/vectors/*.json is empty or missing"
    );
    VECTORS
        .iter()
        .map(|(name, text)| {
            let doc: Value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{name}: not valid JSON: {e}"));
            assert!(doc.get("input").is_some(), "{name}: no input");
            assert!(doc.get("expect").is_some(), "{name}: no expect");
            (*name, doc)
        })
        .collect()
}

/// The vector's `input` as JSON text.
pub fn input_text(doc: &Value) -> String {
    serde_json::to_string(&doc["input"]).expect("a Value serializes")
}

#[path = "../../../tests/support/vector_expect.rs"]
mod vector_expect;
pub use vector_expect::check_vector;

/// Runs `evaluate` (given as a closure from input JSON text to output JSON text) on every
/// vector and panics with every mismatch. Returns how many vectors ran.
pub fn run_all(mut evaluate: impl FnMut(&str, &Value) -> Result<String, String>) -> usize {
    let vectors = vectors();
    let mut failures = Vec::new();
    for (name, doc) in &vectors {
        let result = evaluate(name, doc).and_then(|text| {
            serde_json::from_str::<Value>(&text).map_err(|e| format!("output is not JSON: {e}"))
        });
        let errors = match result {
            Ok(got) => check_vector(doc, &got),
            Err(e) => vec![e],
        };
        if !errors.is_empty() {
            failures.push(format!("{name}:\n  {}", errors.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
    vectors.len()
}
