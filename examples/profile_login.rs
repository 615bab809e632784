//! Runs one part of a VM login N times, for instruction counting under callgrind:
//! `valgrind --tool=callgrind target/release/examples/profile_login flow 200`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map(String::as_str).unwrap_or("flow");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/allowed_vm_system_assigned.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
            .unwrap_or_default();
    let input = doc["input"].clone();
    let jwt = input["login"]["jwt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let keys = aadauth::KeySet::from_jwks(&input["keys"]).unwrap_or_default();
    let _ = keys.info();
    let parsed = match aadauth::EvaluateInput::from_json(&input) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let arm: Vec<(String, aadauth::ArmAnswer)> = input["arm"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), aadauth::ArmAnswer::from_snapshot(v)))
                .collect()
        })
        .unwrap_or_default();
    let bytes = serde_json::to_vec(&input).unwrap_or_default();
    let mut without_keys = input.clone();
    if let Some(m) = without_keys.as_object_mut() {
        m.remove("keys");
    }
    let bytes_without_keys = serde_json::to_vec(&without_keys).unwrap_or_default();
    let mut allowed = 0;
    for _ in 0..n {
        match what {
            "loaded" => {
                if let Ok(out) = aadauth::evaluate_json_with_keys(&bytes_without_keys, &keys) {
                    allowed += usize::from(out.allowed);
                }
            }
            "signature" => {
                if let Ok(jws) = aadauth::token::parse_jws(&jwt, &["RS256"]) {
                    if matches!(keys.verify(&jws), aadauth::keys::Verification::Verified(_)) {
                        allowed += 1;
                    }
                }
            }
            "reference" => {
                if let Ok(jws) = aadauth::token::parse_jws(&jwt, &["RS256"]) {
                    if matches!(
                        keys.verify_reference(&jws),
                        aadauth::keys::Verification::Verified(_)
                    ) {
                        allowed += 1;
                    }
                }
            }
            "flow" => {
                let mut flow =
                    aadauth::LoginFlow::new(parsed.context.clone()).with_cached_keys(keys.clone());
                for (p, a) in &arm {
                    flow.provide_arm(p, a.clone());
                }
                if let aadauth::Step::Done(out) = flow.next() {
                    allowed += usize::from(out.allowed);
                }
            }
            _ => {
                if let Ok(out) = aadauth::evaluate_json(&bytes) {
                    allowed += usize::from(out.allowed);
                }
            }
        }
    }
    println!("{what}: {allowed}/{n} allowed");
}
