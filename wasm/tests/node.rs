//! The JavaScript API in Node: `wasm-pack test --node wasm`.

#![cfg(target_arch = "wasm32")]

mod common;
mod js_api;
