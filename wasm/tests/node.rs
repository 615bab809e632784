//! The JavaScript API in Node: `wasm-pack test --node wasm`.

#![cfg(target_arch = "wasm32")]

mod common;
mod js_api;

/// A deterministic xorshift* generator (the tests need no `rand` in WebAssembly).
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The RS256 arithmetic with 32-bit limbs (how it runs in WebAssembly) against num-bigint;
/// `tests/rs256_differential.rs` checks the 64-bit build natively on 100,000 keys. Random
/// odd moduli of 512 to 4160 bits (odd and even limb counts), signatures below n,
/// e = 3, 65537 or a random odd exponent.
#[wasm_bindgen_test::wasm_bindgen_test]
fn rs256_public_operation_with_32_bit_limbs_matches_num_bigint() {
    use num_bigint::BigUint;
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
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

/// The SIMD128 path (radix 2^28, `src/signature/simd128.rs`) serves every modulus of 2043
/// to 2048 bits, the size of Azure AD keys: compared with num-bigint on random moduli of
/// each of those sizes, with random signatures and the edge values 0, 1, 2, n − 2, n − 1
/// (and n itself, which must be refused).
#[wasm_bindgen_test::wasm_bindgen_test]
fn rs256_public_operation_of_2048_bit_moduli_matches_num_bigint() {
    use num_bigint::BigUint;
    let mut next = xorshift(0x2545_F491_4F6C_DD1D);
    let mut checked = 0;
    for case in 0..300u64 {
        let bits = 2043 + (case % 6) as usize;
        let top_bits = bits - 255 * 8;
        let mut n: Vec<u8> = (0..256).map(|_| next() as u8).collect();
        n[0] = (n[0] & ((1u16 << top_bits) - 1) as u8) | (1 << (top_bits - 1));
        n[255] |= 1;
        let e: u64 = match case % 3 {
            0 => 65537,
            1 => 3,
            _ => (next() % (1 << 33)) | 1 | 2,
        };
        let Some(v) = aadauth::signature::RsaVerifier::new(&n, &e.to_be_bytes()) else {
            panic!("case {case}: a {bits}-bit modulus was refused");
        };
        assert_eq!(v.bits(), bits);
        let nb = BigUint::from_bytes_be(&n);
        let mut random: Vec<u8> = (0..256).map(|_| next() as u8).collect();
        random[0] &= n[0] >> 1;
        let signatures = [
            BigUint::from_bytes_be(&random),
            BigUint::from(0u8),
            BigUint::from(1u8),
            BigUint::from(2u8),
            &nb - 2u8,
            &nb - 1u8,
        ];
        let be = |b: &BigUint| {
            let raw = b.to_bytes_be();
            let mut out = vec![0u8; 256 - raw.len()];
            out.extend_from_slice(&raw);
            out
        };
        for s in &signatures {
            let want = be(&s.modpow(&BigUint::from(e), &nb));
            assert_eq!(
                v.public_op(&be(s)),
                Some(want),
                "case {case}: {bits} bits, e = {e}"
            );
            checked += 1;
        }
        assert_eq!(
            v.public_op(&be(&nb)),
            None,
            "case {case}: s = n must be refused"
        );
    }
    assert_eq!(checked, 300 * 6);
}

/// The SIMD128 arithmetic at its extremes, where its column sums come closest to their
/// bounds (`src/signature/simd128.rs` proves them at compile time; this checks the values):
/// moduli whose limbs are all ones or mostly zeros, the largest and smallest sizes it
/// takes, and signatures of all-ones limbs, n − 1, (n − 1)/2 and 2.
#[wasm_bindgen_test::wasm_bindgen_test]
fn rs256_public_operation_of_extreme_2048_bit_moduli_matches_num_bigint() {
    use num_bigint::BigUint;
    let one = BigUint::from(1u8);
    let pow2 = |bits: u32| &one << bits;
    let moduli = [
        pow2(2048) - 1u8,                 // every bit set
        pow2(2047) + 1u8,                 // top and bottom bits only
        pow2(2048) - pow2(1024) - 1u8,    // ones, a zero at bit 1024
        pow2(2043) - 1u8,                 // the smallest size taken, all ones
        pow2(2042) + pow2(1000) + 1u8,    // the smallest size taken, sparse
        pow2(2048) - pow2(28 * 37) + 1u8, // a zero limb boundary in the middle
    ];
    let mut checked = 0;
    for (m, n) in moduli.iter().enumerate() {
        let n_be = n.to_bytes_be();
        let be = |b: &BigUint| {
            let raw = b.to_bytes_be();
            let mut out = vec![0u8; n_be.len() - raw.len()];
            out.extend_from_slice(&raw);
            out
        };
        let ones = (pow2(28 * 73) - 1u8) % n; // 73 limbs of 2^28 − 1
        let signatures = [n - 1u8, n - 2u8, (n - 1u8) >> 1, ones, BigUint::from(2u8)];
        for e in [65537u64, 3] {
            let v = aadauth::signature::RsaVerifier::new(&n_be, &e.to_be_bytes())
                .unwrap_or_else(|| panic!("modulus {m} was refused"));
            for s in &signatures {
                let want = be(&s.modpow(&BigUint::from(e), n));
                assert_eq!(v.public_op(&be(s)), Some(want), "modulus {m}, e = {e}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 5 * 2);
}
