//! `include/aadauth.h` is what cbindgen generates from `src/lib.rs` with `cbindgen.toml`.
//! With `AADAUTH_UPDATE_HEADER=1` the test rewrites the header instead of failing.

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");
    let path = dir.join("include/aadauth.h");
    if std::env::var_os("AADAUTH_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/aadauth.h");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "capi/include/aadauth.h is out of date: regenerate it with \
         `AADAUTH_UPDATE_HEADER=1 cargo test -p aadauth-capi --test header` or \
         `cbindgen --config capi/cbindgen.toml --crate aadauth-capi --output capi/include/aadauth.h`"
    );
}

#[test]
fn header_constants_match_the_core() {
    let header = include_str!("../include/aadauth.h");
    let max = format!(
        "#define AADAUTH_MAX_INPUT_BYTES {}\n",
        aadauth_core::contract::MAX_INPUT_BYTES
    );
    assert!(
        header.contains(&max),
        "AADAUTH_MAX_INPUT_BYTES differs from the core"
    );
    assert!(header.contains("#define AADAUTH_NO_TIME INT64_MIN\n"));
}
