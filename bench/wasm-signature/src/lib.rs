//! `Bench`: one prepared RSA public key and its public operation, callable from Node, for
//! `scripts/ab-signature-wasm.sh`. Not a product API: setup errors throw.

use aadauth::signature::RsaVerifier;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct Bench(RsaVerifier);

#[wasm_bindgen]
impl Bench {
    /// The key (modulus and exponent, big-endian).
    #[wasm_bindgen(constructor)]
    pub fn new(n: &[u8], e: &[u8]) -> Result<Bench, JsError> {
        RsaVerifier::new(n, e)
            .map(Bench)
            .ok_or_else(|| JsError::new("the key was refused"))
    }

    /// `sig^e mod n`, big-endian, or an error when `sig` is not below n.
    pub fn result(&self, sig: &[u8]) -> Result<Vec<u8>, JsError> {
        self.0
            .public_op(sig)
            .ok_or_else(|| JsError::new("the signature was refused"))
    }

    /// The public operation `iterations` times; returns a byte of the last result, so that
    /// nothing can be optimized away.
    pub fn run(&self, sig: &[u8], iterations: u32) -> Result<u8, JsError> {
        let mut last = 0;
        for _ in 0..iterations {
            last = self.result(sig)?.last().copied().unwrap_or(0);
        }
        Ok(last)
    }
}
