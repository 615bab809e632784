//! The dispatched build (BMI2/ADX where the CPU has them) and the portable build compute
//! the same Montgomery products, and both are right: out·R ≡ a·b (mod n), out < n.

use aadauth_comba::{mul, mul_portable, sqr, sqr_portable, S};
use num_bigint::BigUint;
use proptest::prelude::*;

fn big(x: &[u64; S]) -> BigUint {
    BigUint::from_slice(
        &x.iter()
            .flat_map(|l| [*l as u32, (*l >> 32) as u32])
            .collect::<Vec<u32>>(),
    )
}

/// −n⁻¹ mod 2^64 for odd n (Newton's iteration).
fn n0inv(n0: u64) -> u64 {
    let mut inv: u64 = 1;
    for _ in 0..7 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(n0.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}

/// A 2048-bit odd modulus from `limbs`, and two operands below it.
fn operands(limbs: [u64; S], x: [u64; S], y: [u64; S]) -> ([u64; S], [u64; S], [u64; S]) {
    let mut n = limbs;
    n[0] |= 1;
    n[S - 1] |= 1 << 63;
    let below = |mut v: [u64; S]| {
        v[S - 1] %= n[S - 1];
        v
    };
    (n, below(x), below(y))
}

fn check(out: &[u64; S], a: &[u64; S], b: &[u64; S], n: &[u64; S]) -> Result<(), TestCaseError> {
    let (o, n) = (big(out), big(n));
    prop_assert!(o < n, "result not reduced");
    prop_assert_eq!((o << 2048) % &n, (big(a) * big(b)) % &n);
    Ok(())
}

fn limbs() -> impl Strategy<Value = [u64; S]> {
    prop_oneof![
        4 => proptest::array::uniform32(any::<u64>()),
        // Runs of all-ones and zero limbs: the carries' extreme cases.
        1 => proptest::array::uniform32(prop_oneof![Just(u64::MAX), Just(0u64), any::<u64>()]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn squaring_builds_agree_and_are_right(n in limbs(), a in limbs()) {
        let (n, a, _) = operands(n, a, a);
        let inv = n0inv(n[0]);
        let (mut d, mut p) = ([0u64; S], [0u64; S]);
        sqr(&mut d, &a, &n, inv);
        sqr_portable(&mut p, &a, &n, inv);
        prop_assert_eq!(d, p);
        check(&d, &a, &a, &n)?;
    }

    #[test]
    fn multiplication_builds_agree_and_are_right(n in limbs(), a in limbs(), b in limbs()) {
        let (n, a, b) = operands(n, a, b);
        let inv = n0inv(n[0]);
        let (mut d, mut p) = ([0u64; S], [0u64; S]);
        mul(&mut d, &a, &b, &n, inv);
        mul_portable(&mut p, &a, &b, &n, inv);
        prop_assert_eq!(d, p);
        check(&d, &a, &b, &n)?;
    }
}

/// On x86-64 CPUs with BMI2 and ADX (every machine this project's CI runs on) the
/// dispatched build is the mulx one, so the tests above compare two different builds.
#[test]
#[cfg(target_arch = "x86_64")]
fn the_mulx_build_is_chosen_where_the_cpu_has_it() {
    assert_eq!(
        aadauth_comba::uses_mulx(),
        std::is_x86_feature_detected!("bmi2") && std::is_x86_feature_detected!("adx")
    );
}
