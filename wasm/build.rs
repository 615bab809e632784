//! Embeds every `tests/vectors/*.json` of the workspace into `$OUT_DIR/vectors.rs`, so the
//! wasm tests (which cannot read files in a browser) run the whole folder and a new vector
//! needs no code change.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("../tests/vectors");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed=build.rs");

    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();

    let mut code = String::from(
        "/// Every test vector: (file name, file text).\npub const VECTORS: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        let abs = f.canonicalize().unwrap_or_else(|_| f.clone());
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            abs.display().to_string()
        );
    }
    code.push_str("];\n");

    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    std::fs::write(Path::new(&out).join("vectors.rs"), code).expect("OUT_DIR is writable");
}
