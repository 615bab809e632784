//! Montgomery squaring and multiplication for 2048-bit moduli over 64-bit limbs, by
//! product scanning (Comba), with the reduction fused into the same columns: the native
//! path of every Azure AD key.
//!
//! Why not the operand-scanning CIOS of aadauth's `signature` module: on x86-64 without `mulx`/`adx`
//! (which safe Rust cannot ask for), a public operation is bound by the multiplier, and what
//! is left to win is the work around each product. A column sum kept in registers needs
//! no load and store of partial results per product; a column that is straight-line code
//! has no loop exits to mispredict. Each of the 64 output columns is therefore its own
//! const-generic instantiation ([`sqr_col`], [`mul_col`]) whose sums have compile-time
//! trip counts, and the compiler unrolls them. Measured: a public operation (e = 65537)
//! about 1.2× faster than the CIOS (22.6 against 26.6 µs, interleaved, in a standalone
//! benchmark; RS256 verification in `scripts/bench.sh` 30.8 → 26.0 µs with the changes
//! around it), for about 89 KB of machine code; checked against num-bigint on 2048-bit
//! moduli of every shape in aadauth's `tests/rs256_differential.rs`, besides the
//! `rsa`-crate differential tests and the `rs256` fuzz target.
//!
//! Column k of a·b·R⁻¹ mod n: Σ aᵢ·b_{k−i} + Σ mᵢ·n_{k−i}, where for k < 32 the
//! Montgomery digit m_k = (column sum mod 2^64)·(−n⁻¹) mod 2^64 makes the column's low
//! limb zero (it is dropped); columns 32 to 63 are the result. Squaring sums each cross
//! product aᵢaⱼ (i < j) once and doubles the sum, then adds the diagonal a_{k/2}².
//!
//! # The BMI2/ADX build
//!
//! The same code is compiled twice: once for any x86-64 (or other 64-bit target), and once
//! with BMI2 and ADX enabled (`mulx` multiplies without touching the flags, so the
//! compiler keeps the add-with-carry chains in registers), chosen at run time by
//! `is_x86_feature_detected!` (Intel since Broadwell, AMD since Zen). Both compute the
//! same function; `tests/paths.rs` holds them equal on random operands. Measured on an AMD
//! EPYC: a squaring takes 1063 ns against 1386 ns (`examples/builds.rs`, the two builds in
//! turns in one process), and `scripts/bench.sh`'s RS256 verification went from 30.5 to
//! 22.8 µs (best rounds of two runs, hours apart).
//!
//! Calling a function compiled for features the CPU was checked to have is this crate's
//! one `unsafe` (twice, in `x86`). The crate is apart from aadauth's core so that the core
//! keeps `#![forbid(unsafe_code)]`.

#![deny(unsafe_code)]

/// Limbs of a 2048-bit modulus.
pub const S: usize = 32;

/// A column accumulator of three limbs: `l0` and the two above it in `h`. The step
/// `t = a·b + l0; l0 = t mod 2^64; h += t >> 64` cannot overflow t (at most 2^128 − 1)
/// and compiles to a multiply and add/adc/adc, without one-bit carries that the compiler
/// would otherwise regroup and spill. A column sums at most 64 products of two limbs plus
/// the carry from the column below, far under 2^192.
#[derive(Clone, Copy)]
struct Acc {
    l0: u64,
    h: u128,
}

impl Acc {
    const ZERO: Acc = Acc { l0: 0, h: 0 };

    #[inline(always)]
    fn mac(&mut self, a: u64, b: u64) {
        let t = u128::from(a) * u128::from(b) + u128::from(self.l0);
        self.l0 = t as u64;
        self.h += t >> 64;
    }

    #[inline(always)]
    fn add(&mut self, o: Acc) {
        let t = u128::from(self.l0) + u128::from(o.l0);
        self.l0 = t as u64;
        self.h += (t >> 64) + o.h;
    }

    /// Doubles a sum of cross products, which is below 2^133 (at most 16 products).
    #[inline(always)]
    fn double(&mut self) {
        self.h = (self.h << 1) | u128::from(self.l0 >> 63);
        self.l0 <<= 1;
    }

    /// The column's low limb out, the carry into the next column in.
    #[inline(always)]
    fn shift(&mut self) -> u64 {
        let r = self.l0;
        self.l0 = self.h as u64;
        self.h >>= 64;
        r
    }
}

/// Calls `$f::<K>` for the 64 columns, K = 0 to 63, in order.
macro_rules! all_columns {
    ($f:ident, $($args:expr),*) => {
        $f::<0>($($args),*); $f::<1>($($args),*); $f::<2>($($args),*); $f::<3>($($args),*);
        $f::<4>($($args),*); $f::<5>($($args),*); $f::<6>($($args),*); $f::<7>($($args),*);
        $f::<8>($($args),*); $f::<9>($($args),*); $f::<10>($($args),*); $f::<11>($($args),*);
        $f::<12>($($args),*); $f::<13>($($args),*); $f::<14>($($args),*); $f::<15>($($args),*);
        $f::<16>($($args),*); $f::<17>($($args),*); $f::<18>($($args),*); $f::<19>($($args),*);
        $f::<20>($($args),*); $f::<21>($($args),*); $f::<22>($($args),*); $f::<23>($($args),*);
        $f::<24>($($args),*); $f::<25>($($args),*); $f::<26>($($args),*); $f::<27>($($args),*);
        $f::<28>($($args),*); $f::<29>($($args),*); $f::<30>($($args),*); $f::<31>($($args),*);
        $f::<32>($($args),*); $f::<33>($($args),*); $f::<34>($($args),*); $f::<35>($($args),*);
        $f::<36>($($args),*); $f::<37>($($args),*); $f::<38>($($args),*); $f::<39>($($args),*);
        $f::<40>($($args),*); $f::<41>($($args),*); $f::<42>($($args),*); $f::<43>($($args),*);
        $f::<44>($($args),*); $f::<45>($($args),*); $f::<46>($($args),*); $f::<47>($($args),*);
        $f::<48>($($args),*); $f::<49>($($args),*); $f::<50>($($args),*); $f::<51>($($args),*);
        $f::<52>($($args),*); $f::<53>($($args),*); $f::<54>($($args),*); $f::<55>($($args),*);
        $f::<56>($($args),*); $f::<57>($($args),*); $f::<58>($($args),*); $f::<59>($($args),*);
        $f::<60>($($args),*); $f::<61>($($args),*); $f::<62>($($args),*); $f::<63>($($args),*);
    };
}

/// What passes from column to column: the modulus and −n⁻¹ mod 2^64, the Montgomery
/// digits found so far, the accumulator (the carry into the next column) and the result
/// limbs (columns 32 to 63).
struct Columns<'a> {
    n: &'a [u64; S],
    n0inv: u64,
    m: [u64; S],
    acc: Acc,
    out: &'a mut [u64; S],
}

/// Column K of a²·R⁻¹ mod n: the cross products once, doubled, and the diagonal; then
/// [`reduce_col`].
#[inline(always)]
fn sqr_col<const K: usize>(c: &mut Columns<'_>, a: &[u64; S]) {
    let i0 = (K + 1).saturating_sub(S);
    let i1 = K.div_ceil(2);
    if i1 > i0 {
        let mut cross = Acc::ZERO;
        for i in i0..i1 {
            cross.mac(a[i], a[K - i]);
        }
        cross.double();
        c.acc.add(cross);
    }
    if K.is_multiple_of(2) {
        c.acc.mac(a[(K / 2) % S], a[(K / 2) % S]);
    }
    reduce_col::<K>(c);
}

/// Column K of a·b·R⁻¹ mod n: the products aᵢ·b_{K−i}; then [`reduce_col`].
#[inline(always)]
fn mul_col<const K: usize>(c: &mut Columns<'_>, (a, b): (&[u64; S], &[u64; S])) {
    products::<K>(&mut c.acc, a, b, true);
    reduce_col::<K>(c);
}

/// The Montgomery half of column K: adds mᵢ·n_{K−i} for the digits found so far;
/// below 32, finds m_K and drops the column's (now zero) low limb; from 32, emits result
/// limb K − 32.
#[inline(always)]
fn reduce_col<const K: usize>(c: &mut Columns<'_>) {
    // m_K is not known yet: it is what the column's sum so far decides.
    products::<K>(&mut c.acc, &c.m, c.n, false);
    if K < S {
        let mk = c.acc.l0.wrapping_mul(c.n0inv);
        c.m[K % S] = mk;
        c.acc.mac(mk, c.n[0]);
        c.acc.shift();
    } else {
        c.out[K % S] = c.acc.shift();
    }
}

/// Adds Σ xᵢ·y_{K−i} over the column's pairs, i ≤ K − 1 below column 32 (and i = K too
/// when `top`), i from K − 31 to 31 above. Two loops with compile-time bounds: one range
/// over both cases unrolls less well (about 50% more instructions in `mul`).
#[inline(always)]
fn products<const K: usize>(acc: &mut Acc, x: &[u64; S], y: &[u64; S], top: bool) {
    if K < S {
        for i in 0..K {
            acc.mac(x[i], y[K - i]);
        }
        if top {
            acc.mac(x[K % S], y[0]);
        }
    } else {
        for i in K + 1 - S..S {
            acc.mac(x[i], y[K - i]);
        }
    }
}

impl Columns<'_> {
    /// The result, below 2n: one conditional subtraction (the carry out of column 63 is
    /// its 2049th bit).
    #[inline(always)]
    fn finish(self) {
        if self.acc.l0 != 0 || !less_than(self.out, self.n) {
            sub_in_place(self.out, self.n);
        }
    }
}

/// [`sqr`]'s body, inlined into each build.
#[inline(always)]
fn sqr_body(out: &mut [u64; S], a: &[u64; S], n: &[u64; S], n0inv: u64) {
    let mut c = Columns {
        n,
        n0inv,
        m: [0; S],
        acc: Acc::ZERO,
        out,
    };
    all_columns!(sqr_col, &mut c, a);
    c.finish();
}

/// [`mul`]'s body, inlined into each build.
#[inline(always)]
fn mul_body(out: &mut [u64; S], a: &[u64; S], b: &[u64; S], n: &[u64; S], n0inv: u64) {
    let mut c = Columns {
        n,
        n0inv,
        m: [0; S],
        acc: Acc::ZERO,
        out,
    };
    all_columns!(mul_col, &mut c, (a, b));
    c.finish();
}

/// out = a²·R⁻¹ mod n, for a below n (R = 2^2048) and n odd, with `n0inv` = −n⁻¹ mod 2^64.
pub fn sqr(out: &mut [u64; S], a: &[u64; S], n: &[u64; S], n0inv: u64) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_mulx() {
        return x86::sqr(out, a, n, n0inv);
    }
    sqr_body(out, a, n, n0inv);
}

/// out = a·b·R⁻¹ mod n, for a and b below n (R = 2^2048) and n odd, with `n0inv` = −n⁻¹
/// mod 2^64.
pub fn mul(out: &mut [u64; S], a: &[u64; S], b: &[u64; S], n: &[u64; S], n0inv: u64) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_mulx() {
        return x86::mul(out, a, b, n, n0inv);
    }
    mul_body(out, a, b, n, n0inv);
}

/// [`sqr`] compiled for any CPU of the target (for tests against the dispatched build).
#[doc(hidden)]
pub fn sqr_portable(out: &mut [u64; S], a: &[u64; S], n: &[u64; S], n0inv: u64) {
    sqr_body(out, a, n, n0inv);
}

/// [`mul`] compiled for any CPU of the target (for tests against the dispatched build).
#[doc(hidden)]
pub fn mul_portable(out: &mut [u64; S], a: &[u64; S], b: &[u64; S], n: &[u64; S], n0inv: u64) {
    mul_body(out, a, b, n, n0inv);
}

/// Whether [`sqr`] and [`mul`] run the BMI2/ADX build on this CPU.
pub fn uses_mulx() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        x86::has_mulx()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::S;

    /// BMI2 and ADX, as std detected them (once per process, then a load).
    #[inline]
    pub(super) fn has_mulx() -> bool {
        std::is_x86_feature_detected!("bmi2") && std::is_x86_feature_detected!("adx")
    }

    #[target_feature(enable = "bmi2,adx")]
    fn sqr_mulx(out: &mut [u64; S], a: &[u64; S], n: &[u64; S], n0inv: u64) {
        super::sqr_body(out, a, n, n0inv);
    }

    #[target_feature(enable = "bmi2,adx")]
    fn mul_mulx(out: &mut [u64; S], a: &[u64; S], b: &[u64; S], n: &[u64; S], n0inv: u64) {
        super::mul_body(out, a, b, n, n0inv);
    }

    /// Only called after [`has_mulx`] answered true.
    pub(super) fn sqr(out: &mut [u64; S], a: &[u64; S], n: &[u64; S], n0inv: u64) {
        #[allow(unsafe_code)]
        // SAFETY: the caller checked with `has_mulx` that the CPU has BMI2 and ADX, the
        // only requirement of a `target_feature` function; the body itself is safe code.
        unsafe {
            sqr_mulx(out, a, n, n0inv)
        }
    }

    /// Only called after [`has_mulx`] answered true.
    pub(super) fn mul(out: &mut [u64; S], a: &[u64; S], b: &[u64; S], n: &[u64; S], n0inv: u64) {
        #[allow(unsafe_code)]
        // SAFETY: as in `sqr`: the CPU was checked to have BMI2 and ADX.
        unsafe {
            mul_mulx(out, a, b, n, n0inv)
        }
    }
}

/// a < b, both of S limbs, least significant first.
#[inline(always)]
fn less_than(a: &[u64; S], b: &[u64; S]) -> bool {
    for i in (0..S).rev() {
        if a[i] != b[i] {
            return a[i] < b[i];
        }
    }
    false
}

/// a -= b (the caller guarantees a ≥ b, or that the borrow out is the dropped 2049th bit).
#[inline(always)]
fn sub_in_place(a: &mut [u64; S], b: &[u64; S]) {
    let mut borrow = false;
    for (x, y) in a.iter_mut().zip(b) {
        let (d1, b1) = x.overflowing_sub(*y);
        let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
        *x = d2;
        borrow = b1 || b2;
    }
}
