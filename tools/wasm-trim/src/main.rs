//! `wasm-trim IN.wasm OUT.wasm`: see the library docs.

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = args.as_slice() else {
        anyhow::bail!("usage: wasm-trim IN.wasm OUT.wasm");
    };
    let wasm = std::fs::read(input).map_err(|e| anyhow::anyhow!("{input}: {e}"))?;
    let (trimmed, report) = wasm_trim::trim(&wasm)?;
    std::fs::write(output, &trimmed).map_err(|e| anyhow::anyhow!("{output}: {e}"))?;
    eprintln!(
        "wasm-trim: {input} ({} bytes) -> {output} ({} bytes); {} exports removed; trapping stubs for {}",
        wasm.len(),
        trimmed.len(),
        report.exports_removed,
        if report.stubbed_imports.is_empty() {
            "nothing".to_string()
        } else {
            report.stubbed_imports.join(", ")
        }
    );
    Ok(())
}
