//! The fast RS256 path (`aadauth::signature`) against references:
//! - the raw public operation `s^e mod n` against `num-bigint` on 100,000 random moduli,
//!   exponents and signatures (odd moduli of 512–4096 bits, signatures above and below n);
//! - full verification against the `rsa` crate (`pkcs1v15::VerifyingKey`) with real keys
//!   (test fixtures), on valid signatures and on corrupted signatures, messages and
//!   encodings;
//! - full verification against the `rsa` crate on 101,716 distinct random keys
//!   (`verification_matches_the_rsa_crate_on_100k_random_keys`): pairs drawn from pools of
//!   random primes (100,000 keys of 1024 bits, the others of 1025 to 4096 bits, e = 65537,
//!   3 or random up to 2³³ − 1), each with a random message, its valid signature (made by
//!   the rsa crate or with num-bigint), a corrupted signature, a corrupted message, a
//!   malformed signature (wrong length, ≥ n, 0, 1, n − 1…) and, for one key in eight, a
//!   genuine RSA signature over an encoding other than RS256's. Every verdict of
//!   `RsaVerifier` is compared with the rsa crate's. The whole run is deterministic.

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

/// 2048-bit moduli, the size every Azure AD key has and the one with its own arithmetic
/// (fully unrolled product scanning on 64-bit targets): moduli of every shape that stresses
/// carries (all ones, the top limb all ones, just above 2^2047, a low limb of 1, random)
/// with the edge signatures 0, 1, 2, n − 2, n − 1 and random ones, for e = 3, 65537 and
/// random exponents (many one bits: many multiplications besides the squarings).
#[test]
fn public_operation_of_2048_bit_moduli_of_every_shape_matches_num_bigint() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let two = BigUint::from(2u32);
    let mut moduli: Vec<BigUint> = vec![
        (BigUint::from(1u32) << 2048u32) - 1u32,
        (BigUint::from(1u32) << 2047u32) + 1u32,
        (BigUint::from(1u32) << 2047u32) + 0x1_0000_0001u64,
        (BigUint::from(u64::MAX) << 1984u32) + 1u32,
        ((BigUint::from(1u32) << 2048u32) - 1u32) - (BigUint::from(u64::MAX) << 64u32),
    ];
    for _ in 0..300 {
        let mut n = rng.bytes(256);
        n[0] |= 0x80;
        n[255] |= 1;
        match rng.below(4) {
            0 => n[..8].fill(0xff),
            1 => n[248..255].fill(0),
            2 => n[..128].fill(0xff),
            _ => {}
        }
        moduli.push(BigUint::from_bytes_be(&n));
    }
    let mut checked = 0;
    for (i, nn) in moduli.iter().enumerate() {
        let n = nn.to_bytes_be();
        assert_eq!(n.len(), 256);
        let mut sigs: Vec<BigUint> = vec![
            BigUint::from(0u32),
            BigUint::from(1u32),
            two.clone(),
            nn - 2u32,
            nn - 1u32,
            nn >> 1u32,
        ];
        for _ in 0..4 {
            sigs.push(BigUint::from_bytes_be(&rng.bytes(256)) % nn);
        }
        for e in [3u64, 65_537, (rng.next() >> 31) | 3] {
            let v = RsaVerifier::new(&n, &e.to_be_bytes()).expect("odd 2048-bit modulus");
            for ss in &sigs {
                let s = left_pad(ss.to_bytes_be(), 256);
                let want = left_pad(ss.modpow(&BigUint::from(e), nn).to_bytes_be(), 256);
                assert_eq!(
                    v.public_op(&s).as_deref(),
                    Some(want.as_slice()),
                    "modulus {i} ({}), e {e}, s {}",
                    hex(&n),
                    hex(&s)
                );
                checked += 1;
            }
            // s = n itself is refused (as every s ≥ n).
            assert!(v.public_op(&n).is_none(), "modulus {i}: s = n");
        }
    }
    assert!(checked > 9_000);
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

// ---------------------------------------------------------------------------------------
// Verification against the rsa crate on 100,000+ random keys.
// ---------------------------------------------------------------------------------------

/// SHA-256's DigestInfo prefix (RFC 8017 §9.2, notes).
const SHA256_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
/// SHA-1's DigestInfo prefix (followed by 20 bytes).
const SHA1_INFO: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
/// SHA-256's DigestInfo with the AlgorithmIdentifier's NULL parameters left out, as some
/// signers produce it: not RS256's encoding, which has the NULL.
const SHA256_INFO_NO_NULL: [u8; 17] = [
    0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x04,
    0x20,
];
/// SHA-512's OID in an otherwise SHA-256-shaped DigestInfo.
const SHA512_OID_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x20,
];
/// SHA-256's DigestInfo with the outer length in (non-DER) long form.
const SHA256_INFO_LONG_LENGTH: [u8; 20] = [
    0x30, 0x81, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    0x05, 0x00, 0x04, 0x20,
];

/// Prime pools: (bits of each prime, number of primes). Every prime has its top two bits
/// set, so that the product of two primes of b and b' ∈ {b, b + 1} bits has exactly
/// b + b' bits, and p ≢ 1 (mod 65537), so that e = 65537 is usable with any pair.
const PRIME_POOLS: [(u64, usize); 10] = [
    (512, 460),
    (513, 12),
    (516, 12),
    (520, 12),
    (544, 12),
    (768, 12),
    (1024, 48),
    (1028, 6),
    (1536, 8),
    (2048, 6),
];
/// Keys: (pool of p, pool of q, number of keys), each key a distinct pair of primes.
/// C(460, 2) = 105,570 pairs give the 100,000 keys of 1024 bits; the others cover
/// moduli whose length is not a whole number of limbs or bytes, and the larger sizes.
const KEY_SETS: [(usize, usize, usize); 11] = [
    (0, 0, 100_000), // 1024 bits
    (0, 1, 200),     // 1025 bits (k = 129, top byte 0x01)
    (1, 1, 66),      // 1026 bits
    (2, 2, 66),      // 1032 bits
    (3, 3, 66),      // 1040 bits
    (4, 4, 66),      // 1088 bits
    (5, 5, 66),      // 1536 bits
    (6, 6, 1_128),   // 2048 bits
    (7, 7, 15),      // 2056 bits
    (8, 8, 28),      // 3072 bits
    (9, 9, 15),      // 4096 bits
];
/// The valid signature of one key in this many (index ≡ 0), and of every key over 1100
/// bits, is made by the rsa crate (`pkcs1v15::SigningKey`); the others' with num-bigint
/// (CRT), twice as fast.
const RSA_SIGNS_ONE_IN: usize = 8;
/// One key in this many (index ≡ 0: signed by the rsa crate, so that the genuine encoding
/// signed with num-bigint is also compared with the rsa crate's signature) also gets a
/// signature over an altered encoding, in turn one of 13 variants.
const ALTERED_ENCODING_ONE_IN: usize = 8;

fn small_primes(limit: u32) -> Vec<u32> {
    let mut composite = vec![false; limit as usize];
    let mut primes = Vec::new();
    for i in 2..limit {
        if !composite[i as usize] {
            primes.push(i);
            for j in (i as usize * i as usize..limit as usize).step_by(i as usize) {
                composite[j] = true;
            }
        }
    }
    primes
}

/// Miller–Rabin with `rounds` random bases (n odd, n > 4).
fn miller_rabin(n: &BigUint, rounds: usize, rng: &mut Rng) -> bool {
    let one = BigUint::from(1u32);
    let n_minus_1 = n - &one;
    let s = n_minus_1.trailing_zeros().expect("n > 1");
    let d = &n_minus_1 >> s;
    let len = n.bits().div_ceil(8) as usize + 8;
    'witness: for _ in 0..rounds {
        let a = BigUint::from_bytes_be(&rng.bytes(len)) % (n - 3u32) + 2u32;
        let mut x = a.modpow(&d, n);
        if x == one || x == n_minus_1 {
            continue;
        }
        for _ in 1..s {
            x = &x * &x % n;
            if x == n_minus_1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

/// A random prime of exactly `bits` bits with its top two bits set, ≢ 1 mod 65537: the
/// first probable prime after a random odd start, found through a sieve of the primes
/// below 2¹⁶, then Miller–Rabin with random bases (at least the rounds FIPS 186-4 table
/// C.2 asks of random candidates of these sizes; a composite would not pass unnoticed:
/// its valid signature would be refused by both verifiers, or the rsa crate refuse the key).
fn random_prime(bits: u64, rng: &mut Rng, small: &[u32]) -> BigUint {
    let rounds = if bits < 1024 { 8 } else { 5 };
    let window = 16 * bits as usize; // odd candidates start, start + 2, …
    loop {
        let mut bytes = rng.bytes(bits.div_ceil(8) as usize);
        bytes[0] &= 0xff >> (bytes.len() as u64 * 8 - bits);
        let start = BigUint::from_bytes_be(&bytes)
            | (BigUint::from(3u32) << (bits - 2))
            | BigUint::from(1u32);
        let mut sieved = vec![false; window];
        for &p in &small[1..] {
            // start + 2j ≡ 0 (mod p)  ⇔  j ≡ −start · 2⁻¹ (mod p)
            let r = u64::from(u32::try_from(&(&start % p)).expect("residue"));
            let p = u64::from(p);
            let first = (p - r) % p * p.div_ceil(2) % p;
            for j in (first as usize..window).step_by(p as usize) {
                sieved[j] = true;
            }
        }
        for j in (0..window).filter(|&j| !sieved[j]) {
            let candidate = &start + 2 * j as u64;
            if candidate.bits() != bits {
                break;
            }
            if u32::try_from(&(&candidate % 65_537u32)).expect("residue") != 1
                && miller_rabin(&candidate, rounds, rng)
            {
                return candidate;
            }
        }
    }
}

/// The prime pools of `PRIME_POOLS`, each prime from a generator of its own (so that they
/// can be found on all cores and still be the same on every run).
fn prime_pools() -> Vec<Vec<BigUint>> {
    let small = small_primes(1 << 16);
    let mut tasks: Vec<(usize, usize)> = PRIME_POOLS
        .iter()
        .enumerate()
        .flat_map(|(pool, &(_, count))| (0..count).map(move |i| (pool, i)))
        .collect();
    tasks.sort_by_key(|&(pool, _)| std::cmp::Reverse(PRIME_POOLS[pool].0));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let found: Vec<(usize, usize, BigUint)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut found = Vec::new();
                    loop {
                        let t = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(pool, i)) = tasks.get(t) else {
                            return found;
                        };
                        let mut rng = stream(1 << 40 | (pool as u64) << 32 | i as u64);
                        found.push((pool, i, random_prime(PRIME_POOLS[pool].0, &mut rng, &small)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("prime search"))
            .collect()
    });
    let mut pools: Vec<Vec<BigUint>> = PRIME_POOLS
        .iter()
        .map(|&(_, count)| vec![BigUint::default(); count])
        .collect();
    for (pool, i, p) in found {
        pools[pool][i] = p;
    }
    let distinct: std::collections::HashSet<&BigUint> = pools.iter().flatten().collect();
    assert_eq!(distinct.len(), tasks.len(), "the primes are distinct");
    pools
}

/// The generator of one key or prime: seeded through splitmix64's finaliser, so that
/// neighbouring streams do not start alike.
fn stream(id: u64) -> Rng {
    let mut z = id.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Rng((z ^ (z >> 31)) | 1)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Whether e is invertible modulo λ(n) = lcm(p − 1, q − 1).
fn exponent_fits(e: u64, p: &BigUint, q: &BigUint) -> bool {
    [p, q].iter().all(|x| {
        let r = u64::try_from(&((*x - 1u32) % e)).expect("residue");
        gcd(e, r) == 1
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn left_pad(bytes: Vec<u8>, k: usize) -> Vec<u8> {
    assert!(bytes.len() <= k, "{} bytes do not fit in {k}", bytes.len());
    let mut out = vec![0u8; k - bytes.len()];
    out.extend_from_slice(&bytes);
    out
}

/// The private operation with num-bigint (CRT), for encodings the rsa crate will not sign.
struct CrtSigner {
    n: BigUint,
    p: BigUint,
    q: BigUint,
    dp: BigUint,
    dq: BigUint,
    q_inv: BigUint,
    k: usize,
}

impl CrtSigner {
    fn new(p: &BigUint, q: &BigUint, e: u64, k: usize) -> CrtSigner {
        // e⁻¹ mod m = (1 + j·m) / e with j = −m⁻¹ mod e: word arithmetic (e < 2³³) instead
        // of a big modular inverse.
        let inverse_of_e = |m: BigUint| {
            let r = u64::try_from(&(&m % e)).expect("residue");
            let (mut a, mut b, mut x, mut y) = (i128::from(r), i128::from(e), 1i128, 0i128);
            while b != 0 {
                let t = a / b;
                (a, b, x, y) = (b, a - t * b, y, x - t * y);
            }
            assert_eq!(a, 1, "e invertible");
            let j = (i128::from(e) - x.rem_euclid(i128::from(e))) as u64 % e;
            let numerator = m * j + 1u32;
            let d = &numerator / e;
            assert_eq!(d.clone() * e, numerator, "e · d = 1 + j · m");
            d
        };
        let dp = inverse_of_e(p - 1u32);
        let dq = inverse_of_e(q - 1u32);
        let q_inv = q.modinv(p).expect("q invertible mod p");
        CrtSigner {
            n: p * q,
            p: p.clone(),
            q: q.clone(),
            dp,
            dq,
            q_inv,
            k,
        }
    }

    /// `em^d mod n` as k bytes (em < n).
    fn sign_raw(&self, em: &[u8]) -> Vec<u8> {
        let m = BigUint::from_bytes_be(em);
        assert!(m < self.n, "encoding not below n");
        let m1 = (&m % &self.p).modpow(&self.dp, &self.p);
        let m2 = (&m % &self.q).modpow(&self.dq, &self.q);
        let h = ((&m1 + &self.p - (&m2 % &self.p)) * &self.q_inv) % &self.p;
        left_pad((m2 + h * &self.q).to_bytes_be(), self.k)
    }
}

/// `head ‖ fill… ‖ tail`, k bytes.
fn encoding(k: usize, head: &[u8], fill: u8, tail: &[u8]) -> Vec<u8> {
    let mut em = head.to_vec();
    em.resize(k - tail.len(), fill);
    em.extend_from_slice(tail);
    em
}

#[derive(Default)]
struct Tally(std::collections::BTreeMap<String, usize>);
impl Tally {
    fn add(&mut self, what: impl Into<String>) {
        *self.0.entry(what.into()).or_default() += 1;
    }
    fn get(&self, what: &str) -> usize {
        self.0.get(what).copied().unwrap_or(0)
    }
    fn merge(&mut self, other: Tally) {
        for (k, v) in other.0 {
            *self.0.entry(k).or_default() += v;
        }
    }
}

/// One key under test: our verifier and the rsa crate's, on the same (n, e).
struct KeyUnderTest {
    index: usize,
    bits: u64,
    e: u64,
    n_be: Vec<u8>,
    ours: Option<RsaVerifier>,
    reference: Option<rsa::pkcs1v15::VerifyingKey<sha2::Sha256>>,
}

impl KeyUnderTest {
    /// Compares both verdicts on (msg, sig), and the rsa crate's with what the case is
    /// built to be (`expect_valid`), so that the comparison cannot pass vacuously.
    fn check(&self, case: &str, msg: &[u8], sig: &[u8], expect_valid: bool, tally: &mut Tally) {
        let ours = self.ours.as_ref().map(|v| v.verify_rs256(msg, sig));
        let reference = self.reference.as_ref().map(|vk| {
            rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| vk.verify(msg, &s).is_ok())
        });
        assert_eq!(
            ours,
            reference,
            "key {} ({}-bit, e = {}), case \"{case}\": aadauth says {ours:?}, the rsa crate \
             {reference:?}\n  n   = {}\n  msg = {}\n  sig = {}",
            self.index,
            self.bits,
            self.e,
            hex(&self.n_be),
            hex(msg),
            hex(sig)
        );
        assert_eq!(
            reference,
            Some(expect_valid),
            "key {} ({}-bit, e = {}), case \"{case}\": both say {reference:?}, the case was \
             built to be {}\n  n   = {}\n  msg = {}\n  sig = {}",
            self.index,
            self.bits,
            self.e,
            if expect_valid { "valid" } else { "invalid" },
            hex(&self.n_be),
            hex(msg),
            hex(sig)
        );
        tally.add(format!("case: {case}"));
        tally.add(if expect_valid {
            "verdict: valid, accepted by both"
        } else {
            "verdict: invalid, refused by both"
        });
    }
}

/// Everything about key `index`, the product of `p` and `q`: exponent, message, signatures
/// and their corruptions, all drawn from the key's own generator.
fn check_random_key(index: usize, p: &BigUint, q: &BigUint, tally: &mut Tally) {
    use sha2::Digest;
    let mut rng = stream(index as u64);
    let n = p * q;
    let n_be = n.to_bytes_be();
    let k = n_be.len();
    let bits = n.bits();
    tally.add(format!("keys of {bits:>4} bits"));

    // Exponent: mostly 65537, also 3 and random odd values up to 2³³ − 1. When e shares a
    // factor with λ(n), e = 3 gives way to 65537 and a random e is drawn again.
    let mut e = match rng.below(100) {
        0..=77 => 65_537,
        78..=89 => 3,
        90..=97 => (rng.next() >> 32 | 1).max(5),
        _ => rng.next() >> 31 | 1 | 1 << 32,
    };
    while !exponent_fits(e, p, q) {
        tally.add(if e == 3 {
            "e = 3 not invertible mod λ(n), 65537 instead"
        } else {
            "random e not invertible mod λ(n), drawn again"
        });
        e = if e == 3 {
            65_537
        } else {
            rng.next() >> 32 | 1 | 4 | (e & 1 << 32)
        };
    }
    tally.add(match e {
        3 => "e = 3",
        65_537 => "e = 65537",
        _ if e < 1 << 32 => "e: other, < 2^32",
        _ => "e: other, ≥ 2^32",
    });
    let mut e_be = e.to_be_bytes().to_vec();
    while e_be[0] == 0 {
        e_be.remove(0);
    }

    let key = KeyUnderTest {
        index,
        bits,
        e,
        ours: RsaVerifier::for_public_key(&n_be, &e_be),
        reference: rsa::PublicKey::new(
            rsa::BoxedUint::from_be_slice_vartime(&n_be),
            rsa::BoxedUint::from(e),
        )
        .ok()
        .map(rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new),
        n_be: n_be.clone(),
    };
    assert!(
        key.ours.is_some() && key.reference.is_some(),
        "key {index} ({bits}-bit, e = {e}): aadauth accepts it: {}, the rsa crate: {}",
        key.ours.is_some(),
        key.reference.is_some()
    );

    let msg_len = rng.below(301) as usize;
    let msg = rng.bytes(msg_len);
    let digest = sha2::Sha256::digest(&msg);
    let mut crt = None;
    let by_rsa_crate = bits > 1100 || index.is_multiple_of(RSA_SIGNS_ONE_IN);
    let sig = if by_rsa_crate {
        let private = rsa::PrivateKey::from_p_q(
            rsa::BoxedUint::from_be_slice_vartime(&p.to_bytes_be()),
            rsa::BoxedUint::from_be_slice_vartime(&q.to_bytes_be()),
            rsa::BoxedUint::from(e),
        )
        .unwrap_or_else(|err| panic!("key {index}: rsa::PrivateKey::from_p_q: {err}"));
        tally.add("valid signatures made by the rsa crate");
        rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private)
            .sign(&msg)
            .to_vec()
    } else {
        let signer = crt.insert(CrtSigner::new(p, q, e, k));
        tally.add("valid signatures made with num-bigint");
        signer.sign_raw(&encoding(
            k,
            &[0, 1],
            0xff,
            &[&[0][..], &SHA256_INFO, &digest].concat(),
        ))
    };
    assert_eq!(sig.len(), k, "key {index}: signature length");

    // (1) The valid signature.
    key.check("valid signature", &msg, &sig, true, tally);

    // (2) A corrupted signature.
    let mut bad = sig.clone();
    let at = rng.below(k as u64) as usize;
    if rng.below(2) == 0 {
        bad[at] ^= 1 << rng.below(8);
        key.check("signature with a bit flipped", &msg, &bad, false, tally);
    } else {
        bad[at] ^= 1 + rng.below(255) as u8;
        key.check("signature with a byte replaced", &msg, &bad, false, tally);
    }

    // (3) The valid signature over a corrupted message.
    let mut other = msg.clone();
    let case = match (msg.is_empty(), rng.below(4)) {
        (true, _) | (false, 3) => {
            other.push(rng.next() as u8);
            "message with a byte appended"
        }
        (false, 2) => {
            other.pop();
            "message with its last byte dropped"
        }
        _ => {
            let at = rng.below(other.len() as u64) as usize;
            other[at] ^= 1 << rng.below(8);
            "message with a bit flipped"
        }
    };
    key.check(case, &other, &sig, false, tally);

    // (4) A malformed signature: wrong length, not below n, degenerate values.
    let with_n = |s: &[u8]| (BigUint::from_bytes_be(s) + &n).to_bytes_be();
    let (case, s): (&str, Vec<u8>) = match rng.below(12) {
        0 => ("signature without its first byte", sig[1..].to_vec()),
        1 => ("signature without its last byte", sig[..k - 1].to_vec()),
        2 => ("signature after a zero byte", [&[0][..], &sig].concat()),
        3 => (
            "signature and a trailing byte",
            [&sig[..], &[rng.next() as u8]].concat(),
        ),
        4 => ("empty signature", Vec::new()),
        5 => ("signature = n", n_be.clone()),
        6 if with_n(&sig).len() <= k => ("signature + n", left_pad(with_n(&sig), k)),
        6 => ("signature = n + 1", left_pad(with_n(&[1]), k)),
        7 => ("signature of 0xff bytes", vec![0xff; k]),
        8 => ("signature of zero bytes", vec![0; k]),
        9 => ("signature = 1", left_pad(vec![1], k)),
        10 => ("signature = n − 1", left_pad((&n - 1u32).to_bytes_be(), k)),
        _ => ("random signature", rng.bytes(k)),
    };
    key.check(case, &msg, &s, false, tally);

    // (5) Now and then: a genuine RSA signature over an encoding that is not RS256's.
    if index.is_multiple_of(ALTERED_ENCODING_ONE_IN) {
        let signer = crt.get_or_insert_with(|| CrtSigner::new(p, q, e, k));
        let t = [&SHA256_INFO[..], &digest].concat();
        let sep_t = [&[0][..], &t].concat();
        let variant = (index / ALTERED_ENCODING_ONE_IN) % 13;
        let (case, em, valid) = match variant {
            0 => (
                "altered encoding: none (genuine)",
                encoding(k, &[0, 1], 0xff, &sep_t),
                true,
            ),
            1 => {
                let tail = [&[0][..], &SHA1_INFO, &digest[..20]].concat();
                (
                    "altered encoding: SHA-1 DigestInfo",
                    encoding(k, &[0, 1], 0xff, &tail),
                    false,
                )
            }
            2 => {
                let tail = [&[0][..], &SHA256_INFO_NO_NULL, &digest].concat();
                (
                    "altered encoding: DigestInfo without NULL parameters",
                    encoding(k, &[0, 1], 0xff, &tail),
                    false,
                )
            }
            3 => {
                let tail = [&[0][..], &SHA512_OID_INFO, &digest].concat();
                (
                    "altered encoding: SHA-512 OID",
                    encoding(k, &[0, 1], 0xff, &tail),
                    false,
                )
            }
            4 => {
                let tail = [&[0][..], &SHA256_INFO_LONG_LENGTH, &digest].concat();
                (
                    "altered encoding: DigestInfo length in long form",
                    encoding(k, &[0, 1], 0xff, &tail),
                    false,
                )
            }
            5 => (
                "altered encoding: block type 2",
                encoding(k, &[0, 2], 0xff, &sep_t),
                false,
            ),
            6 => {
                let mut em = encoding(k, &[0, 1], 0xff, &sep_t);
                em[2 + rng.below((k - sep_t.len() - 2) as u64) as usize] = 0xfe;
                ("altered encoding: a padding byte 0xfe", em, false)
            }
            7 => {
                let tail = [&[0xff][..], &t].concat();
                (
                    "altered encoding: no zero separator",
                    encoding(k, &[0, 1], 0xff, &tail),
                    false,
                )
            }
            8 => {
                // 00 01 FF×8 00 T garbage: what a parser that skips the padding and does
                // not check that T ends the block would accept (Bleichenbacher 2006).
                let mut em = [&[0, 1][..], &[0xff; 8], &sep_t].concat();
                em.extend(rng.bytes(k - em.len()));
                (
                    "altered encoding: short padding, garbage after T",
                    em,
                    false,
                )
            }
            9 => (
                "altered encoding: zero padding",
                encoding(k, &[0, 1], 0, &sep_t),
                false,
            ),
            10 => (
                "altered encoding: leading byte 01",
                encoding(k, &[1, 1], 0xff, &sep_t),
                false,
            ),
            11 => {
                let mut tail = sep_t.clone();
                let at = tail.len() - 1 - rng.below(32) as usize;
                tail[at] ^= 1 << rng.below(8);
                (
                    "altered encoding: another digest",
                    encoding(k, &[0, 1], 0xff, &tail),
                    false,
                )
            }
            _ => {
                let tail = [&[0][..], &digest].concat();
                (
                    "altered encoding: bare digest, no DigestInfo",
                    encoding(k, &[0, 1], 0xff, &tail),
                    false,
                )
            }
        };
        if BigUint::from_bytes_be(&em) >= n {
            tally.add(format!("skipped ({case} not below n)"));
        } else {
            let s = signer.sign_raw(&em);
            if valid {
                assert_eq!(
                    s, sig,
                    "key {index}: num-bigint and the valid signature differ"
                );
            }
            key.check(case, &msg, &s, valid, tally);
        }
    }
}

/// Ends the other workers' runs when this one fails (they take no more keys).
struct StopOthersOnPanic<'a>(&'a std::sync::atomic::AtomicUsize);
impl Drop for StopOthersOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0
                .store(usize::MAX / 2, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

#[test]
fn verification_matches_the_rsa_crate_on_100k_random_keys() {
    let started = std::time::Instant::now();
    let pools = prime_pools();
    let primes_done = started.elapsed();

    // Distinct pairs of distinct primes, in a shuffled order.
    let mut rng = Rng(0x1656_67B1_9E37_79F9);
    let mut keys: Vec<(&BigUint, &BigUint)> = Vec::new();
    for &(a, b, count) in &KEY_SETS {
        let mut pairs: Vec<(usize, usize)> = (0..pools[a].len())
            .flat_map(|i| (0..pools[b].len()).map(move |j| (i, j)))
            .filter(|&(i, j)| a != b || i < j)
            .collect();
        for i in (1..pairs.len()).rev() {
            pairs.swap(i, rng.below(i as u64 + 1) as usize);
        }
        assert!(pairs.len() >= count, "not enough pairs in pools {a} × {b}");
        keys.extend(
            pairs[..count]
                .iter()
                .map(|&(i, j)| (&pools[a][i], &pools[b][j])),
        );
    }
    let distinct: std::collections::HashSet<BigUint> = keys.iter().map(|(p, q)| *p * *q).collect();
    assert_eq!(distinct.len(), keys.len(), "moduli are distinct");

    // Every key is checked from its own generator, so the split between threads changes
    // nothing: a failure names its key index and reproduces alone.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut tally = Tally::default();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let _stop = StopOthersOnPanic(&next);
                    let mut tally = Tally::default();
                    loop {
                        let from = next.fetch_add(256, std::sync::atomic::Ordering::Relaxed);
                        if from >= keys.len() {
                            return tally;
                        }
                        for (index, (p, q)) in keys.iter().enumerate().skip(from).take(256) {
                            check_random_key(index, p, q, &mut tally);
                        }
                    }
                })
            })
            .collect();
        for worker in workers {
            let part = worker.join();
            tally.merge(part.unwrap_or_else(|_| panic!("a key failed: see the message above")));
        }
    });
    let keys_checked: usize = tally
        .0
        .iter()
        .filter(|(k, _)| k.starts_with("keys of"))
        .map(|(_, v)| v)
        .sum();
    eprintln!(
        "{keys_checked} keys in {:.1?} ({:.1?} for the primes, {threads} threads):",
        started.elapsed(),
        primes_done
    );
    for (what, count) in &tally.0 {
        eprintln!("  {count:>7}  {what}");
    }

    assert_eq!(keys_checked, keys.len());
    assert!(keys_checked >= 100_000);
    assert!(tally.get("keys of 1024 bits") >= 100_000);
    for bits in [1025, 1026, 1032, 1040, 1088, 1536, 2048, 2056, 3072, 4096] {
        assert!(
            tally.get(&format!("keys of {bits:>4} bits")) > 0,
            "{bits}-bit keys"
        );
    }
    assert_eq!(tally.get("case: valid signature"), keys_checked);
    assert!(tally.get("verdict: valid, accepted by both") >= 100_000);
    assert!(tally.get("verdict: invalid, refused by both") >= 300_000);
    assert!(tally.get("valid signatures made by the rsa crate") >= 12_000);
    assert!(tally.get("e = 3") >= 1_000);
    assert!(tally.get("e = 65537") >= 50_000);
    assert!(tally.get("e: other, < 2^32") >= 5_000);
    assert!(tally.get("e: other, ≥ 2^32") >= 500);
    for (what, at_least) in [
        ("signature with a bit flipped", 40_000),
        ("signature with a byte replaced", 40_000),
        ("message with a bit flipped", 40_000),
        ("message with a byte appended", 20_000),
        ("message with its last byte dropped", 20_000),
        ("signature without its first byte", 5_000),
        ("signature without its last byte", 5_000),
        ("signature after a zero byte", 5_000),
        ("signature and a trailing byte", 5_000),
        ("empty signature", 5_000),
        ("signature = n", 5_000),
        ("signature + n", 1_000),
        ("signature of 0xff bytes", 5_000),
        ("signature of zero bytes", 5_000),
        ("signature = 1", 5_000),
        ("signature = n − 1", 5_000),
        ("random signature", 5_000),
    ] {
        let count = tally.get(&format!("case: {what}"));
        assert!(count >= at_least, "only {count} cases \"{what}\"");
    }
    let altered: Vec<(&String, &usize)> = tally
        .0
        .iter()
        .filter(|(what, _)| what.starts_with("case: altered encoding"))
        .collect();
    assert_eq!(altered.len(), 13, "altered encodings: {altered:?}");
    for (what, &count) in altered {
        assert!(count >= 900, "only {count} cases \"{what}\"");
    }
}
