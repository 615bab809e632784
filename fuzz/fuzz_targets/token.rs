//! Token parsing in every form: go-oidc's payload split, claims, go-jose's header parse,
//! the plugin's claims, and `decode_token` (raw, Bearer, IMDS JSON).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(payload) = aadauth::token::decode_payload(&text) {
        if let Ok(m) = aadauth::token::parse_object(&payload, "oidc.idToken") {
            if let Ok(c) = aadauth::token::oidc_claims(&m) {
                let _ = aadauth::token::check_distributed_claims(&c);
            }
            let _ = aadauth::token::azure_claims(&m);
        }
    }
    let _ = aadauth::token::parse_jws(&text, &["RS256"]);
    let _ = aadauth::decode_token(&text, Some(1_764_500_000));
});
