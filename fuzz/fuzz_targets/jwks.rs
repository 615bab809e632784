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
                // Only the demo tenant's real key may verify the demo token.
                assert!(text.contains(N1.trim()), "verified by {by} without the signing key");
            }
            assert_eq!(v, keys.verify_reference(&jws));
        }
    }
});
