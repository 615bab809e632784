//! The Envoy filter's configuration parser and its request path through the core's
//! `gateway` profile: arbitrary plugin configurations, gateway settings and bearer tokens.
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
    let genuine = base["login"]["jwt"].as_str().unwrap_or_default().to_string();
    let mut input = base;
    let token = String::from_utf8_lossy(data).into_owned();
    input["login"]["jwt"] = Value::String(token.clone());
    if let Ok(out) = aadauth::evaluate(&input) {
        // Only the genuine token (signed by the demo key) may ever be allowed.
        assert!(!out.allowed || token == genuine, "a forged token was allowed");
    }
});
