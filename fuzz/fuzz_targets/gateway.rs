//! The Envoy filter's configuration parser and its request path through the core's
//! `gateway` profile: arbitrary plugin configurations, gateway settings and bearer tokens;
//! and `aadauth::Gate` (the verified-token cache in front of the same checks): a forged
//! token is never admitted, first or from the cache.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const BASE: &str = include_str!("../seeds/gateway_base.json");

fuzz_target!(|data: &[u8]| {
    let _ = aadauth_filter::config::FilterConfig::parse(data);
    let Ok(mut base) = serde_json::from_str::<Value>(BASE) else {
        return;
    };
    base["profile"] = json!("gateway");
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        let mut input = base.clone();
        input["gateway"] = v;
        let _ = aadauth::evaluate(&input);
    }
    let genuine = base["login"]["jwt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token = String::from_utf8_lossy(data).into_owned();
    if let Some(mut gate) = gate_of(&base) {
        let role = aadauth::Role::from_json(&base["role"], "r").ok();
        let now = base["now"].as_i64().unwrap_or(0);
        if let Some(role) = role {
            // The genuine token first, so that the cache holds it; then the input twice.
            let _ = gate.check(&genuine, now, &role, None);
            for _ in 0..2 {
                let d = gate.check(&token, now, &role, None);
                assert!(
                    !d.allowed || token == genuine,
                    "Gate admitted a forged token"
                );
            }
        }
    }
    let mut input = base;
    input["login"]["jwt"] = Value::String(token.clone());
    if let Ok(out) = aadauth::evaluate(&input) {
        // Only the genuine token (signed by the demo key) may ever be allowed.
        assert!(
            !out.allowed || token == genuine,
            "a forged token was allowed"
        );
    }
});

/// A gate over the seed's tenant, audience and keys, with a small cache.
fn gate_of(base: &Value) -> Option<aadauth::Gate> {
    let config = aadauth::Config::from_json(&base["config"]).ok()?;
    let cloud = aadauth::Cloud::from_environment(&config.environment).ok()?;
    let verifier = aadauth::gateway::Verifier::new(
        &config.tenant_id,
        cloud,
        &aadauth::gateway::GatewaySettings::default(),
        &config.resource,
    )
    .ok()?;
    let keys = aadauth::KeySet::from_jwks(&base["keys"]).ok()?;
    Some(aadauth::Gate::new(verifier, keys, 4, Vec::new()))
}
