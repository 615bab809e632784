//! Prints the `evaluate` output for the `input` of a test vector or an input file:
//! `cargo run --example evaluate_file -- tests/vectors/token_expired.json`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: evaluate_file FILE");
        std::process::exit(2);
    };
    let text = std::fs::read(&path).unwrap_or_default();
    let doc: serde_json::Value = serde_json::from_slice(&text).unwrap_or_default();
    let input = if doc.get("input").is_some() {
        &doc["input"]
    } else {
        &doc
    };
    match aadauth::evaluate(input) {
        Ok(out) => println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}
