//! A typical VM login (signature + every check, ARM facts at hand) next to the bare RS256
//! signature check on the same token, in the same run.
//!
//! - `signature_only`: `KeySet::verify` on the parsed token with the prepared key set.
//! - `signature_only_reference_rsa_crate`: the same through jsonwebtoken / the `rsa` crate.
//! - `login_flow`: the whole decision through the step API, as an adapter runs it (parsed
//!   config/role, prepared key set, ARM facts fed in).
//! - `evaluate_json`: the JSON contract end to end (parses the input and the JWKS each time).

use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn vector() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/allowed_vm_system_assigned.json"
    );
    let text = std::fs::read_to_string(path).expect("vector");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["input"].clone()
}

fn bench(c: &mut Criterion) {
    let input = vector();
    let jwt = input["login"]["jwt"].as_str().expect("jwt").to_string();
    let keys = aadauth::KeySet::from_jwks(&input["keys"]).expect("jwks");
    // Prepare the key once, as a long-lived adapter does.
    let _ = keys.info();
    let parsed = aadauth::EvaluateInput::from_json(&input).expect("input");
    let arm: Vec<(String, aadauth::ArmAnswer)> = input["arm"]
        .as_object()
        .expect("arm")
        .iter()
        .map(|(k, v)| (k.clone(), aadauth::ArmAnswer::from_snapshot(v)))
        .collect();
    let bytes = serde_json::to_vec(&input).expect("bytes");

    let mut g = c.benchmark_group("vm_login");
    g.bench_function("signature_only", |b| {
        b.iter(|| {
            let jws = aadauth::token::parse_jws(black_box(&jwt), &["RS256"]).expect("jws");
            let v = keys.verify(&jws);
            assert!(matches!(v, aadauth::keys::Verification::Verified(_)));
        })
    });
    g.bench_function("signature_only_reference_rsa_crate", |b| {
        b.iter(|| {
            let jws = aadauth::token::parse_jws(black_box(&jwt), &["RS256"]).expect("jws");
            let v = keys.verify_reference(&jws);
            assert!(matches!(v, aadauth::keys::Verification::Verified(_)));
        })
    });
    g.bench_function("login_flow", |b| {
        b.iter(|| {
            let mut flow =
                aadauth::LoginFlow::new(parsed.context.clone()).with_cached_keys(keys.clone());
            for (path, answer) in &arm {
                flow.provide_arm(path, answer.clone());
            }
            match flow.next() {
                aadauth::Step::Done(out) => assert!(out.allowed),
                other => panic!("unexpected step {other:?}"),
            }
        })
    });
    g.bench_function("evaluate_json", |b| {
        b.iter(|| {
            let out = aadauth::evaluate_json(black_box(&bytes)).expect("ok");
            assert!(out.allowed);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
