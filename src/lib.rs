//! # aadauth
//!
//! Verifies Azure AD (Entra ID) tokens — above all the managed-identity tokens Azure VMs,
//! scale sets and services get from the Instance Metadata Service — and decides logins
//! exactly as HashiCorp Vault's Azure auth method does, with every check explained.
//!
//! This crate is the **no-I/O core**: no network, no files, no clock, no randomness, no
//! global state. Time, keys and Azure facts come in as arguments; decisions, explanations
//! and "what I still need" go out as values.
//!
//! - [`evaluate`] / [`evaluate_json`]: the JSON contract of `spec/evaluate-contract.md`.
//! - [`LoginFlow`]: the same decision as a step API for adapters that do real I/O
//!   (it asks for keys and ARM reads, you feed them back).
//! - [`decode_token`]: a token's header and claims with Azure annotations.
//! - [`Role`], [`Config`]: Vault's role and config, parsed and validated with Vault's
//!   messages.
//!
//! The allocator is the program's: an evaluation builds its explanation from some 250
//! small allocations, which glibc's malloc serves about 6 µs slower per evaluation than
//! mimalloc does (`scripts/bench.sh` times both; the `aadauth` binary uses mimalloc).
//!
//! ```
//! let input = br#"{"now": 1764500000, "login": {"role": "web"}}"#;
//! let out = aadauth::evaluate_json(input).unwrap();
//! assert!(!out.allowed);
//! assert_eq!(out.error.as_deref(), Some("jwt is required"));
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod cache;
pub mod cidr;
pub mod clouds;
pub mod config;
pub mod contract;
pub mod decision;
pub mod decode;
pub mod fields;
pub mod flow;
pub mod gate;
pub mod gateway;
pub mod gocompat;
pub mod json;
pub mod keys;
pub mod login;
pub mod paste;
pub mod resources;
pub mod role;
pub mod signature;
pub mod token;

pub use clouds::Cloud;
pub use config::Config;
pub use contract::{evaluate, evaluate_json, evaluate_json_with_keys, EvaluateInput, InputError};
pub use decision::{Auth, Check, Outcome, Output};
pub use decode::{decode_token, extract_jwt, DecodeError, Decoded};
pub use flow::{ArmReadKind, ArmRequest, KeyFetchError, LoginContext, LoginFlow, Profile, Step};
pub use gate::{Gate, GateDecision};
pub use keys::KeySet;
pub use login::LoginRequest;
pub use resources::ArmAnswer;
pub use role::Role;

/// The crate version, as `aadauth --version` and `version()` in JavaScript print it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
