//! RS256 (RSASSA-PKCS1-v1_5 with SHA-256) verification, verification only.
//!
//! Why not only the `rsa` crate: its constant-time big-number arithmetic, and rebuilding the
//! public key on every call, dominate a login (about 130 µs natively and 800 µs in
//! WebAssembly). Verification handles only public data (modulus, exponent, signature,
//! message), so it need not be constant-time: this module precomputes the Montgomery
//! constants once per key ([`RsaVerifier::new`]) and exponentiates with plain
//! word-by-word Montgomery multiplication (CIOS).
//!
//! Natively (64-bit limbs), 2048-bit keys take `comba` (`src/signature/comba.rs`)
//! instead: the same Montgomery arithmetic by product scanning, every column unrolled
//! (a public operation about 1.1–1.2× faster than the CIOS, for about 90 KB of code).
//!
//! In WebAssembly built with SIMD128 (the shipped builds), 2048-bit keys take
//! `simd128` (`src/signature/simd128.rs`) instead: radix 2^28 with column sums in `i64x2.extmul`, because WebAssembly
//! has no 64×64→128-bit multiply and no carry flag (about 1.65× faster in V8 than this
//! module's CIOS over 32-bit limbs). Natively 64-bit limbs are the faster choice, by
//! about 2×.
//!
//! What is checked is the **complete** PKCS#1 v1.5 encoding, byte for byte:
//! `00 01 FF…FF 00 || DigestInfo(SHA-256) || H(m)` — never a parsed or partial one.
//! The `rsa` crate stays the reference: it parses and validates the keys ([`crate::keys`]),
//! and tests compare this module with it on random keys, messages and signatures.

use sha2::{Digest, Sha256};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

#[cfg(target_pointer_width = "64")]
use aadauth_comba as comba;

#[cfg(target_pointer_width = "64")]
type Limb = u64;
#[cfg(target_pointer_width = "64")]
type Wide = u128;
#[cfg(not(target_pointer_width = "64"))]
type Limb = u32;
#[cfg(not(target_pointer_width = "64"))]
type Wide = u64;

const LIMB_BYTES: usize = std::mem::size_of::<Limb>();
const LIMB_BITS: u32 = Limb::BITS;

/// DER of `DigestInfo { sha256, NULL }` without the hash (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// A public key prepared for repeated verification.
#[derive(Clone, Debug)]
pub struct RsaVerifier {
    /// Modulus, little-endian limbs.
    n: Vec<Limb>,
    /// Modulus length in bytes (the signature length).
    k: usize,
    /// Public exponent.
    e: u64,
    /// -n⁻¹ mod 2^LIMB_BITS.
    n0inv: Limb,
    /// R² mod n, R = 2^(LIMB_BITS × limbs): computed on the first verification, so that
    /// parsing and describing a key set (every key's size and usability) costs no
    /// arithmetic; clones made after that share nothing but see the value already there.
    rr: std::sync::OnceLock<Vec<Limb>>,
    /// The SIMD128 form of a 2048-bit key ([`simd128`]), prepared on the first
    /// verification; `None` for other sizes, which take the CIOS below.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd: std::sync::OnceLock<Option<Box<simd128::SimdKey>>>,
}

impl RsaVerifier {
    /// Prepares a public key for verification under the `rsa` crate's public-key rules:
    /// modulus of 1024 to 8192 bits, odd; exponent odd, 3 ≤ e ≤ 2³³−1
    /// (`tests/rs256_differential.rs` checks that both accept the same keys).
    pub fn for_public_key(n_be: &[u8], e_be: &[u8]) -> Option<RsaVerifier> {
        let v = RsaVerifier::new(n_be, e_be)?;
        ((1024..=8192).contains(&v.bits()) && v.e < (1 << 33)).then_some(v)
    }

    /// Prepares `(n, e)` given big-endian for the arithmetic alone: `None` for an even or
    /// tiny (< 64 bytes) modulus, or an exponent that is even, below 3 or over 64 bits.
    pub fn new(n_be: &[u8], e_be: &[u8]) -> Option<RsaVerifier> {
        let n_be = strip_zeros(n_be);
        let e_be = strip_zeros(e_be);
        if n_be.len() < 64
            || n_be.len() > MAX_LIMBS * LIMB_BYTES
            || e_be.is_empty()
            || e_be.len() > 8
        {
            return None;
        }
        let e = e_be.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        if e < 3 || e % 2 == 0 {
            return None;
        }
        let n = to_limbs(n_be, n_be.len().div_ceil(LIMB_BYTES));
        if n.first().is_none_or(|l| l % 2 == 0) {
            return None;
        }
        let n0inv = neg_inverse(n[0]);
        Some(RsaVerifier {
            n,
            k: n_be.len(),
            e,
            n0inv,
            rr: std::sync::OnceLock::new(),
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            simd: std::sync::OnceLock::new(),
        })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        let top = self.n.last().copied().unwrap_or(0);
        self.n.len() * LIMB_BITS as usize - top.leading_zeros() as usize
    }

    /// `s^e mod n` as k big-endian bytes; `None` when `s` is not k bytes or not below n.
    pub fn public_op(&self, sig: &[u8]) -> Option<Vec<u8>> {
        if sig.len() != self.k {
            return None;
        }
        let s = to_limbs(sig, self.n.len());
        if !less_than(&s, &self.n) {
            return None;
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if let Some(key) = self.simd_key() {
            return key.public_op(self.e, sig, self.k);
        }
        let len = self.n.len();
        let rr = self.rr.get_or_init(|| r_squared(&self.n));
        let s_mont = self.mont_mul(&s, rr);
        let mut x = s_mont.clone();
        let mut y = vec![0 as Limb; len];
        // e is odd and at least 3 (`new` refuses others), so its top bit is above bit 0.
        let top = 63 - self.e.leading_zeros();
        for bit in (1..top).rev() {
            mont_sqr_into(&mut y, &x, &self.n, self.n0inv);
            if (self.e >> bit) & 1 == 1 {
                mont_mul_into(&mut x, &y, &s_mont, &self.n, self.n0inv);
            } else {
                std::mem::swap(&mut x, &mut y);
            }
        }
        // Bit 0 is set: the last multiplication takes s itself rather than s·R, so that
        // (s^(e−1)·R)·s·R⁻¹ = s^e comes out of Montgomery form already, saving the separate
        // reduction (a twentieth of the work for e = 65537), as the SIMD128 path does.
        mont_sqr_into(&mut y, &x, &self.n, self.n0inv);
        mont_mul_into(&mut x, &y, &s, &self.n, self.n0inv);
        Some(to_bytes(&x, self.k))
    }

    /// Verifies an RS256 signature over `message`.
    pub fn verify_rs256(&self, message: &[u8], sig: &[u8]) -> bool {
        let Some(em) = self.public_op(sig) else {
            return false;
        };
        let digest = Sha256::digest(message);
        let t_len = SHA256_DIGEST_INFO.len() + digest.len();
        if self.k < t_len + 11 {
            return false;
        }
        // Compare all k bytes with the one acceptable encoding (without building it).
        let pad_end = self.k - t_len - 1;
        em.len() == self.k
            && em[0] == 0x00
            && em[1] == 0x01
            && em[2..pad_end].iter().all(|b| *b == 0xff)
            && em[pad_end] == 0x00
            && em[pad_end + 1..self.k - digest.len()] == SHA256_DIGEST_INFO
            && em[self.k - digest.len()..] == digest[..]
    }

    /// The SIMD128 key for moduli of 2043 to 2048 bits (every Azure AD key): 64 limbs of
    /// 32 bits, whose R² here is 2^4096 mod n, from which [`simd128`] derives its own.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn simd_key(&self) -> Option<&simd128::SimdKey> {
        self.simd
            .get_or_init(|| {
                if !(simd128::MIN_BITS..=simd128::MAX_BITS).contains(&self.bits())
                    || self.n.len() != 2048 / LIMB_BITS as usize
                {
                    return None;
                }
                let rr = self.rr.get_or_init(|| r_squared(&self.n));
                let n_be = to_bytes(&self.n, self.k);
                simd128::SimdKey::new(&n_be, &to_bytes(rr, self.k)).map(Box::new)
            })
            .as_deref()
    }

    fn mont_mul(&self, a: &[Limb], b: &[Limb]) -> Vec<Limb> {
        mont_mul(a, b, &self.n, self.n0inv)
    }
}

/// Two rows of multiply-adds in one pass over `p`: `p[j] += x0·y[j] + x1·y[j−1]` for j
/// from `start` to `y.len()`, with the rows' carries `c0`, `c1` in and out. One load and
/// store of each limb for two products, and two columns per iteration (fewer
/// loop-control instructions between the multiplies); with `y` of a constant length the
/// compiler drops the bounds checks.
#[inline(always)]
fn two_rows(
    p: &mut [Limb],
    x0: Limb,
    x1: Limb,
    y: &[Limb],
    start: usize,
    mut c0: Limb,
    mut c1: Limb,
) -> (Limb, Limb) {
    let s = y.len();
    if start == 0 || p.len() < s {
        return (c0, c1);
    }
    let mut j = start;
    while j + 1 < s {
        let (v, h0) = mac(p[j], x0, y[j], c0);
        let (v, h1) = mac(v, x1, y[j - 1], c1);
        p[j] = v;
        let (v, h0) = mac(p[j + 1], x0, y[j + 1], h0);
        let (v, h1) = mac(v, x1, y[j], h1);
        p[j + 1] = v;
        c0 = h0;
        c1 = h1;
        j += 2;
    }
    if j < s {
        let (v, h0) = mac(p[j], x0, y[j], c0);
        let (v, h1) = mac(v, x1, y[j - 1], c1);
        c0 = h0;
        c1 = h1;
        p[j] = v;
    }
    (c0, c1)
}

/// a·b + t + c as (low, high) limbs; never overflows (the maximum is 2^(2w) − 1).
#[inline(always)]
fn mac(t: Limb, a: Limb, b: Limb, c: Limb) -> (Limb, Limb) {
    let v = a as Wide * b as Wide + t as Wide + c as Wide;
    (v as Limb, (v >> LIMB_BITS) as Limb)
}

/// The largest modulus handled, in limbs (8192 bits, the `rsa` crate's maximum).
const MAX_LIMBS: usize = 8192 / LIMB_BITS as usize;

/// Montgomery multiplication: a·b·R⁻¹ mod n, inputs below n. Finely integrated operand
/// scanning: the a·bᵢ and u·n products run in one pass with two carries, on a stack buffer,
/// over slices of the exact length so that the compiler drops the bounds checks.
fn mont_mul(a: &[Limb], b: &[Limb], n: &[Limb], n0inv: Limb) -> Vec<Limb> {
    let mut out = vec![0 as Limb; n.len()];
    mont_mul_into(&mut out, a, b, n, n0inv);
    out
}

/// Limbs of a 2048-bit modulus, the size of every Azure AD signing key. The arithmetic below
/// is written once over slices; for this size it is instantiated with slices whose length
/// is a compile-time constant, so that the compiler drops the bounds checks and unrolls the
/// inner loops (about a third fewer instructions per multiply-add than the generic loop,
/// which keeps serving every other size).
const FIXED_LIMBS: usize = 2048 / LIMB_BITS as usize;

fn mont_mul_into(out: &mut [Limb], a: &[Limb], b: &[Limb], n: &[Limb], n0inv: Limb) {
    let s = n.len().min(MAX_LIMBS);
    if s == 0 || a.len() < s || b.len() < s || out.len() < s {
        return;
    }
    if s == FIXED_LIMBS {
        #[cfg(target_pointer_width = "64")]
        if let (Ok(out), Ok(a), Ok(b), Ok(n)) = (
            (&mut out[..s]).try_into(),
            a[..s].try_into(),
            b[..s].try_into(),
            n.try_into(),
        ) {
            return comba::mul(out, a, b, n, n0inv);
        }
        let mut buf = [0 as Limb; FIXED_LIMBS + 1];
        let f = FIXED_LIMBS;
        mont_mul_body(&mut out[..f], &a[..f], &b[..f], &n[..f], n0inv, &mut buf);
    } else {
        let mut buf = [0 as Limb; MAX_LIMBS + 1];
        mont_mul_body(
            &mut out[..s],
            &a[..s],
            &b[..s],
            &n[..s],
            n0inv,
            &mut buf[..s + 1],
        );
    }
}

/// [`mont_mul_into`] on operands of n's length `s`, with a zeroed `t` of s + 1 limbs.
#[inline(always)]
fn mont_mul_body(
    out: &mut [Limb],
    a: &[Limb],
    b: &[Limb],
    n: &[Limb],
    n0inv: Limb,
    t: &mut [Limb],
) {
    let s = n.len();
    if s == 0 || a.len() != s || b.len() != s || out.len() != s || t.len() != s + 1 {
        return;
    }
    for &bi in b {
        let (lo, mut c1) = mac(t[0], a[0], bi, 0);
        let u = lo.wrapping_mul(n0inv);
        let (_, mut c2) = mac(lo, u, n[0], 0);
        for j in 1..s {
            let (v, h1) = mac(t[j], a[j], bi, c1);
            c1 = h1;
            let (w, h2) = mac(v, u, n[j], c2);
            c2 = h2;
            t[j - 1] = w;
        }
        let (v, o1) = t[s].overflowing_add(c1);
        let (v, o2) = v.overflowing_add(c2);
        t[s - 1] = v;
        t[s] = Limb::from(o1) + Limb::from(o2);
    }
    if t[s] != 0 || !less_than(&t[..s], n) {
        sub_in_place(t, n);
    }
    out[..s].copy_from_slice(&t[..s]);
}

/// Montgomery squaring: a²·R⁻¹ mod n. Squaring needs about half the products of a general
/// multiplication (each cross product aᵢaⱼ once, then doubled), followed by a separate
/// Montgomery reduction; 16 of the 17 multiplications of e = 65537 are squarings.
fn mont_sqr_into(out: &mut [Limb], a: &[Limb], n: &[Limb], n0inv: Limb) {
    let s = n.len().min(MAX_LIMBS);
    if s == 0 || a.len() < s || out.len() < s {
        return;
    }
    if s == FIXED_LIMBS {
        #[cfg(target_pointer_width = "64")]
        if let (Ok(out), Ok(a), Ok(n)) =
            ((&mut out[..s]).try_into(), a[..s].try_into(), n.try_into())
        {
            return comba::sqr(out, a, n, n0inv);
        }
        let mut buf = [0 as Limb; 2 * FIXED_LIMBS];
        let f = FIXED_LIMBS;
        mont_sqr_body(&mut out[..f], &a[..f], &n[..f], n0inv, &mut buf);
    } else {
        let mut buf = [0 as Limb; 2 * MAX_LIMBS];
        mont_sqr_body(&mut out[..s], &a[..s], &n[..s], n0inv, &mut buf[..2 * s]);
    }
}

/// [`mont_sqr_into`] on operands of n's length `s`, with a zeroed `p` of 2s limbs.
#[inline(always)]
fn mont_sqr_body(out: &mut [Limb], a: &[Limb], n: &[Limb], n0inv: Limb, p: &mut [Limb]) {
    let s = n.len();
    if s == 0 || a.len() != s || out.len() != s || p.len() != 2 * s {
        return;
    }
    // Cross products aᵢaⱼ, i < j, two rows at a time as in `redc_into`: rows i and i+1 meet
    // at p[i+j] as aᵢaⱼ + aᵢ₊₁aⱼ₋₁. p[i+s] and p[i+s+1] are still zero when rows i, i+1
    // start (earlier rows reach p[i+s-1] at most).
    let mut i = 0;
    while i + 1 < s {
        let (ai, ai1) = (a[i], a[i + 1]);
        let (v, mut c0) = mac(p[2 * i + 1], ai, ai1, 0);
        p[2 * i + 1] = v;
        if i + 2 < s {
            let (v, h0) = mac(p[2 * i + 2], ai, a[i + 2], c0);
            p[2 * i + 2] = v;
            c0 = h0;
            let c1;
            (c0, c1) = two_rows(&mut p[i..], ai, ai1, a, i + 3, c0, 0);
            let (v, h1) = mac(c0, ai1, a[s - 1], c1);
            p[i + s] = v;
            p[i + s + 1] = h1;
        } else {
            p[i + s] = c0;
        }
        i += 2;
    }
    // An odd last row has no cross products (j > i = s - 1 is empty).
    // Double them.
    let mut carry = 0;
    for limb in p.iter_mut() {
        let v = *limb;
        *limb = (v << 1) | carry;
        carry = v >> (LIMB_BITS - 1);
    }
    // Add the squares aᵢ² on the diagonal.
    let mut c: Limb = 0;
    for i in 0..s {
        let (lo, hi) = mac(0, a[i], a[i], 0);
        let (v0, o0) = p[2 * i].overflowing_add(lo);
        let (v0, o0b) = v0.overflowing_add(c);
        p[2 * i] = v0;
        let (v1, o1) = p[2 * i + 1].overflowing_add(hi);
        let (v1, o1b) = v1.overflowing_add(Limb::from(o0) + Limb::from(o0b));
        p[2 * i + 1] = v1;
        c = Limb::from(o1) + Limb::from(o1b);
    }
    redc_into(out, p, n, n0inv);
}

/// Montgomery reduction: `out = p·R⁻¹ mod n` for a 2s-limb `p` below n·R (`p` is used as
/// scratch). Callers pass `n` of s limbs and `p` of exactly 2s.
#[inline(always)]
fn redc_into(out: &mut [Limb], p: &mut [Limb], n: &[Limb], n0inv: Limb) {
    let s = n.len();
    if p.len() != 2 * s || out.len() < s {
        return;
    }
    // Two rows at a time: row i+1's multiplier depends only on p[i+1] after row i's first
    // two terms, so both rows can then run in one pass over p, loading and storing each
    // limb once for two multiply-adds (about 12% faster in V8 with 32-bit limbs; the same
    // natively). `top` is the carry into p[i+s].
    let mut top: Limb = 0;
    let mut i = 0;
    while i + 1 < s {
        let u0 = p[i].wrapping_mul(n0inv);
        let (_, c) = mac(p[i], u0, n[0], 0);
        let (v, mut c0) = mac(p[i + 1], u0, n[1], c);
        let u1 = v.wrapping_mul(n0inv);
        let (_, mut c1) = mac(v, u1, n[0], 0);
        (c0, c1) = two_rows(&mut p[i..], u0, u1, n, 2, c0, c1);
        let (v, h1) = mac(p[i + s], u1, n[s - 1], c1);
        let (v, o1) = v.overflowing_add(c0);
        let (v, o2) = v.overflowing_add(top);
        p[i + s] = v;
        let (w, o3) = p[i + s + 1].overflowing_add(h1);
        let (w, o4) = w.overflowing_add(Limb::from(o1) + Limb::from(o2));
        p[i + s + 1] = w;
        top = Limb::from(o3) + Limb::from(o4);
        i += 2;
    }
    // An odd last row (moduli of an odd number of limbs).
    while i < s {
        let u = p[i].wrapping_mul(n0inv);
        let mut c = 0;
        for j in 0..s {
            let (v, h) = mac(p[i + j], u, n[j], c);
            p[i + j] = v;
            c = h;
        }
        let (v, o1) = p[i + s].overflowing_add(c);
        let (v, o2) = v.overflowing_add(top);
        p[i + s] = v;
        top = Limb::from(o1) + Limb::from(o2);
        i += 1;
    }
    let r = &mut p[s..];
    if top != 0 || !less_than(r, n) {
        sub_in_place(r, n);
    }
    out[..s].copy_from_slice(r);
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

/// Big-endian bytes into `len` little-endian limbs (bytes beyond `len` limbs are ignored;
/// callers size `len` to fit).
fn to_limbs(be: &[u8], len: usize) -> Vec<Limb> {
    let mut out = vec![0 as Limb; len];
    for (i, byte) in be.iter().rev().enumerate() {
        let limb = i / LIMB_BYTES;
        if limb < len {
            out[limb] |= (*byte as Limb) << (8 * (i % LIMB_BYTES));
        }
    }
    out
}

fn to_bytes(limbs: &[Limb], k: usize) -> Vec<u8> {
    let mut out = vec![0u8; k];
    for i in 0..k {
        let limb = i / LIMB_BYTES;
        let byte = limbs
            .get(limb)
            .map(|l| (l >> (8 * (i % LIMB_BYTES))) as u8)
            .unwrap_or(0);
        out[k - 1 - i] = byte;
    }
    out
}

/// a < b, equal lengths (a may be longer with zero high limbs).
fn less_than(a: &[Limb], b: &[Limb]) -> bool {
    for i in (0..a.len().max(b.len())).rev() {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        if x != y {
            return x < y;
        }
    }
    false
}

/// a -= b (a has at least b's length; the caller guarantees a ≥ b).
fn sub_in_place(a: &mut [Limb], b: &[Limb]) {
    let mut borrow = false;
    for (i, x) in a.iter_mut().enumerate() {
        let y = b.get(i).copied().unwrap_or(0);
        let (d1, b1) = x.overflowing_sub(y);
        let (d2, b2) = d1.overflowing_sub(Limb::from(borrow));
        *x = d2;
        borrow = b1 || b2;
    }
}

/// -x⁻¹ mod 2^LIMB_BITS for odd x (Newton's iteration).
fn neg_inverse(x: Limb) -> Limb {
    let mut inv: Limb = 1;
    for _ in 0..LIMB_BITS.trailing_zeros() + 1 {
        inv = inv.wrapping_mul((2 as Limb).wrapping_sub(x.wrapping_mul(inv)));
    }
    inv.wrapping_neg()
}

/// R² mod n, once per key, by schoolbook long division (Knuth's algorithm D, one
/// quotient limb at a time): shift in one zero limb and reduce, once per limb of R². Each
/// step is one limb-by-modulus multiply-subtract, so the whole costs about one Montgomery
/// multiplication (the power ladder it replaces took eight). When n fills its top limb
/// (every 2048-bit key), R mod n is R − n, the two's complement of n, and the division
/// starts from there: half the steps.
fn r_squared(n: &[Limb]) -> Vec<Limb> {
    let d = n.len();
    if n.last().is_some_and(|top| top.leading_zeros() == 0) {
        // n > R/2, so R − n < n.
        let mut r_mod_n = vec![0 as Limb; d];
        let mut carry = true;
        for (r, limb) in r_mod_n.iter_mut().zip(n) {
            let (v, c) = (!limb).overflowing_add(Limb::from(carry));
            *r = v;
            carry = c;
        }
        return times_b_pow_mod(&r_mod_n, d, n);
    }
    let mut one = vec![0 as Limb; d];
    if let Some(l) = one.first_mut() {
        *l = 1;
    }
    times_b_pow_mod(&one, 2 * d, n)
}

/// r·B^steps mod n for r below n (B = 2^LIMB_BITS), `r` of n's length: the division
/// behind [`r_squared`], apart so that tests can start it from any remainder (and reach
/// the rare add-back step, which starting from 1 practically never does).
fn times_b_pow_mod(r: &[Limb], steps: usize, n: &[Limb]) -> Vec<Limb> {
    let d = n.len();
    if d < 2 || r.len() != d {
        return vec![0; d];
    }
    // Normalize: shift n left until its top bit is set (the quotient estimate needs it);
    // r is kept shifted by the same amount, (a·2^sh) mod (n·2^sh) = (a mod n)·2^sh, which
    // fits in d limbs as n·2^sh does.
    let sh = n[d - 1].leading_zeros();
    let shl = |x: &[Limb], out: &mut [Limb]| {
        let mut carry: Limb = 0;
        for (dst, src) in out.iter_mut().zip(x) {
            *dst = if sh == 0 { *src } else { (*src << sh) | carry };
            carry = if sh == 0 { 0 } else { *src >> (LIMB_BITS - sh) };
        }
    };
    let mut v = vec![0 as Limb; d];
    shl(n, &mut v);
    let (v_top, v_next) = (v[d - 1] as Wide, v[d - 2] as Wide);
    let base: Wide = 1 << LIMB_BITS;
    // r lives in u[..d]; each step shifts it up one limb in place (u = r·B, d+1 limbs),
    // subtracts q̂·v and leaves the remainder in u[..d] again.
    let mut u = vec![0 as Limb; d + 1];
    shl(r, &mut u[..d]);
    for _ in 0..steps {
        u.copy_within(0..d, 1);
        u[0] = 0;
        let top = ((u[d] as Wide) << LIMB_BITS) | u[d - 1] as Wide;
        let mut qhat = top / v_top;
        let mut rhat = top % v_top;
        while qhat >= base || qhat * v_next > ((rhat << LIMB_BITS) | u[d - 2] as Wide) {
            qhat -= 1;
            rhat += v_top;
            if rhat >= base {
                break;
            }
        }
        // u -= q̂·v over d+1 limbs (v's limb d is 0). A difference that went below zero
        // wraps to the top half of `Wide`: its top bit is the borrow.
        let q = qhat as Limb;
        let (mut mul_carry, mut borrow): (Wide, Wide) = (0, 0);
        for (ui, vi) in u[..d].iter_mut().zip(&v) {
            let p = q as Wide * *vi as Wide + mul_carry;
            mul_carry = p >> LIMB_BITS;
            let t = (*ui as Wide)
                .wrapping_sub(p & Limb::MAX as Wide)
                .wrapping_sub(borrow);
            *ui = t as Limb;
            borrow = t >> (2 * LIMB_BITS - 1);
        }
        let t = (u[d] as Wide).wrapping_sub(mul_carry).wrapping_sub(borrow);
        u[d] = t as Limb;
        if t >> (2 * LIMB_BITS - 1) != 0 {
            // q̂ was one too large (rare): add v back.
            let mut c = false;
            for (ui, vi) in u.iter_mut().zip(v.iter().chain(std::iter::once(&0))) {
                let (x, c1) = ui.overflowing_add(*vi);
                let (x, c2) = x.overflowing_add(Limb::from(c));
                *ui = x;
                c = c1 || c2;
            }
        }
    }
    u.truncate(d);
    let mut r = u;
    // Undo the normalization.
    if sh > 0 {
        for i in 0..d {
            let hi = r.get(i + 1).copied().unwrap_or(0);
            r[i] = (r[i] >> sh) | (hi << (LIMB_BITS - sh));
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The add-back step of the division (q̂ one too large after its two-limb correction):
    /// n = 2^(3w−1) + 1 and r = 2^(3w−2) (w = LIMB_BITS) give q̂ = 2^(w−1) for r·B, one
    /// more than the true quotient digit. r·B = 2^(4w−2) ≡ −2^(w−1) (mod n), as
    /// 2^(3w−1) ≡ −1: the remainder is n − 2^(w−1).
    #[test]
    fn division_adds_back_when_the_quotient_estimate_is_one_too_large() {
        let half = 1 << (LIMB_BITS - 1);
        let n = [1, 0, half];
        let r = [0, 0, half >> 1];
        assert_eq!(
            times_b_pow_mod(&r, 1, &n),
            vec![half + 1, Limb::MAX, half - 1]
        );
        // The same modulus unnormalized (shifted right by 5 bits: the division shifts
        // it back), against repeated doubling.
        let n = [1 << (LIMB_BITS - 5) | 1, 0, half >> 5];
        let mut want = [0, 0, half >> 6];
        for _ in 0..LIMB_BITS {
            want = double_mod(want, n);
        }
        assert_eq!(times_b_pow_mod(&[0, 0, half >> 6], 1, &n), want.to_vec());
    }

    /// 2x mod n for x below n, three limbs.
    fn double_mod(x: [Limb; 3], n: [Limb; 3]) -> [Limb; 3] {
        let mut y = [0; 3];
        let mut carry = 0;
        for i in 0..3 {
            y[i] = (x[i] << 1) | carry;
            carry = x[i] >> (LIMB_BITS - 1);
        }
        if carry != 0 || !less_than(&y, &n) {
            sub_in_place(&mut y, &n);
        }
        y
    }

    #[test]
    fn small_modexp_matches_arithmetic() {
        // n = 0xC5 * 0xF1 style toy values padded to 64 bytes: use a 512-bit odd modulus
        // made of 0xff.. and check s^3 mod n against a direct computation for tiny s.
        let mut n = vec![0xffu8; 64];
        n[63] = 0xfb; // odd
        let v = RsaVerifier::new(&n, &[3]).expect("prepared");
        let mut s = vec![0u8; 64];
        s[63] = 7;
        let out = v.public_op(&s).expect("op");
        assert_eq!(out[62..], [0x01, 0x57]); // 343
        assert!(out[..62].iter().all(|b| *b == 0));
    }

    #[test]
    fn refuses_bad_inputs() {
        assert!(RsaVerifier::new(&[0x10; 64], &[3]).is_none()); // even
        assert!(RsaVerifier::new(&[0x11; 8], &[3]).is_none()); // tiny
        assert!(RsaVerifier::new(&[0x11; 64], &[2]).is_none()); // even e
        let v = RsaVerifier::new(&[0x11; 64], &[1, 0, 1]).expect("ok");
        assert!(v.public_op(&[0u8; 63]).is_none()); // wrong length
        assert!(v.public_op(&[0xff; 64]).is_none()); // not below n
        assert!(!v.verify_rs256(b"x", &[0u8; 64]));
    }
}
