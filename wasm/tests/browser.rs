//! The JavaScript API in a browser: `wasm-pack test --headless --chrome wasm` (or
//! `--firefox`); Chrome's flags are in `webdriver.json`.

#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod common;
mod js_api;
