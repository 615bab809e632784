//! The JavaScript API in Node: `wasm-pack test --node wasm`.

#![cfg(target_arch = "wasm32")]

mod common;
mod js_api;

/// The RS256 arithmetic with 32-bit limbs (how it runs in WebAssembly) against num-bigint;
/// `tests/rs256_differential.rs` checks the 64-bit build natively on 100,000 keys. Random
/// odd moduli of 512 to 4160 bits (odd and even limb counts), signatures below n,
/// e = 3, 65537 or a random odd exponent.
#[wasm_bindgen_test::wasm_bindgen_test]
fn rs256_public_operation_with_32_bit_limbs_matches_num_bigint() {
    use num_bigint::BigUint;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut checked = 0;
    for case in 0..1500u64 {
        let k = 64 + (next() % 457) as usize;
        let mut n: Vec<u8> = (0..k).map(|_| next() as u8).collect();
        n[0] |= 0x80;
        n[k - 1] |= 1;
        let mut s: Vec<u8> = (0..k).map(|_| next() as u8).collect();
        s[0] &= 0x7f;
        let e: u64 = match case % 3 {
            0 => 65537,
            1 => 3,
            _ => (next() % (1 << 33)) | 1 | 2,
        };
        let e_be: Vec<u8> = e.to_be_bytes().to_vec();
        let Some(v) = aadauth::signature::RsaVerifier::new(&n, &e_be) else {
            continue;
        };
        let want = BigUint::from_bytes_be(&s)
            .modpow(&BigUint::from(e), &BigUint::from_bytes_be(&n))
            .to_bytes_be();
        let mut padded = vec![0u8; k - want.len()];
        padded.extend_from_slice(&want);
        assert_eq!(
            v.public_op(&s),
            Some(padded),
            "case {case}: {k} bytes, e = {e}"
        );
        checked += 1;
    }
    assert!(checked >= 1400, "only {checked} cases checked");
}
