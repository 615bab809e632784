fn main() {
    let wasm = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let t = std::time::Instant::now();
    let mut h = proxy_wasm_testhost::Host::new(&wasm).unwrap();
    eprintln!("new: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    h.start("").unwrap(); h.configure("x").unwrap();
    for _ in 0..1000 { h.request(&[("x-panic-no","1")]).unwrap(); }
    eprintln!("1000 requests: {:?}", t.elapsed());
    let _ = h.request(&[("x-panic","1")]).map_err(|e| eprintln!("{e:#}"));
}
