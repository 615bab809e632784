//! The built module imports nothing but the host's `env.proxy_*` functions (no
//! wasm-bindgen, no WASI, no clock or randomness of its own), and exports the ABI.

mod common;

use wasmparser::{Parser, Payload, TypeRef};

#[test]
fn imports_only_env_proxy_functions() {
    let wasm = common::filter_wasm();
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.expect("valid wasm") {
            Payload::ImportSection(reader) => {
                for imp in reader.into_imports() {
                    let imp = imp.expect("import");
                    imports.push((
                        imp.module.to_string(),
                        imp.name.to_string(),
                        matches!(imp.ty, TypeRef::Func(_)),
                    ));
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    exports.push(e.expect("export").name.to_string());
                }
            }
            _ => {}
        }
    }
    let bad: Vec<String> = imports
        .iter()
        .filter(|(m, n, func)| !(m == "env" && n.starts_with("proxy_") && *func))
        .map(|(m, n, _)| format!("{m}.{n}"))
        .collect();
    assert!(bad.is_empty(), "imports other than env.proxy_*: {bad:?}");
    assert!(
        imports.iter().any(|(_, n, _)| n == "proxy_http_call"),
        "{imports:?}"
    );
    for e in [
        "proxy_abi_version_0_2_1",
        "proxy_on_request_headers",
        "proxy_on_http_call_response",
        "proxy_on_tick",
        "memory",
    ] {
        assert!(exports.iter().any(|x| x == e), "missing export {e}");
    }
    let extra: Vec<&String> = exports
        .iter()
        .filter(|e| !wasm_trim::is_abi_export(e))
        .collect();
    assert!(extra.is_empty(), "unexpected exports: {extra:?}");
}
