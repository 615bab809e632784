//! The whole `evaluate` contract on arbitrary bytes: an input error or an output, never a
//! panic, and the same output twice.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let a = aadauth::evaluate_json(data).map(|o| serde_json::to_string(&o).unwrap_or_default());
    let b = aadauth::evaluate_json(data).map(|o| serde_json::to_string(&o).unwrap_or_default());
    assert_eq!(a.is_ok(), b.is_ok());
    if let (Ok(a), Ok(b)) = (a, b) {
        assert_eq!(a, b);
    }
});
