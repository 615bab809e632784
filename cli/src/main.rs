//! `aadauth`: the command line over the aadauth core.
//!
//! Exit status: 0 allowed (or success), 1 refused, 2 usage or input error.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

/// Writes to standard output, ignoring a closed pipe (`aadauth demo | head`) instead of
/// panicking as `println!` does.
macro_rules! out {
    ($($t:tt)*) => {{
        let _ = write!(std::io::stdout().lock(), $($t)*);
    }};
}
macro_rules! outln {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

mod live;
mod serve;
mod text;

/// The allocator of the `aadauth` binary. An evaluation builds its explanation from some
/// 250 small allocations (forty check details, the claims, the auth block), freed together;
/// glibc's malloc keeps only 7 freed blocks per size class at hand and sends the rest down
/// its slower paths. With mimalloc a new token's evaluation took 34.4 µs instead of 40.6 µs
/// (−15%; the signature, 20 µs, is unchanged), measured by `scripts/bench.sh` (2026-12-01
/// 12:25 UTC), whose `native … mimalloc` rows are this configuration. The core does not choose: a program
/// embedding the crate keeps its own allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
aadauth — decide Azure AD (Entra ID) logins exactly as Vault's Azure auth method does

USAGE:
  aadauth evaluate --input FILE|- [--format json|text]
      Evaluate one login (the JSON contract: config, role, login, keys, arm, now).
      Prints the output JSON (or a table with --format text).
      Exit 0 allowed, 1 refused, 2 input error.
  aadauth decode TOKEN|- [--now UNIX] [--format json|text]
      Decode a token (raw JWT, `Bearer …`, or the IMDS JSON response) with Azure
      annotations. Verifies nothing. Relative times use --now or the system clock.
  aadauth role FILE|-      Validate a role (write body or `vault read -format=json` output)
  aadauth config FILE|-    Validate an auth/azure/config document
  aadauth demo [NAME]      Evaluate the bundled demo cases (demo/demo.json) and print them
  aadauth serve [--dir DIR] [--port 8080] [--host 127.0.0.1]
      Serve the role tester page (www/ and pkg/) on localhost
  aadauth login --role ROLE [--mount azure] [--resource URL] [--vault-addr ADDR]
                [--client-id ID | --object-id ID | --resource-id ID] [--format json] [--dry-run]
      What `vault login -method=azure` does: a token and the instance metadata from
      IMDS, then POST $VAULT_ADDR/v1/auth/<mount>/login. Prints the Vault token (the
      whole response with --format json); --dry-run prints the request, JWT redacted.
      Honours VAULT_ADDR, VAULT_NAMESPACE, VAULT_CACERT.
  aadauth explain --config FILE --role FILE --login FILE [--token FILE|-|imds]
                  [--keys FILE] [--arm FILE] [--now UNIX] [--remote-addr IP] [--format json|text]
      Like evaluate, with the tenant's keys (OpenID discovery) and ARM facts fetched live
      when --keys / --arm are not given (ARM credentials: config client_id/client_secret,
      else the machine's managed identity). Every check is evaluated. Exit 0 allowed,
      1 refused, 2 usage or input error.
  aadauth keys [--tenant T] [--environment E] [--format json|text]
      The tenant's discovery document and key set.
  aadauth version

Endpoints: AADAUTH_AUTHORITY_HOST, AADAUTH_ARM_ENDPOINT, AADAUTH_IMDS_ENDPOINT override
the cloud's (IDENTITY_ENDPOINT + IDENTITY_HEADER select App Service's token endpoint).

Files: `-` reads standard input.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&args) {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("aadauth: {msg}");
            2
        }
    };
    ExitCode::from(code)
}

/// Returns the option value after `name`.
fn opt<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The first argument that is not an option or an option's value.
fn positional<'a>(args: &'a [String], with_values: &[&str]) -> Option<&'a str> {
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if with_values.contains(&a.as_str()) {
            skip = true;
            continue;
        }
        if a.starts_with("--") {
            continue;
        }
        return Some(a);
    }
    None
}

fn read_source(src: &str) -> Result<Vec<u8>, String> {
    if src == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(aadauth::contract::MAX_INPUT_BYTES as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("reading standard input: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(src).map_err(|e| format!("{src}: {e}"))
    }
}

fn system_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn color_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    Ok(())
}

fn run(args: &[String]) -> Result<u8, String> {
    let Some(cmd) = args.first() else {
        outln!("{USAGE}");
        return Ok(2);
    };
    let rest = &args[1..];
    let format = opt(rest, "--format").unwrap_or("json");
    if !matches!(format, "json" | "text") {
        return Err(format!("--format must be json or text, not {format:?}"));
    }
    match cmd.as_str() {
        "evaluate" => {
            let src = opt(rest, "--input")
                .or_else(|| positional(rest, &["--format", "--input"]))
                .ok_or("evaluate needs --input FILE (or - for standard input)")?;
            let input =
                aadauth::contract::parse_input(&read_source(src)?).map_err(|e| e.to_string())?;
            // A test vector ({"input", "expect"}) evaluates its input.
            let input = match input.get("input") {
                Some(inner) if input.get("now").is_none() && inner.is_object() => inner.clone(),
                _ => input,
            };
            let out = aadauth::evaluate(&input).map_err(|e| e.to_string())?;
            if format == "text" {
                out!("{}", text::render_output(&out, color_wanted()));
            } else {
                print_json(&out)?;
            }
            Ok(if out.allowed { 0 } else { 1 })
        }
        "decode" => {
            let src = positional(rest, &["--format", "--now"])
                .ok_or("decode needs a token (or - for standard input)")?;
            let token = if src == "-" {
                String::from_utf8_lossy(&read_source("-")?).into_owned()
            } else if std::path::Path::new(src).is_file() {
                String::from_utf8_lossy(&read_source(src)?).into_owned()
            } else {
                src.to_string()
            };
            let now = match opt(rest, "--now") {
                Some(n) => n
                    .parse()
                    .map_err(|_| format!("--now must be Unix seconds, not {n:?}"))?,
                None => system_now(),
            };
            let decoded = aadauth::decode_token(&token, Some(now)).map_err(|e| e.to_string())?;
            if format == "text" {
                out!("{}", text::render_decoded(&decoded));
            } else {
                print_json(&decoded)?;
            }
            Ok(0)
        }
        "role" => {
            let src = positional(rest, &["--format"]).ok_or("role needs FILE or -")?;
            let v = aadauth::contract::parse_input(&read_source(src)?).map_err(|e| e.message)?;
            let role = aadauth::Role::from_json(&v, "").map_err(|e| e.to_string())?;
            if let Some(e) = role.write_error() {
                eprintln!("Vault refuses this role (400): {e}");
                return Ok(1);
            }
            print_json(&role)?;
            if !role.unknown_fields.is_empty() {
                eprintln!(
                    "note: Vault ignores unrecognized fields: {}",
                    role.unknown_fields.join(", ")
                );
            }
            Ok(0)
        }
        "config" => {
            let src = positional(rest, &["--format"]).ok_or("config needs FILE or -")?;
            let v = aadauth::contract::parse_input(&read_source(src)?).map_err(|e| e.message)?;
            let cfg = aadauth::Config::from_json(&v).map_err(|e| e.to_string())?;
            print_json(&cfg)?;
            let mut problems = Vec::new();
            if cfg.tenant_id.is_empty() {
                problems.push("tenant_id is required".to_string());
            }
            if cfg.resource.is_empty() {
                problems.push("resource is required".to_string());
            }
            if let Err(e) = aadauth::Cloud::from_environment(&cfg.environment) {
                problems.push(e);
            }
            for p in &problems {
                eprintln!("every login would fail (500): {p}");
            }
            Ok(if problems.is_empty() { 0 } else { 1 })
        }
        "demo" => demo(positional(rest, &[])),
        "serve" => {
            let dir = opt(rest, "--dir").unwrap_or("www");
            let port: u16 = opt(rest, "--port")
                .unwrap_or("8080")
                .parse()
                .map_err(|_| "--port must be a number".to_string())?;
            let host = opt(rest, "--host").unwrap_or("127.0.0.1");
            serve::serve(dir, host, port).map_err(|e| e.to_string())?;
            Ok(0)
        }
        "login" => live::login(rest),
        "explain" => live::explain(rest),
        "keys" => live::keys(rest),
        "version" | "--version" | "-V" => {
            outln!("aadauth {}", aadauth::VERSION);
            Ok(0)
        }
        "help" | "--help" | "-h" => {
            outln!("{USAGE}");
            Ok(0)
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    }
}

/// The bundled demo scenario, compiled in so the binary works from any directory.
const DEMO: &str = include_str!("../../demo/demo.json");

fn demo(only: Option<&str>) -> Result<u8, String> {
    let doc: serde_json::Value = serde_json::from_str(DEMO).map_err(|e| e.to_string())?;
    let cases = doc["cases"].as_array().cloned().unwrap_or_default();
    let color = color_wanted();
    let mut shown = 0;
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("");
        if only.is_some_and(|o| o != name) {
            continue;
        }
        shown += 1;
        let out = aadauth::evaluate(&case["input"]).map_err(|e| e.to_string())?;
        outln!("━━ {} ({name})", case["title"].as_str().unwrap_or(name));
        if only.is_some() {
            out!("{}", text::render_output(&out, color));
        } else {
            out!("{}", text::render_verdict(&out, color));
        }
        outln!();
    }
    if shown == 0 {
        let names: Vec<&str> = cases.iter().filter_map(|c| c["name"].as_str()).collect();
        return Err(format!(
            "no demo case named {:?}; cases: {}",
            only.unwrap_or(""),
            names.join(", ")
        ));
    }
    if only.is_none() {
        outln!("Run `aadauth demo NAME` for every check of one case.");
    }
    Ok(0)
}
