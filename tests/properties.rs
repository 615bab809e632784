//! Property tests: decisions are deterministic, list matching is case-insensitive where the
//! spec says so, widening a bound list never turns an allow into a deny, and `evaluate`
//! never panics on arbitrary input.

use proptest::prelude::*;
use serde_json::Value;

fn vector(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vector")).expect("json");
    doc["input"].clone()
}

fn decide(input: &Value) -> (bool, u16, Option<String>) {
    let out = aadauth::evaluate(input).expect("valid input");
    (out.allowed, out.status, out.error)
}

/// `evaluate_json` (the input read in place) and `evaluate` of the same document parsed
/// into a `serde_json::Value`: the output as JSON text, or the input error.
fn both_ways(text: &str) -> (Result<String, String>, Result<String, String>) {
    let show = |r: Result<aadauth::Output, aadauth::InputError>| {
        r.map(|o| serde_json::to_string(&o).unwrap_or_default())
            .map_err(|e| e.to_string())
    };
    let in_place = show(aadauth::evaluate_json(text.as_bytes()));
    let tree = match aadauth::contract::parse_input(text.as_bytes()) {
        Ok(v) => show(aadauth::evaluate(&v)),
        Err(e) => Err(e.to_string()),
    };
    (in_place, tree)
}

/// Reading the input in place decides exactly as reading it into a `Value` does, on every
/// test vector (as written, and compacted), and with the key set loaded apart.
#[test]
fn reading_the_input_in_place_equals_reading_a_value_tree() {
    let dir = format!("{}/tests/vectors", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("vectors") {
        let path = entry.expect("entry").path();
        let doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("vector")).expect("json");
        let input = &doc["input"];
        for text in [
            serde_json::to_string_pretty(input).expect("text"),
            serde_json::to_string(input).expect("text"),
        ] {
            let (a, b) = both_ways(&text);
            assert_eq!(a, b, "{}", path.display());
        }
        // With the key set loaded once (only inputs whose keys parse).
        let mut rest = input.clone();
        let keys = rest.as_object_mut().and_then(|o| o.remove("keys"));
        if let Some(Ok(set)) = keys.as_ref().map(aadauth::KeySet::from_jwks) {
            let text = serde_json::to_vec(&rest).expect("text");
            let loaded = aadauth::evaluate_json_with_keys(&text, &set)
                .map(|o| serde_json::to_string(&o).unwrap_or_default());
            let mut tree = aadauth::EvaluateInput::from_json(&rest).expect("parsed input");
            tree.keys = Ok(set);
            let tree = serde_json::to_string(&tree.evaluate()).unwrap_or_default();
            assert_eq!(loaded, Ok(tree), "{} (keys loaded)", path.display());
        }
        seen += 1;
    }
    assert!(seen >= 90, "only {seen} vectors");
}

/// What a `Value` tree hides and text shows: repeated members (the last wins), escaped
/// keys and strings, the `vault read` wrapper, members in any order, bad JSON.
#[test]
fn reading_in_place_handles_what_only_text_can_say() {
    let input = vector("allowed_vm_system_assigned");
    let base = serde_json::to_string(&input).expect("text");
    let body = base.trim_start_matches('{');
    let open = base.trim_end_matches('}');
    let mut wrapped = input.clone();
    wrapped["role"] = serde_json::json!({"request_id": "r", "data": input["role"].clone()});
    let cases = [
        // A repeated `now`: the last one decides (first or last in the document).
        format!("{{\"now\":1,{body}"),
        format!("{open},\"now\":4000000000}}"),
        // An escaped key is the same key.
        base.replacen("\"now\"", "\"n\\u006fw\"", 1),
        // Escapes in values.
        base.replacen("\"web\"", "\"w\\u0065b\"", 1),
        // A repeated role, the first one refusing everything, then the last.
        format!("{{\"role\":{{\"bound_locations\":[\"nowhere\"]}},{body}"),
        format!("{open},\"role\":{{\"bound_locations\":[\"nowhere\"]}}}}"),
        // The `vault read -format=json` wrapper, and a repeated `data` in it.
        serde_json::to_string(&wrapped).expect("text"),
        base.replacen(
            "\"config\":",
            "\"config\":{\"request_id\":\"r\",\"data\":{\"tenant_id\":\"x\"},\"data\":",
            1,
        )
        .replacen("},\"login\"", "}},\"login\"", 1),
        // Unknown members, nulls, a fractional duration.
        base.replacen("\"now\":", "\"zzz\":null,\"profile\":null,\"now\":", 1),
        base.replacen("\"token_ttl\":\"1h\"", "\"token_ttl\":3600.9", 1),
        // Not JSON, not an object, trailing garbage, deep nesting, a lone surrogate.
        "{\"now\":".to_string(),
        "[1,2]".to_string(),
        format!("{base} x"),
        format!("{}1{}", "[".repeat(130), "]".repeat(130)),
        "\"\\ud800\"".to_string(),
    ];
    // The cases are what they say: each text parses (or fails) as intended.
    assert!(
        serde_json::from_str::<Value>(&cases[7]).is_ok(),
        "{}",
        cases[7]
    );
    assert_ne!(both_ways(&cases[0]).0, both_ways(&cases[1]).0);
    for text in cases {
        let (a, b) = both_ways(&text);
        assert_eq!(a, b, "{text}");
    }
}

/// Randomly flips the case of each ASCII letter, driven by `mask`.
fn recase(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

const LISTS: [&str; 5] = [
    "bound_service_principal_ids",
    "bound_subscription_ids",
    "bound_resource_groups",
    "bound_locations",
    "bound_scale_sets",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn binding_lists_ignore_case(mask in any::<u64>(), which in 0usize..5) {
        for name in ["allowed_vm_system_assigned", "allowed_vmss_uniform", "resource_group_not_authorized", "location_not_authorized"] {
            let base = vector(name);
            let mut changed = base.clone();
            if let Some(Value::Array(items)) = changed["role"].get_mut(LISTS[which]) {
                for item in items.iter_mut() {
                    if let Value::String(s) = item {
                        *s = recase(s, mask);
                    }
                }
            }
            prop_assert_eq!(decide(&base), decide(&changed), "{} {}", name, LISTS[which]);
        }
    }

    #[test]
    fn widening_a_bound_list_never_denies(extra in "[a-z0-9-]{1,20}", which in 0usize..5) {
        for name in ["allowed_vm_system_assigned", "allowed_vmss_uniform", "allowed_resource_id_app_service", "allowed_vm_user_assigned"] {
            let base = vector(name);
            let mut wider = base.clone();
            if let Some(Value::Array(items)) = wider["role"].get_mut(LISTS[which]) {
                if !items.is_empty() {
                    items.push(Value::String(extra.clone()));
                }
            }
            prop_assert!(decide(&wider).0, "{} with {} += {}", name, LISTS[which], extra);
        }
    }

    #[test]
    fn evaluate_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = aadauth::evaluate_json(&bytes);
        let _ = aadauth::decode_token(&String::from_utf8_lossy(&bytes), Some(0));
    }

    #[test]
    fn evaluate_never_panics_on_mutated_inputs(path_idx in 0usize..12, value in prop_oneof![
        Just(Value::Null), any::<i64>().prop_map(Value::from), any::<f64>().prop_map(|f| serde_json::json!(f)),
        ".{0,40}".prop_map(Value::from), Just(serde_json::json!([])), Just(serde_json::json!({})),
        Just(serde_json::json!([[1], {"a": null}])), Just(Value::Bool(true)),
    ]) {
        let pointers = ["/login/jwt", "/login/role", "/role/bound_resource_groups", "/role/token_ttl", "/config/tenant_id",
            "/config/environment", "/keys", "/keys/keys", "/arm", "/now", "/role", "/login/vm_name"];
        for name in ["allowed_vm_system_assigned", "allowed_vmss_flexible_user_assigned"] {
            let mut input = vector(name);
            if let Some(slot) = input.pointer_mut(pointers[path_idx]) {
                *slot = value.clone();
            }
            let a = aadauth::evaluate(&input).map(|o| serde_json::to_string(&o).unwrap_or_default());
            let b = aadauth::evaluate(&input).map(|o| serde_json::to_string(&o).unwrap_or_default());
            prop_assert_eq!(&a, &b);
            // Read in place from its text, the input decides as its `Value` read from the
            // same text (not as `input`: serde_json's default float parsing does not always
            // give back the float it printed).
            let (in_place, tree) = both_ways(&serde_json::to_string(&input).unwrap_or_default());
            prop_assert_eq!(in_place, tree);
        }
    }

    #[test]
    fn token_mutations_never_verify(pos in 0usize..2000, bit in 0u8..8) {
        let mut input = vector("allowed_vm_system_assigned");
        let jwt = input["login"]["jwt"].as_str().unwrap_or_default().to_string();
        let mut bytes = jwt.into_bytes();
        let i = pos % bytes.len();
        bytes[i] ^= 1 << bit;
        let mutated = String::from_utf8_lossy(&bytes).into_owned();
        input["login"]["jwt"] = Value::String(mutated.clone());
        let out = aadauth::evaluate(&input).expect("valid input");
        // Base64url has 4 spellings of the last character of a part only when bits are
        // unused; aadauth verifies the token exactly as sent, so any change refuses.
        prop_assert!(!out.allowed, "mutated byte {} bit {} still allowed", i, bit);
    }
}

// The base64url checks are microseconds each: many more cases.
proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, .. ProptestConfig::default() })]

    /// The decoder's fast path (eight, then four characters a step) answers exactly what
    /// Go's quantum-by-quantum algorithm does: the same bytes, or the same error at the
    /// same offset, wherever a stray character falls.
    #[test]
    fn base64url_fast_path_equals_go_algorithm(
        text in "[A-Za-z0-9_\\-]{0,70}[A-Za-z0-9_\\-=+/\r\n. ]?[A-Za-z0-9_\\-]{0,70}[\r\n=]{0,2}",
    ) {
        prop_assert_eq!(
            aadauth::gocompat::base64url_decode(&text),
            aadauth::gocompat::base64url_decode_reference(&text),
            "{:?}", text
        );
    }

    /// The in-place canonical check is exactly "decodes, and re-encodes to itself".
    #[test]
    fn base64url_canonical_check_equals_decode_then_encode(
        text in "[A-Za-z0-9_\\-=+/\r\n. ]{0,12}|[A-Za-z0-9_\\-]{0,40}[A-Za-z0-9_\\-=+/\r\n. ]?[A-Za-z0-9_\\-]{0,40}",
    ) {
        use base64::Engine;
        let by_roundtrip = aadauth::gocompat::base64url_decode(&text).is_ok_and(|bytes| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes) == text
        });
        prop_assert_eq!(aadauth::gocompat::base64url_is_canonical(&text), by_roundtrip, "{:?}", text);
    }

    /// Vault's claim matching compares lower-cased copies; aadauth compares ASCII in place.
    /// Same answers, for paths mixing case, slashes, underscores and non-ASCII letters
    /// (which take the copying path), with patterns cut from the claim or made up.
    #[test]
    fn claim_substring_matching_equals_lower_cased_copies(
        claim in "[aAbB/_İK]{0,24}",
        pattern in "[aAbB/_İK]{0,5}",
        cut in any::<(usize, usize)>(),
    ) {
        // A pattern taken from the claim itself (at char boundaries), so that most cases match.
        let chars: Vec<char> = claim.chars().collect();
        let (a, b) = (cut.0 % (chars.len() + 1), cut.1 % (chars.len() + 1));
        let from_claim: String = chars[a.min(b)..a.max(b)].iter().collect();
        for p in [pattern.as_str(), from_claim.as_str()] {
            prop_assert_eq!(
                aadauth::resources::contains_fold(&claim, p),
                claim.to_lowercase().contains(&p.to_lowercase()),
                "contains_fold({:?}, {:?})", claim, p
            );
            prop_assert_eq!(
                aadauth::resources::matches_only_by_substring(&claim, p),
                aadauth::resources::matches_only_by_substring_reference(&claim, p),
                "matches_only_by_substring({:?}, {:?})", claim, p
            );
        }
    }
}
