//! Key-set parsing and verification with whatever keys parse: no input may panic, and a
//! token is never verified by a key set the fuzzer made up (it holds no private key).
#![no_main]
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = include_str!("../seeds/token.txt");
/// The modulus of the demo key that signed TOKEN (test fixture).
const N1: &str = include_str!("../seeds/n1.txt");

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(keys) = aadauth::KeySet::from_jwks_str(&text) {
        let _ = keys.info();
        if let Ok(jws) = aadauth::token::parse_jws(TOKEN.trim(), &["RS256"]) {
            let v = keys.verify(&jws);
            if let aadauth::keys::Verification::Verified(by) = &v {
                // Only the demo tenant's real key may verify the demo token: some key of
                // the set must have its modulus. Compared as numbers, not as text: base64url
                // spellings differing only in the unused bits of the last character, or in
                // leading zero bytes, are the same key, to Go (and Vault) as to aadauth.
                assert!(
                    moduli(&text).any(|n| n == modulus(N1.trim())),
                    "verified by {by} without the signing key"
                );
            }
            assert_eq!(v, keys.verify_reference(&jws));
        }
    }
});

/// A base64url modulus as Go reads it (`RawURLEncoding`, which ignores the unused bits of
/// the last character), without leading zero bytes (a `big.Int`); empty when undecodable.
/// Decoded with the `base64` crate, not aadauth's own decoder, so the check is independent.
fn modulus(text: &str) -> Vec<u8> {
    use base64::engine::{general_purpose::GeneralPurpose, GeneralPurposeConfig};
    use base64::{alphabet, engine::DecodePaddingMode, Engine};
    let go = GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone),
    );
    let bytes = go.decode(text).unwrap_or_default();
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[start..].to_vec()
}

/// The moduli of every key object in a JWKS text that is JSON.
fn moduli(text: &str) -> impl Iterator<Item = Vec<u8>> {
    let doc: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let keys = doc["keys"].as_array().cloned().unwrap_or_default();
    keys.into_iter()
        .filter_map(|k| k["n"].as_str().map(modulus))
        .filter(|n| !n.is_empty())
}
