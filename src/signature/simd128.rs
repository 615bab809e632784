//! The RSA public operation for 2048-bit moduli in WebAssembly with SIMD128: radix 2^28,
//! product scanning with delayed carries, four products per pair of vector loads.
//!
//! Why a different arithmetic on wasm32: WebAssembly has no 64×64→128 multiply and no
//! carry flag, so the 32-bit-limb CIOS of the parent module spends most of each
//! multiply-add on detecting and propagating carries. With 28-bit limbs a product is below
//! 2^56, and a whole column of a Montgomery product, Σ aᵢ·bⱼ + Σ qᵢ·nⱼ over i + j = k,
//! fits one u64 accumulator: at most 2·74 products of (2^28 − 1)² plus the carry in stays
//! below 2^63.3 (checked at compile time below). A column is then a dot product, which
//! `i64x2.extmul_{low,high}_i32x4_u` computes two products per instruction. In V8 this is
//! about 1.65× faster than the 32-bit CIOS (56 against 92 µs a public operation); without
//! SIMD the same radix-28 arithmetic is not faster, so other builds keep the CIOS.
//!
//! - 28 bits is the largest radix whose columns cannot overflow for 2048 bits (29 bits
//!   need 71 limbs, and 142 products below 2^58 can exceed 2^64).
//! - R = 2^(28·74) = 2^2072 > 4n, so a Montgomery product of two values below 2n is again
//!   below 2n (Walter's bound): no conditional subtraction until the end.
//! - The last multiplication is by the plain s: MontMul(s^(e−1)·R, s) = s^e, already out
//!   of Montgomery form (e is odd).
//! - A column Σ aᵢ·b_(k−i) becomes a straight dot product by keeping b reversed
//!   (br[j] = b[L−1−j]); arrays are padded with zeros to P = 80 limbs so that a 4-lane
//!   window may run past a column's last term and pick up only zero products.
//! - The `keep` mask: every loaded vector is ANDed with an all-ones vector the optimizer
//!   cannot see through. Without it LLVM rewrites `extmul(load, load)` as `i64x2.mul` of
//!   two `v128.load32x2_u`, which V8 on x64 emulates with three `pmuludq` and shifts,
//!   where `extmul` is one `pmuludq` and two unpacks. `scripts/build-wasm.sh` checks that
//!   the built module still contains `extmul`.
//!
//! Public data only (modulus, exponent, signature): nothing here is constant-time. The
//! results are compared with num-bigint in `wasm/tests/node.rs`.

use core::arch::wasm32::{
    i64x2_add, i64x2_extmul_high_u32x4, i64x2_extmul_low_u32x4, u32x4, u32x4_splat,
    u64x2_extract_lane, u64x2_splat, v128, v128_and,
};

/// Bits per limb.
const BITS: u32 = 28;
/// Limbs: ⌈(2048 + 2) / 28⌉, the 2 extra bits giving R > 4n.
const L: usize = 74;
/// L rounded up to whole 4-lane vectors, with at least 3 zero lanes after the last limb.
const P: usize = 80;
const MASK: u32 = (1 << BITS) - 1;

// A column holds at most 2L products below 2^56 plus a carry below 2^36.
const _: () = assert!(
    2 * L as u128 * (MASK as u128) * (MASK as u128) + (1u128 << (64 - BITS)) <= u64::MAX as u128
);
const _: () = assert!(P.is_multiple_of(4) && P >= L + 3);
// R = 2^(BITS·L) must exceed 4n for every modulus taken (at most 2048 bits).
const _: () = assert!(BITS as usize * L >= 2048 + 2);

type Limbs = [u32; P];

/// Moduli this path takes: the sizes whose 32-bit-limb R² the parent module computes
/// over exactly 64 limbs (2^4096 mod n), and that 74 limbs of 28 bits hold with R > 4n.
pub(super) const MIN_BITS: usize = 2043;
pub(super) const MAX_BITS: usize = 2048;

/// A 2048-bit public key prepared for this path.
#[derive(Clone, Debug)]
pub(super) struct SimdKey {
    n: Limbs,
    /// n reversed: nr[j] = n[L−1−j].
    nr: Limbs,
    /// R² mod n.
    rr: Limbs,
    /// −n⁻¹ mod 2^28.
    n0inv: u32,
    /// All ones, opaque to the optimizer (see the module documentation).
    keep: v128,
}

impl SimdKey {
    /// `n_be` is the modulus (odd, `MIN_BITS..=MAX_BITS` bits, no leading zero bytes) and
    /// `r4096_be` is 2^4096 mod n, both big-endian.
    pub(super) fn new(n_be: &[u8], r4096_be: &[u8]) -> Option<SimdKey> {
        let mut n = [0u32; P];
        if !to_limbs(n_be, &mut n[..L]) || n[0].is_multiple_of(2) {
            return None;
        }
        // R² = 2^(2·2072) = 2^4096 · 2^48 (mod n): 48 doublings of a reduced value.
        let mut rr = [0u32; P];
        if !to_limbs(r4096_be, &mut rr[..L]) || !less_than(&rr[..L], &n[..L]) {
            return None;
        }
        for _ in 0..2 * BITS as usize * L - 4096 {
            double_mod(&mut rr[..L], &n[..L]);
        }
        let mut nr = [0u32; P];
        reverse_into(&mut nr, &n);
        Some(SimdKey {
            n,
            nr,
            rr,
            n0inv: neg_inverse(n[0]),
            keep: u32x4_splat(std::hint::black_box(u32::MAX)),
        })
    }

    /// `s^e mod n` as k big-endian bytes, for odd e ≥ 3; `None` when s ≥ n.
    pub(super) fn public_op(&self, e: u64, sig_be: &[u8], k: usize) -> Option<Vec<u8>> {
        let mut s = [0u32; P];
        if e < 3
            || e.is_multiple_of(2)
            || !to_limbs(sig_be, &mut s[..L])
            || !less_than(&s[..L], &self.n[..L])
        {
            return None;
        }
        let mut s_mont = [0u32; P];
        mul(&mut s_mont, &s, &self.rr, self);
        let mut x = s_mont;
        let mut y = [0u32; P];
        let top = 63 - e.leading_zeros();
        for bit in (1..top).rev() {
            sqr(&mut y, &x, self);
            if (e >> bit) & 1 == 1 {
                mul(&mut x, &y, &s_mont, self);
            } else {
                x = y;
            }
        }
        sqr(&mut y, &x, self);
        mul(&mut x, &y, &s, self);
        if !less_than(&x[..L], &self.n[..L]) {
            sub_in_place(&mut x[..L], &self.n[..L]);
        }
        Some(to_bytes(&x[..L], k))
    }
}

/// out[j] = x[L−1−j] for j < L, zero after.
fn reverse_into(out: &mut Limbs, x: &Limbs) {
    for (o, v) in out[..L].iter_mut().zip(x[..L].iter().rev()) {
        *o = *v;
    }
}

#[inline(always)]
fn lanes(c: &[u32], keep: v128) -> v128 {
    // A chunk of exactly 4 limbs: LLVM makes this one v128.load.
    v128_and(u32x4(c[0], c[1], c[2], c[3]), keep)
}

/// acc + Σ x[i]·y[i] over the first `chunks` 4-lane chunks.
#[inline(always)]
fn dot(mut acc: v128, x: &[u32], y: &[u32], chunks: usize, keep: v128) -> v128 {
    for (cx, cy) in x.chunks_exact(4).zip(y.chunks_exact(4)).take(chunks) {
        let (vx, vy) = (lanes(cx, keep), lanes(cy, keep));
        acc = i64x2_add(acc, i64x2_extmul_low_u32x4(vx, vy));
        acc = i64x2_add(acc, i64x2_extmul_high_u32x4(vx, vy));
    }
    acc
}

/// Σ a[i]·b[i] + q[i]·n[i] over the first `chunks` 4-lane chunks (one loop for both
/// halves of a Montgomery column).
#[inline(always)]
fn dot2(a: &[u32], b: &[u32], q: &[u32], n: &[u32], chunks: usize, keep: v128) -> u64 {
    let mut acc = u64x2_splat(0);
    let ab = a.chunks_exact(4).zip(b.chunks_exact(4));
    let qn = q.chunks_exact(4).zip(n.chunks_exact(4));
    for ((ca, cb), (cq, cn)) in ab.zip(qn).take(chunks) {
        let (va, vb) = (lanes(ca, keep), lanes(cb, keep));
        let (vq, vn) = (lanes(cq, keep), lanes(cn, keep));
        acc = i64x2_add(acc, i64x2_extmul_low_u32x4(va, vb));
        acc = i64x2_add(acc, i64x2_extmul_high_u32x4(va, vb));
        acc = i64x2_add(acc, i64x2_extmul_low_u32x4(vq, vn));
        acc = i64x2_add(acc, i64x2_extmul_high_u32x4(vq, vn));
    }
    hsum(acc)
}

#[inline(always)]
fn hsum(v: v128) -> u64 {
    u64x2_extract_lane::<0>(v) + u64x2_extract_lane::<1>(v)
}

/// Montgomery reduction by columns (product scanning): `column(k, q)` is column k of the
/// product, Σ of its aᵢ·bⱼ (i + j = k) and of qᵢ·nⱼ for the q chosen so far (q[k] is
/// still zero when column k is summed, so the (k, 0) term may be included). Columns
/// below L choose q[k], which clears the column's low 28 bits; the others are the result.
#[inline(always)]
fn reduce_columns(out: &mut Limbs, key: &SimdKey, mut column: impl FnMut(usize, &Limbs) -> u64) {
    let mut q = [0u32; P];
    let n0 = u64::from(key.n[0]);
    let mut acc: u64 = 0;
    for k in 0..L {
        acc += column(k, &q);
        let qk = (acc as u32).wrapping_mul(key.n0inv) & MASK;
        q[k] = qk;
        acc += u64::from(qk) * n0;
        acc >>= BITS;
    }
    for k in L..2 * L - 1 {
        acc += column(k, &q);
        out[k - L] = acc as u32 & MASK;
        acc >>= BITS;
    }
    out[L - 1] = acc as u32;
}

/// Montgomery multiplication out = a·b·R⁻¹ (in [0, 2n) for a, b in [0, 2n)).
#[inline(never)]
fn mul(out: &mut Limbs, a: &Limbs, b: &Limbs, key: &SimdKey) {
    let mut br = [0u32; P];
    reverse_into(&mut br, b);
    let keep = key.keep;
    reduce_columns(out, key, |k, q| {
        if k < L {
            // Terms i = 0..=k; b[k−i] = br[L−1−k+i].
            let off = L - 1 - k;
            dot2(a, &br[off..], q, &key.nr[off..], (k + 1).div_ceil(4), keep)
        } else {
            // Terms i = lo..L; the br and nr windows start at L−1−k+lo = 0.
            let lo = k + 1 - L;
            dot2(&a[lo..], &br, &q[lo..], &key.nr, (L - lo).div_ceil(4), keep)
        }
    });
}

/// Montgomery squaring: cross products once (doubled), squares on the diagonal.
#[inline(never)]
fn sqr(out: &mut Limbs, a: &Limbs, key: &SimdKey) {
    let mut ar = [0u32; P];
    reverse_into(&mut ar, a);
    let keep = key.keep;
    reduce_columns(out, key, |k, q| {
        // Cross terms i < k − i, doubled, then the reduction terms.
        let h = k.div_ceil(2);
        let (cross, reduction) = if k < L {
            let off = L - 1 - k;
            let cross = cross_sum(a, &ar[off..], h, keep);
            (
                cross,
                dot(u64x2_splat(0), q, &key.nr[off..], k.div_ceil(4), keep),
            )
        } else {
            let lo = k + 1 - L;
            let cross = cross_sum(&a[lo..], &ar, h - lo, keep);
            let chunks = (L - lo).div_ceil(4);
            (cross, dot(u64x2_splat(0), &q[lo..], &key.nr, chunks, keep))
        };
        2 * cross + diagonal(a, k) + hsum(reduction)
    });
}

/// Σ x[i]·y[i] for i < count exactly: whole chunks in SIMD, the last 0–3 terms scalar
/// (past `count` the windows hold real limbs, not padding).
#[inline(always)]
fn cross_sum(x: &[u32], y: &[u32], count: usize, keep: v128) -> u64 {
    let whole = count / 4;
    let mut sum = hsum(dot(u64x2_splat(0), x, y, whole, keep));
    let (x, y) = (&x[4 * whole..count], &y[4 * whole..count]);
    for (a, b) in x.iter().zip(y) {
        sum += u64::from(*a) * u64::from(*b);
    }
    sum
}

#[inline(always)]
fn diagonal(a: &Limbs, k: usize) -> u64 {
    if k.is_multiple_of(2) {
        a.get(k / 2).map_or(0, |&x| u64::from(x) * u64::from(x))
    } else {
        0
    }
}

/// a < b, limbs of equal length.
fn less_than(a: &[u32], b: &[u32]) -> bool {
    for (x, y) in a.iter().zip(b).rev() {
        if x != y {
            return x < y;
        }
    }
    false
}

/// a −= b for a ≥ b.
fn sub_in_place(a: &mut [u32], b: &[u32]) {
    let mut borrow = 0u32;
    for (x, &y) in a.iter_mut().zip(b) {
        let d = x.wrapping_sub(y).wrapping_sub(borrow);
        // Limbs are below 2^28, so a negative difference shows in bit 31.
        borrow = d >> 31;
        *x = d & MASK;
    }
}

/// x = 2x mod n for x < n (2x < 2n < R: no carry out of the top limb).
fn double_mod(x: &mut [u32], n: &[u32]) {
    let mut carry = 0;
    for limb in x.iter_mut() {
        let v = (*limb << 1) | carry;
        carry = v >> BITS;
        *limb = v & MASK;
    }
    if !less_than(x, n) {
        sub_in_place(x, n);
    }
}

/// −x⁻¹ mod 2^28 for odd x (Newton's iteration doubles the correct bits: 1 → 32).
fn neg_inverse(x: u32) -> u32 {
    let mut inv: u32 = 1;
    for _ in 0..5 {
        inv = inv.wrapping_mul(2u32.wrapping_sub(x.wrapping_mul(inv)));
    }
    inv.wrapping_neg() & MASK
}

/// Big-endian bytes into 28-bit limbs; false when the value does not fit `out`.
fn to_limbs(be: &[u8], out: &mut [u32]) -> bool {
    let mask = u64::from(MASK);
    let (mut buf, mut have, mut idx) = (0u64, 0u32, 0usize);
    out.fill(0);
    for &byte in be.iter().rev() {
        buf |= u64::from(byte) << have;
        have += 8;
        if have >= BITS {
            match out.get_mut(idx) {
                Some(limb) => *limb = (buf & mask) as u32,
                None if buf & mask == 0 => {}
                None => return false,
            }
            idx += 1;
            buf >>= BITS;
            have -= BITS;
        }
    }
    match out.get_mut(idx) {
        Some(limb) => *limb = buf as u32,
        None => return buf == 0,
    }
    true
}

/// 28-bit limbs into k big-endian bytes (the value fits: it is below n).
fn to_bytes(limbs: &[u32], k: usize) -> Vec<u8> {
    let mut out = vec![0u8; k];
    let (mut buf, mut have) = (0u64, 0u32);
    let mut limbs = limbs.iter();
    for byte in out.iter_mut().rev() {
        if have < 8 {
            if let Some(&l) = limbs.next() {
                buf |= u64::from(l) << have;
                have += BITS;
            } else {
                have = 8;
            }
        }
        *byte = buf as u8;
        buf >>= 8;
        have -= 8;
    }
    out
}
