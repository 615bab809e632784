//! The RSA public operation for 2048-bit moduli in WebAssembly with SIMD128: radix 2^28,
//! product scanning with delayed carries, four columns at a time.
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
//! - A column Σ aᵢ·b_(k−i) becomes a straight dot product by keeping b reversed; arrays
//!   are padded with zeros to P = 80 limbs so that a 4-lane window may run past a
//!   column's last term and pick up only zero products.
//! - Columns are summed four at a time ([`group_sums`]): each vector of a is loaded once
//!   for four columns, and the loop and the per-column bookkeeping (window arithmetic,
//!   bounds checks, the horizontal sums), which in V8 cost about as much as a one-column
//!   loop's products, are paid once per group. q is chosen column by column as before;
//!   a column takes the products of the q chosen within its group afterwards, as scalars.
//!   In V8 on x64 a public operation then runs 20% fewer instructions than one column at
//!   a time (798,666 against 1,000,039: `scripts/ab-signature-wasm.sh e53c816 .
//!   --callgrind`) but is only about 8% faster (55.3 against 60.0 µs,
//!   `scripts/ab-signature-wasm.sh e53c816 .`): the two unpacks V8 emits for every
//!   `extmul` hold it near one product per cycle.
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

// A column of a multiplication holds at most 2L products below 2^56 plus a carry below
// 2^36; a column of a squaring at most L/2 cross products of a doubled limb (below 2^57),
// L reduction products, a square and the carry.
const _: () = assert!(
    2 * L as u128 * (MASK as u128) * (MASK as u128) + (1u128 << (64 - BITS)) <= u64::MAX as u128
);
const _: () = assert!(
    (L as u128).div_ceil(2) * (2 * MASK as u128) * (MASK as u128)
        + (L as u128 + 1) * (MASK as u128) * (MASK as u128)
        + (1u128 << (64 - BITS))
        <= u64::MAX as u128
);
// Columns go in groups of four from k = 0 and from k = L. With L ≡ 2 (mod 4), k is even
// and the first column's count of cross terms in a squaring, k/2 − max(0, k + 1 − L), is
// even too (4t/2 below L; L/2 − 1 − 2t from k = L + 4t), which `sqr` relies on.
const _: () = assert!(L % 4 == 2);
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
    /// n reversed behind a pad, in four copies ([`reverse_padded`]).
    nrev: [Limbs; GROUP],
    /// R² mod n.
    rr: Limbs,
    /// −n⁻¹ mod 2^28.
    n0inv: u32,
    /// All ones, opaque to the optimizer (see the module documentation).
    keep: v128,
    /// `first_lanes[r]`: ones in the first r lanes, zeros after; as opaque as `keep`.
    first_lanes: [v128; 5],
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
        let keep = u32x4_splat(std::hint::black_box(u32::MAX));
        let first_lanes = [0, 1, 2, 3, 4].map(|r| {
            let lane = |i: u32| if i < r { u32::MAX } else { 0 };
            v128_and(u32x4(lane(0), lane(1), lane(2), lane(3)), keep)
        });
        Some(SimdKey {
            nrev: reverse_padded(&n),
            n,
            rr,
            n0inv: neg_inverse(n[0]),
            keep,
            first_lanes,
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

/// Columns summed together ([`group_sums`]).
const GROUP: usize = 4;

/// `x` reversed, in four copies each one limb further on: out[j][m] = x[L − 1 + j − m]
/// where that index is in 0..L, zero elsewhere. Column c's term i, x[c − i], is then
/// out[0][L − 1 − c + i], and column c + j's is at the same place in out[j]: the four
/// columns of a group read their terms at the same index of four arrays, each chunk one
/// vector load. (From one array their windows would overlap, and LLVM then builds the
/// vectors lane by lane from shared scalar loads, which costs more than the products.)
/// Terms with c − i outside 0..L read zeros.
fn reverse_padded(x: &Limbs) -> [Limbs; GROUP] {
    let mut out = [[0u32; P]; GROUP];
    for (j, copy) in out.iter_mut().enumerate() {
        for (o, v) in copy[j..L + j].iter_mut().zip(x[..L].iter().rev()) {
            *o = *v;
        }
    }
    out
}

/// Where the windows of the group of columns from `k` start in [`reverse_padded`] arrays,
/// for terms from i = `lo`.
#[inline(always)]
fn window(k: usize, lo: usize) -> usize {
    L - 1 + lo - k
}

#[inline(always)]
fn lanes(c: &[u32], keep: v128) -> v128 {
    // A chunk of exactly 4 limbs: LLVM makes this one v128.load.
    v128_and(u32x4(c[0], c[1], c[2], c[3]), keep)
}

/// acc[j] + x[i]·y[i], both lanes of the products in one i64x2 accumulator.
#[inline(always)]
fn add_products(acc: v128, x: v128, y: v128) -> v128 {
    let acc = i64x2_add(acc, i64x2_extmul_low_u32x4(x, y));
    i64x2_add(acc, i64x2_extmul_high_u32x4(x, y))
}

/// Four columns at once: acc[j] + Σ x[i]·rev[j][start + i] over the first `chunks`
/// 4-lane chunks. Each chunk of x is loaded once for the four columns, and the loop and
/// the bookkeeping of a column are paid once per group (in V8 they cost as much as the
/// products of a one-column loop).
#[inline(always)]
fn group_sums(
    mut acc: [v128; GROUP],
    x: &[u32],
    rev: &[Limbs; GROUP],
    start: usize,
    chunks: usize,
    keep: v128,
) -> [v128; GROUP] {
    let y = |j: usize| rev[j][start..].chunks_exact(4);
    let ys = y(0).zip(y(1)).zip(y(2).zip(y(3)));
    for (cx, ((c0, c1), (c2, c3))) in x.chunks_exact(4).zip(ys).take(chunks) {
        let vx = lanes(cx, keep);
        for (a, cy) in acc.iter_mut().zip([c0, c1, c2, c3]) {
            *a = add_products(*a, vx, lanes(cy, keep));
        }
    }
    acc
}

#[inline(always)]
fn hsum(v: v128) -> u64 {
    u64x2_extract_lane::<0>(v) + u64x2_extract_lane::<1>(v)
}

/// A group's column sums (vector parts) and scalar terms.
type Group = ([v128; GROUP], [u64; GROUP]);

/// Montgomery reduction by columns (product scanning), four columns at a time:
/// `columns(k, q)` gives columns k..k + 4 of the product, each Σ of its aᵢ·bⱼ
/// (i + j = column) and of qᵢ·nⱼ for the q chosen before the group (q[k..k + 4] are still
/// zero when the group is summed). Columns below L choose q[c], which clears the
/// column's low 28 bits, after taking the terms of the group's earlier q. The others are
/// the result; column 2L − 1, past the last one, sums to zero and gives the top limb
/// (below 2^28: the result is below 2n). A group reaching past L (or 2L) has its extra
/// columns ignored: their sums are not whole.
#[inline(always)]
fn reduce_columns(out: &mut Limbs, key: &SimdKey, mut columns: impl FnMut(usize, &Limbs) -> Group) {
    let mut q = [0u32; P];
    let n: [u64; GROUP] = core::array::from_fn(|j| u64::from(key.n[j]));
    let mut acc: u64 = 0;
    for k in (0..L).step_by(GROUP) {
        let (sums, extra) = columns(k, &q);
        let mut qs = [0u64; GROUP];
        for j in 0..GROUP.min(L - k) {
            acc += hsum(sums[j]) + extra[j];
            for t in 0..j {
                acc += qs[t] * n[j - t];
            }
            let qj = (acc as u32).wrapping_mul(key.n0inv) & MASK;
            q[k + j] = qj;
            qs[j] = u64::from(qj);
            acc = (acc + qs[j] * n[0]) >> BITS;
        }
    }
    for k in (L..2 * L).step_by(GROUP) {
        let (sums, extra) = columns(k, &q);
        for j in 0..GROUP.min(2 * L - k) {
            acc += hsum(sums[j]) + extra[j];
            out[k + j - L] = acc as u32 & MASK;
            acc >>= BITS;
        }
    }
}

/// Montgomery multiplication out = a·b·R⁻¹ (in [0, 2n) for a, b in [0, 2n)).
#[inline(never)]
fn mul(out: &mut Limbs, a: &Limbs, b: &Limbs, key: &SimdKey) {
    let brev = reverse_padded(b);
    let keep = key.keep;
    let zero = [u64x2_splat(0); GROUP];
    reduce_columns(out, key, |k, q| {
        let sums = if k < L {
            // Terms i = 0..=k + 3 of a·b; of q·n, i < k (q[k..k + 4] are still zero).
            let w = window(k, 0);
            let ab = group_sums(zero, a, &brev, w, k / 4 + 1, keep);
            group_sums(ab, q, &key.nrev, w, k / 4, keep)
        } else {
            // Terms i = lo..L (for column k + j the first j are zero: b[L..] = 0).
            let lo = k + 1 - L;
            let (w, chunks) = (window(k, lo), (L - lo).div_ceil(4));
            let ab = group_sums(zero, &a[lo..], &brev, w, chunks, keep);
            group_sums(ab, &q[lo..], &key.nrev, w, chunks, keep)
        };
        (sums, [0; GROUP])
    });
}

/// Montgomery squaring: cross products once, against a doubled copy of a (so that they
/// come doubled), squares on the diagonal.
#[inline(never)]
fn sqr(out: &mut Limbs, a: &Limbs, key: &SimdKey) {
    let arev = reverse_padded(a);
    // 2a limb by limb: 29-bit limbs, a cross product below 2^57 (the bound above).
    let mut a2 = [0u32; P];
    for (d, s) in a2.iter_mut().zip(a) {
        *d = s << 1;
    }
    let keep = key.keep;
    let zero = [u64x2_splat(0); GROUP];
    reduce_columns(out, key, |k, q| {
        // The cross terms of column k + j are i = lo..⌈(k + j)/2⌉: `count`, one more, one
        // more, two more. `count` is even (see the assertion on L), so after its whole
        // chunks one chunk holds every column's last terms: its lanes past each column's
        // last term are masked off (there the windows hold real limbs, not zeros).
        let lo = (k + 1).saturating_sub(L);
        let count = k / 2 - lo;
        let (whole, rest) = (count / 4, count % 4);
        let w = window(k, lo);
        let mut sums = group_sums(zero, &a2[lo..], &arev, w, whole, keep);
        let at = lo + 4 * whole;
        let x = &a2[at..at + 4];
        let more = [rest, rest + 1, rest + 1, rest + 2];
        for (j, (s, m)) in sums.iter_mut().zip(more).enumerate() {
            let y = &arev[j][w + 4 * whole..];
            *s = add_products(*s, lanes(x, key.first_lanes[m]), lanes(y, keep));
        }
        // Reduction terms, as in `mul`.
        let chunks = if k < L { k / 4 } else { (L - lo).div_ceil(4) };
        let sums = group_sums(sums, &q[lo..], &key.nrev, w, chunks, keep);
        // Squares on the diagonal: columns k and k + 2.
        let square = |i: usize| u64::from(a[i]) * u64::from(a[i]);
        (sums, [square(k / 2), 0, square(k / 2 + 1), 0])
    });
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
