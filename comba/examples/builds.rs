//! The portable and the dispatched (BMI2/ADX where the CPU has them) squaring, timed in
//! turns in one process, so that the machine's speed changes hit both alike:
//! `cargo run --release -p aadauth-comba --example builds`. Prints the fastest and the
//! median of 30 rounds of 2,000 squarings each.
use std::time::Instant;
fn main() {
    let mut n = [0u64; 32];
    let mut x = 0x9E3779B97F4A7C15u64;
    for l in n.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *l = x;
    }
    n[0] |= 1;
    n[31] |= 1 << 63;
    let mut inv: u64 = 1;
    for _ in 0..7 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(inv)));
    }
    let n0inv = inv.wrapping_neg();
    let mut a = n;
    a[31] >>= 1;
    let (mut tp, mut td) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        let mut o = [0u64; 32];
        let t = Instant::now();
        for _ in 0..2000 {
            aadauth_comba::sqr_portable(&mut o, &a, &n, n0inv);
            a = o;
        }
        tp.push(t.elapsed().as_nanos() as f64 / 2000.0);
        let t = Instant::now();
        for _ in 0..2000 {
            aadauth_comba::sqr(&mut o, &a, &n, n0inv);
            a = o;
        }
        td.push(t.elapsed().as_nanos() as f64 / 2000.0);
    }
    tp.sort_by(|a, b| a.partial_cmp(b).unwrap());
    td.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("mulx={} portable sqr min {:.0} med {:.0} ns; dispatched min {:.0} med {:.0} ns; ratio(min) {:.2}",
        aadauth_comba::uses_mulx(), tp[0], tp[15], td[0], td[15], td[0] / tp[0]);
}
