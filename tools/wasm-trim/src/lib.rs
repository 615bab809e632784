//! Trims a proxy-wasm filter module after linking.
//!
//! A Rust `cdylib` exports every `#[no_mangle]` function of every crate it links. When a
//! dependency links `wasm-bindgen` (jsonwebtoken does, through `js-sys`, on every wasm32
//! target), the module exports hundreds of `__wbindgen_describe_*` functions that import
//! `__wbindgen_placeholder__` functions no proxy-wasm host provides: Envoy refuses to load
//! such a module. The filter never calls any of them.
//!
//! [`trim`]:
//! 1. keeps only the exports a proxy-wasm host uses ([`is_abi_export`]) and drops the
//!    `__wasm_bindgen*` custom sections;
//! 2. removes every function, import, global and data item nothing kept can reach;
//! 3. replaces the few wasm-bindgen imports that remain reachable only through the
//!    indirect-call table (js-sys's waker vtables and `JsValue` drop glue, which exist for
//!    JavaScript futures and values the filter never creates) with local functions that
//!    trap (`unreachable`), so that the module imports nothing from `__wbindgen*` modules.
//!    Any other foreign import (e.g. WASI) is left alone, for the import check to report.

use anyhow::{Context, Result};

/// Exports a proxy-wasm (ABI 0.2.x) host looks for.
pub fn is_abi_export(name: &str) -> bool {
    name.starts_with("proxy_")
        || matches!(
            name,
            "memory" | "_initialize" | "_start" | "main" | "malloc"
        )
}

/// What [`trim`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Exports removed.
    pub exports_removed: usize,
    /// `module.name` of the wasm-bindgen imports replaced by trapping stubs.
    pub stubbed_imports: Vec<String>,
}

/// Returns `wasm` with only the proxy-wasm exports and what they reach.
pub fn trim(wasm: &[u8]) -> Result<(Vec<u8>, Report)> {
    let mut module = walrus::Module::from_buffer(wasm).context("parsing the wasm module")?;
    let mut report = Report::default();
    let drop: Vec<walrus::ExportId> = module
        .exports
        .iter()
        .filter(|e| !is_abi_export(&e.name))
        .map(|e| e.id())
        .collect();
    report.exports_removed = drop.len();
    for id in drop {
        module.exports.delete(id);
    }
    let customs: Vec<String> = module
        .customs
        .iter()
        .map(|(_, c)| c.name().to_string())
        .filter(|n| n.starts_with("__wasm_bindgen"))
        .collect();
    for name in customs {
        module.customs.remove_raw(&name);
    }
    walrus::passes::gc::run(&mut module);

    let stubs: Vec<(walrus::FunctionId, String)> = module
        .imports
        .iter()
        .filter(|i| i.module.starts_with("__wbindgen"))
        .filter_map(|i| match i.kind {
            walrus::ImportKind::Function(f) => Some((f, format!("{}.{}", i.module, i.name))),
            _ => None,
        })
        .collect();
    for (fid, name) in stubs {
        module
            .replace_imported_func(fid, |(body, _args)| {
                body.unreachable();
            })
            .with_context(|| format!("replacing {name}"))?;
        report.stubbed_imports.push(name);
    }
    walrus::passes::gc::run(&mut module);
    Ok((module.emit_wasm(), report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_abi_and_stubs_table_only_glue() {
        let wasm = wat::parse_str(
            r#"(module
                (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
                (import "__wbindgen_placeholder__" "__wbindgen_describe" (func $describe (param i32)))
                (import "__wbindgen_placeholder__" "__wbindgen_object_drop_ref" (func $drop (param i32)))
                (memory (export "memory") 1)
                (table 2 funcref)
                (elem (i32.const 1) $drop_glue)
                (func $drop_glue (param i32) (call $drop (local.get 0)))
                (type $glue (func (param i32)))
                (func (export "proxy_on_tick") (param i32)
                    (drop (call $log (i32.const 0) (i32.const 0) (i32.const 0)))
                    (call_indirect (type $glue) (local.get 0) (i32.const 1)))
                (func (export "__wbindgen_describe_x") (call $describe (i32.const 1)))
            )"#,
        )
        .unwrap();
        let (out, report) = trim(&wasm).unwrap();
        assert_eq!(report.exports_removed, 1);
        assert_eq!(
            report.stubbed_imports,
            vec!["__wbindgen_placeholder__.__wbindgen_object_drop_ref"]
        );
        let m = walrus::Module::from_buffer(&out).unwrap();
        let imports: Vec<String> = m
            .imports
            .iter()
            .map(|i| format!("{}.{}", i.module, i.name))
            .collect();
        assert_eq!(imports, vec!["env.proxy_log"]);
        let exports: Vec<&str> = m.exports.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(exports.len(), 2);
        assert!(exports.contains(&"proxy_on_tick") && exports.contains(&"memory"));
    }
}
