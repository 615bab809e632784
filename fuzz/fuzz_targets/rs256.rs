//! The verification-only RSA path against num-bigint: `s^e mod n` must agree for every
//! modulus, exponent and signature the fuzzer finds (512–1016-bit moduli, and 2048-bit).
#![no_main]
use libfuzzer_sys::fuzz_target;
use num_bigint::BigUint;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    // A quarter of the inputs at 2048 bits, the size of Azure AD keys, which has its own
    // arithmetic (fully unrolled product scanning natively); the rest 512–1016 bits.
    let len = if data[0] >= 192 {
        256
    } else {
        64 + (usize::from(data[0]) % 64)
    };
    let e = [3u64, 65_537, 17, 0x1_0001_0001][usize::from(data[1]) % 4];
    let body = &data[2..];
    let mut n: Vec<u8> = (0..len)
        .map(|i| body.get(i).copied().unwrap_or(i as u8 ^ 0x5a))
        .collect();
    n[0] |= 0x80;
    n[len - 1] |= 1;
    let s: Vec<u8> = (0..len)
        .map(|i| body.get(len + i).copied().unwrap_or(0))
        .collect();
    let Some(v) = aadauth::signature::RsaVerifier::new(&n, &e.to_be_bytes()) else {
        return;
    };
    let nn = BigUint::from_bytes_be(&n);
    let ss = BigUint::from_bytes_be(&s);
    let got = v.public_op(&s);
    if ss >= nn {
        assert!(got.is_none());
        return;
    }
    let want = ss.modpow(&BigUint::from(e), &nn).to_bytes_be();
    let mut padded = vec![0u8; len - want.len()];
    padded.extend_from_slice(&want);
    assert_eq!(got.as_deref(), Some(padded.as_slice()));
    let _ = v.verify_rs256(body, &s);
});
