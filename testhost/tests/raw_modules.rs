//! Hand-written modules that misbehave in ways the SDK never would.

use proxy_wasm_testhost::Host;

/// A minimal "filter": memory, the ABI marker, the given allocator body and
/// a `proxy_on_vm_start` running `vm_start` (which must leave an i32).
fn module(imports: &str, malloc: &str, vm_start: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
            (import "env" "proxy_get_buffer_bytes"
                (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
            (import "env" "proxy_get_current_time_nanoseconds"
                (func $time (param i32) (result i32)))
            (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
            {imports}
            (memory (export "memory") 1)
            (func (export "proxy_abi_version_0_2_1"))
            (func (export "malloc") (param i32) (result i32) {malloc})
            (func (export "proxy_on_vm_start") (param i32 i32) (result i32) {vm_start})
        )"#
    ))
    .unwrap()
}

const STATUS_OK: i32 = 0;
const BAD_ARGUMENT: i32 = 2;
const INVALID_MEMORY_ACCESS: i32 = 6;

/// `proxy_on_vm_start` returns whether `expr` evaluates to `expected`.
fn expect_status(malloc: &str, expr: &str, expected: i32) -> Vec<u8> {
    module("", malloc, &format!("(i32.eq {expr} (i32.const {expected}))"))
}

#[test]
fn bad_pointers_get_invalid_memory_access() {
    let ok_malloc = "(i32.const 1024)";
    let cases = [
        // Out-pointer past the end of memory.
        ("(call $time (i32.const 65532))", INVALID_MEMORY_ACCESS),
        ("(call $time (i32.const 65528))", STATUS_OK),
        // Message past the end of memory; length overflowing the address space.
        ("(call $log (i32.const 2) (i32.const 65500) (i32.const 100))", INVALID_MEMORY_ACCESS),
        ("(call $log (i32.const 2) (i32.const 1) (i32.const -1))", INVALID_MEMORY_ACCESS),
        ("(call $log (i32.const 9) (i32.const 0) (i32.const 0))", BAD_ARGUMENT),
        // Buffer returned through bad out-pointers.
        (
            "(call $get_buffer (i32.const 6) (i32.const 0) (i32.const 10) (i32.const 70000) (i32.const 0))",
            INVALID_MEMORY_ACCESS,
        ),
        // Unknown buffer type; start past the end of the buffer.
        (
            "(call $get_buffer (i32.const 99) (i32.const 0) (i32.const 10) (i32.const 0) (i32.const 4))",
            BAD_ARGUMENT,
        ),
        (
            "(call $get_buffer (i32.const 6) (i32.const 9) (i32.const 10) (i32.const 0) (i32.const 4))",
            BAD_ARGUMENT,
        ),
        (
            "(call $get_buffer (i32.const 6) (i32.const 0) (i32.const -1) (i32.const 0) (i32.const 4))",
            STATUS_OK,
        ),
    ];
    for (expr, expected) in cases {
        let mut host = Host::new(&expect_status(ok_malloc, expr, expected)).unwrap();
        assert!(host.start("abc").unwrap(), "{expr} should return {expected}");
    }
}

#[test]
fn allocator_returning_null_is_reported() {
    let expr = "(call $get_buffer (i32.const 6) (i32.const 0) (i32.const 10) (i32.const 0) (i32.const 4))";
    let mut host = Host::new(&expect_status("(i32.const 0)", expr, INVALID_MEMORY_ACCESS)).unwrap();
    assert!(host.start("abc").unwrap());
    // Empty data needs no allocation.
    let mut host = Host::new(&expect_status("(unreachable)", expr, STATUS_OK)).unwrap();
    assert!(host.start("").unwrap());
}

#[test]
fn allocator_trap_surfaces_as_an_error() {
    let expr = "(call $get_buffer (i32.const 6) (i32.const 0) (i32.const 10) (i32.const 0) (i32.const 4))";
    let mut host = Host::new(&expect_status("(unreachable)", expr, STATUS_OK)).unwrap();
    let err = host.start("abc").unwrap_err();
    assert!(format!("{err:#}").contains("proxy_on_vm_start(1) trapped"), "{err:#}");
    assert!(host.failed());
}

#[test]
fn unknown_imports_trap_when_called() {
    let wasm = module(
        r#"(import "env" "proxy_not_in_the_abi" (func $nope (result i32)))"#,
        "(i32.const 0)",
        "(call $nope)",
    );
    let mut host = Host::new(&wasm).unwrap();
    let err = host.start("").unwrap_err();
    assert!(format!("{err:#}").contains("proxy_not_in_the_abi"), "{err:#}");
}

#[test]
fn modules_without_memory_are_rejected() {
    let wasm = wat::parse_str(r#"(module (func (export "proxy_abi_version_0_2_1")))"#).unwrap();
    let err = Host::new(&wasm).unwrap_err();
    assert!(err.to_string().contains("memory"), "{err:#}");
}

#[test]
fn missing_callbacks_are_skipped() {
    let wasm = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1")))"#,
    )
    .unwrap();
    let mut host = Host::new(&wasm).unwrap();
    assert!(host.start("").unwrap());
    assert!(host.configure("").unwrap());
    let req = host.request(&[]).unwrap();
    assert_eq!(host.action(req), Some(proxy_wasm_testhost::Action::Continue));
    assert!(host.finish(req).unwrap());
}
