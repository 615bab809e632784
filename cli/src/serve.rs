//! `aadauth serve`: serves the role tester page (www/) and the wasm package (pkg/) on
//! localhost. A few dozen lines of std instead of a web framework: GET and HEAD of files
//! under the two folders, nothing else, with a strict Content-Security-Policy.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

/// No network access except, on an explicit click, the Microsoft key endpoints (the page
/// itself asks before fetching). `wasm-unsafe-eval` lets the page compile its wasm module.
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
connect-src 'self' https://login.microsoftonline.com https://login.microsoftonline.us https://login.chinacloudapi.cn; \
base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn serve(dir: &str, host: &str, port: u16) -> std::io::Result<()> {
    let www = PathBuf::from(dir);
    if !www.join("index.html").is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{}/index.html not found (run from the repository root, or pass --dir)",
                www.display()
            ),
        ));
    }
    let root = www.parent().unwrap_or(Path::new(".")).to_path_buf();
    let pkg = root.join("pkg");
    let listener = TcpListener::bind((host, port))?;
    let _ = writeln!(
        std::io::stdout().lock(),
        "aadauth role tester: http://{host}:{port}/  (Ctrl-C to stop)"
    );
    for stream in listener.incoming().flatten() {
        let (www, pkg) = (www.clone(), pkg.clone());
        let demo = root.join("demo");
        std::thread::spawn(move || {
            let _ = handle(stream, &www, &pkg, &demo);
        });
    }
    Ok(())
}

fn handle(mut stream: TcpStream, www: &Path, pkg: &Path, demo: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain headers.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if line.len() > 8192 {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("/");
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            405,
            "text/plain",
            b"method not allowed",
            method == "HEAD",
        );
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let file = if path == "/demo/demo.json" {
        Some(demo.join("demo.json")).filter(|p| p.is_file())
    } else {
        resolve(path, www, pkg)
    };
    match file.and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) {
        Some((f, body)) => respond(&mut stream, 200, content_type(&f), &body, method == "HEAD"),
        None => respond(
            &mut stream,
            404,
            "text/plain",
            b"not found",
            method == "HEAD",
        ),
    }
}

/// Maps a URL path to a file under www/ (or pkg/ for `/pkg/...`), refusing `..`.
fn resolve(path: &str, www: &Path, pkg: &Path) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/');
    let (base, rel) = match rel.strip_prefix("pkg/") {
        Some(r) => (pkg, r),
        None => (www, rel),
    };
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let p = Path::new(rel);
    if p.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let full = base.join(p);
    if full.is_dir() {
        let index = full.join("index.html");
        return index.is_file().then_some(index);
    }
    full.is_file().then_some(full)
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    ctype: &str,
    body: &[u8],
    head: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let header = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nContent-Security-Policy: {CSP}\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes())?;
    if !head {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape() {
        let www = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let pkg = www.clone();
        assert!(resolve("/../Cargo.toml", &www, &pkg).is_none());
        assert!(resolve("/main.rs", &www, &pkg).is_some());
        assert!(resolve("/pkg/../../Cargo.toml", &www, &pkg).is_none());
    }
}
