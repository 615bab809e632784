//! The fast RS256 path (`aadauth::signature`) against references:
//! - the raw public operation `s^e mod n` against `num-bigint` on 100,000 random moduli,
//!   exponents and signatures (odd moduli of 512–4096 bits, signatures above and below n);
//! - full verification against the `rsa` crate (`pkcs1v15::VerifyingKey`) and
//!   jsonwebtoken, with real keys (test fixtures), on valid signatures and on corrupted
//!   signatures, messages and encodings.

use aadauth::signature::RsaVerifier;
use num_bigint::BigUint;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn public_operation_matches_num_bigint_on_100k_random_inputs() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let cases = 100_000;
    let mut checked_below = 0;
    for i in 0..cases {
        // Mostly short moduli (fast), regularly the real sizes.
        let len = match i % 50 {
            0 => 512,
            1..=3 => 256,
            4..=9 => 128 + rng.below(128) as usize,
            _ => 64 + rng.below(64) as usize,
        };
        let mut n = rng.bytes(len);
        n[0] |= 0x80;
        n[len - 1] |= 1;
        let e: u64 = match rng.below(4) {
            0 => 3,
            1 => 65_537,
            _ => (rng.next() >> 32) | 1 | 2,
        };
        let e_be = e.to_be_bytes();
        let Some(v) = RsaVerifier::new(&n, &e_be) else {
            panic!("case {i}: modulus refused");
        };
        let mut s = rng.bytes(len);
        if rng.below(8) != 0 {
            s[0] &= 0x7f; // usually below n
        }
        let nn = BigUint::from_bytes_be(&n);
        let ss = BigUint::from_bytes_be(&s);
        let got = v.public_op(&s);
        if ss >= nn {
            assert!(got.is_none(), "case {i}: s ≥ n must be refused");
            continue;
        }
        checked_below += 1;
        let want = ss.modpow(&BigUint::from(e), &nn).to_bytes_be();
        let mut want_padded = vec![0u8; len - want.len()];
        want_padded.extend_from_slice(&want);
        assert_eq!(
            got.as_deref(),
            Some(want_padded.as_slice()),
            "case {i}: len {len} e {e}"
        );
    }
    assert!(checked_below > 80_000);
}

fn fixture_keys() -> Vec<(String, rsa::PrivateKey)> {
    let root = env!("CARGO_MANIFEST_DIR");
    [
        "demo/keys/tenant-key-1.pem",
        "demo/keys/tenant-key-2.pem",
        "demo/keys/weak-1024.pem",
        "tests/keys/rsa-2048-e3.pem",
        "tests/keys/rsa-2056.pem",
        "tests/keys/rsa-3072.pem",
        "tests/keys/rsa-4096.pem",
    ]
    .iter()
    .map(|p| {
        let pem = std::fs::read_to_string(format!("{root}/{p}")).expect("fixture key");
        (
            p.to_string(),
            rsa::PrivateKey::from_pkcs8_pem(&pem).expect("pkcs8"),
        )
    })
    .collect()
}

#[test]
fn verification_matches_the_rsa_crate_on_valid_and_corrupted_signatures() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut total = 0;
    for (name, key) in fixture_keys() {
        let public = key.to_public_key();
        let ours = RsaVerifier::new(&public.n_bytes(), &public.e_bytes()).expect("prepared");
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
        let reference = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public.clone());
        let rounds = if public.size() > 300 { 60 } else { 150 };
        for round in 0..rounds {
            let len = 1 + rng.below(300) as usize;
            let msg = rng.bytes(len);
            let sig = signer.sign(&msg).to_vec();
            let variants: Vec<(Vec<u8>, Vec<u8>)> = vec![
                (msg.clone(), sig.clone()),
                {
                    let mut s = sig.clone();
                    let i = rng.below(s.len() as u64) as usize;
                    s[i] ^= 1 << rng.below(8);
                    (msg.clone(), s)
                },
                {
                    let mut m = msg.clone();
                    let i = rng.below(m.len() as u64) as usize;
                    m[i] ^= 0x20;
                    (m, sig.clone())
                },
                (msg.clone(), sig[1..].to_vec()),
                (msg.clone(), [&[0u8][..], &sig].concat()),
                (msg.clone(), rng.bytes(sig.len())),
                (msg.clone(), vec![0u8; sig.len()]),
            ];
            for (k, (m, s)) in variants.iter().enumerate() {
                let want = rsa::pkcs1v15::Signature::try_from(s.as_slice())
                    .map(|sig| reference.verify(m, &sig).is_ok())
                    .unwrap_or(false);
                let got = ours.verify_rs256(m, s);
                assert_eq!(got, want, "{name} round {round} variant {k}");
                if k == 0 {
                    assert!(got, "{name}: a valid signature must verify");
                }
                total += 1;
            }
        }
    }
    assert!(total > 5_000);
}

/// A signature over a correctly padded message whose DigestInfo is altered (e.g. SHA-1's
/// OID, or trailing garbage instead of padding) must never verify: the whole encoding is
/// compared. Built with the private key's raw operation via the rsa crate's hazmat-free
/// path: sign the *digest-free* encoding by exponentiating with d using num-bigint.
#[test]
fn altered_encodings_never_verify() {
    let (_, key) = fixture_keys().into_iter().next().expect("key");
    let public = key.to_public_key();
    let ours = RsaVerifier::new(&public.n_bytes(), &public.e_bytes()).expect("prepared");
    let n = BigUint::from_bytes_be(&public.n_bytes());
    let d = BigUint::from_bytes_be(&key.d().to_be_bytes());
    let k = public.size();
    let msg = b"header.payload";
    let digest = {
        use sha2::Digest;
        sha2::Sha256::digest(msg).to_vec()
    };
    let info: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    let encode = |prefix: &[u8], fill: u8, tail: &[u8]| {
        let t_len = info.len() + digest.len() + tail.len();
        let mut em = prefix.to_vec();
        em.resize(k - t_len - 1, fill);
        em.push(0);
        em.extend_from_slice(&info);
        em.extend_from_slice(&digest);
        em.extend_from_slice(tail);
        em.truncate(k);
        em
    };
    let sign_raw = |em: &[u8]| {
        let s = BigUint::from_bytes_be(em).modpow(&d, &n).to_bytes_be();
        let mut out = vec![0u8; k - s.len()];
        out.extend_from_slice(&s);
        out
    };
    // The genuine encoding verifies (sanity check of the construction).
    assert!(ours.verify_rs256(msg, &sign_raw(&encode(&[0, 1], 0xff, &[]))));
    // Block type 2, padding not 0xff, garbage after the hash: all refused.
    assert!(!ours.verify_rs256(msg, &sign_raw(&encode(&[0, 2], 0xff, &[]))));
    assert!(!ours.verify_rs256(msg, &sign_raw(&encode(&[0, 1], 0xfe, &[]))));
    let mut short_pad = encode(&[0, 1], 0xff, &[]);
    short_pad.rotate_left(1);
    assert!(!ours.verify_rs256(msg, &sign_raw(&short_pad)));
}

/// The fast path accepts exactly the public keys the `rsa` crate accepts (in the sizes
/// aadauth uses): random exponents and moduli around the limits.
#[test]
fn key_acceptance_matches_the_rsa_crate() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for i in 0..2_000 {
        let len = [64usize, 127, 128, 256, 512, 1024, 1025][i % 7];
        let mut n = rng.bytes(len);
        n[0] |= 0x80;
        if rng.below(4) != 0 {
            n[len - 1] |= 1;
        }
        let e: u64 = match rng.below(6) {
            0 => 1,
            1 => 2,
            2 => (1 << 33) - 1,
            3 => 1 << 33 | 1,
            4 => 65_537,
            _ => rng.next() >> rng.below(64),
        };
        let e_be = e.to_be_bytes();
        let reference = rsa::PublicKey::new(
            rsa::BoxedUint::from_be_slice_vartime(&n),
            rsa::BoxedUint::from_be_slice_vartime(&e_be),
        )
        .is_ok()
            && e % 2 == 1
            && n[len - 1] % 2 == 1;
        let ours = RsaVerifier::for_public_key(&n, &e_be).is_some();
        assert_eq!(ours, reference, "case {i}: len {len} e {e}");
    }
}
