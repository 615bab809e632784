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

/// A `proxy_get_buffer_bytes` call expression.
fn get_buffer(buffer: i32, start: i32, max: i32, ret_ptr: i32, ret_size: i32) -> String {
    format!(
        "(call $get_buffer (i32.const {buffer}) (i32.const {start}) (i32.const {max}) \
         (i32.const {ret_ptr}) (i32.const {ret_size}))"
    )
}

const VM_CONFIGURATION: i32 = 6;
const STATUS_OK: i32 = 0;
const BAD_ARGUMENT: i32 = 2;
const INVALID_MEMORY_ACCESS: i32 = 6;

/// `proxy_on_vm_start` returns whether `expr` evaluates to `expected`.
fn expect_status(malloc: &str, expr: &str, expected: i32) -> Vec<u8> {
    module(
        "",
        malloc,
        &format!("(i32.eq {expr} (i32.const {expected}))"),
    )
}

#[test]
fn bad_pointers_get_invalid_memory_access() {
    let ok_malloc = "(i32.const 1024)";
    let cases = [
        // Out-pointer past the end of memory.
        (
            "(call $time (i32.const 65532))".to_string(),
            INVALID_MEMORY_ACCESS,
        ),
        ("(call $time (i32.const 65528))".to_string(), STATUS_OK),
        // Message past the end of memory; length overflowing the address space.
        (
            "(call $log (i32.const 2) (i32.const 65500) (i32.const 100))".to_string(),
            INVALID_MEMORY_ACCESS,
        ),
        (
            "(call $log (i32.const 2) (i32.const 1) (i32.const -1))".to_string(),
            INVALID_MEMORY_ACCESS,
        ),
        (
            "(call $log (i32.const 9) (i32.const 0) (i32.const 0))".to_string(),
            BAD_ARGUMENT,
        ),
        // Buffer returned through bad out-pointers.
        (
            get_buffer(VM_CONFIGURATION, 0, 10, 70000, 0),
            INVALID_MEMORY_ACCESS,
        ),
        // Unknown buffer type; start past the end of the buffer.
        (get_buffer(99, 0, 10, 0, 4), BAD_ARGUMENT),
        (get_buffer(VM_CONFIGURATION, 9, 10, 0, 4), BAD_ARGUMENT),
        (get_buffer(VM_CONFIGURATION, 0, -1, 0, 4), STATUS_OK),
    ];
    for (expr, expected) in cases {
        let mut host = Host::new(&expect_status(ok_malloc, &expr, expected)).unwrap();
        assert!(
            host.start("abc").unwrap(),
            "{expr} should return {expected}"
        );
    }
}

#[test]
fn allocator_returning_null_is_reported() {
    let expr = &get_buffer(VM_CONFIGURATION, 0, 10, 0, 4);
    let mut host = Host::new(&expect_status("(i32.const 0)", expr, INVALID_MEMORY_ACCESS)).unwrap();
    assert!(host.start("abc").unwrap());
    // Empty data needs no allocation.
    let mut host = Host::new(&expect_status("(unreachable)", expr, STATUS_OK)).unwrap();
    assert!(host.start("").unwrap());
}

#[test]
fn allocator_trap_surfaces_as_an_error() {
    let expr = &get_buffer(VM_CONFIGURATION, 0, 10, 0, 4);
    let mut host = Host::new(&expect_status("(unreachable)", expr, STATUS_OK)).unwrap();
    let err = host.start("abc").unwrap_err();
    assert!(
        format!("{err:#}").contains("proxy_on_vm_start(1) trapped"),
        "{err:#}"
    );
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
    assert!(
        format!("{err:#}").contains("proxy_not_in_the_abi"),
        "{err:#}"
    );
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
    assert_eq!(
        host.action(req),
        Some(proxy_wasm_testhost::Action::Continue)
    );
    assert!(host.finish(req).unwrap());
}

#[test]
fn wasi_subset() {
    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "fd_write"
                (func $fd_write (param i32 i32 i32 i32) (result i32)))
            (import "wasi_snapshot_preview1" "clock_time_get"
                (func $clock (param i32 i64 i32) (result i32)))
            (import "wasi_snapshot_preview1" "random_get"
                (func $random (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 0) "\10\00\00\00\06\00\00\00") ;; iovec {16, 6}
            (data (i32.const 16) "hello\n")
            (func (export "proxy_abi_version_0_2_1"))
            (func (export "proxy_on_vm_start") (param i32 i32) (result i32)
                (i32.and (i32.and (i32.and
                    (i32.and
                        (i32.eqz (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 100)))
                        (i32.eq (i32.load (i32.const 100)) (i32.const 6)))
                    (i32.eq (call $fd_write (i32.const 7) (i32.const 0) (i32.const 1) (i32.const 100))
                        (i32.const 8)))
                    (i32.and
                        (i32.eqz (call $clock (i32.const 0) (i64.const 0) (i32.const 200)))
                        (i64.eq (i64.load (i32.const 200)) (i64.const 42))))
                    (i32.and
                        (i32.eq (call $clock (i32.const 5) (i64.const 0) (i32.const 200)) (i32.const 58))
                        (i32.and
                            (i32.eqz (call $random (i32.const 300) (i32.const 16)))
                            (i32.eq (call $random (i32.const 65530) (i32.const 16)) (i32.const 21))))))
        )"#,
    )
    .unwrap();
    let mut host = Host::new(&wasm).unwrap();
    host.set_time(42);
    assert!(host.start("").unwrap());
    assert_eq!(
        host.logs(),
        [(proxy_wasm_testhost::LogLevel::Error, "hello".to_string())]
    );
}
