//! A small blocking HTTP client over `ureq` (rustls, Mozilla's root set or a given CA).
//!
//! Non-2xx answers are ordinary [`Response`]s (callers map them); only a failure to get an
//! answer at all is a [`TransportError`], which names the method, the URL and the reason.
//! Redirects are never followed, so bearer tokens never leave the host they were meant for.

use std::time::Duration;

use serde_json::Value;

/// Answers larger than this are refused (key sets and ARM documents are a few KiB).
pub const MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_str(&self.body).map_err(|e| format!("the body is not JSON ({e})"))
    }

    /// The body for a message: trimmed and cut to a readable length.
    pub fn body_excerpt(&self) -> String {
        excerpt(&self.body)
    }
}

/// No answer: the connection, TLS or a timeout failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub method: &'static str,
    pub url: String,
    pub detail: String,
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.method, self.url, self.detail)
    }
}

/// How a client connects.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Use `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (with `NO_PROXY`). IMDS must not.
    pub proxy_from_env: bool,
    /// Trust only the certificates in this PEM (Vault's `VAULT_CACERT`) instead of
    /// Mozilla's root set.
    pub root_pem: Option<Vec<u8>>,
    pub connect_timeout: Duration,
    /// The whole request, body included.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            proxy_from_env: true,
            root_pem: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A blocking client; cheap to clone (connections are pooled per client).
#[derive(Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient")
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    /// Proxy from the environment, Mozilla's roots, 10 s to connect, 30 s per request.
    pub fn new() -> HttpClient {
        // Without a root PEM nothing can fail.
        HttpClient::with_options(ClientOptions::default()).unwrap_or_else(|_| HttpClient {
            agent: ureq::Agent::new_with_defaults(),
        })
    }

    /// For IMDS: never through a proxy, a short connect timeout (off Azure nothing answers).
    pub fn without_proxy(connect_timeout: Duration) -> HttpClient {
        HttpClient::with_options(ClientOptions {
            proxy_from_env: false,
            connect_timeout,
            ..ClientOptions::default()
        })
        .unwrap_or_else(|_| HttpClient {
            agent: ureq::Agent::new_with_defaults(),
        })
    }

    /// The error names what is wrong with `root_pem`.
    pub fn with_options(o: ClientOptions) -> Result<HttpClient, String> {
        let mut tls = ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
        if let Some(pem) = &o.root_pem {
            tls = tls.root_certs(parse_roots(pem)?);
        }
        let proxy = if o.proxy_from_env {
            ureq::Proxy::try_from_env()
        } else {
            None
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(proxy)
            .tls_config(tls.build())
            .timeout_connect(Some(o.connect_timeout))
            .timeout_global(Some(o.timeout))
            .user_agent(format!("aadauth/{}", aadauth::VERSION))
            .build();
        Ok(HttpClient {
            agent: config.into(),
        })
    }

    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, TransportError> {
        let mut req = self.agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        finish("GET", url, req.call())
    }

    pub fn post_form(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> Result<Response, TransportError> {
        let mut req = self.agent.post(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        finish("POST", url, req.send_form(form.iter().copied()))
    }

    pub fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Result<Response, TransportError> {
        let mut req = self
            .agent
            .post(url)
            .header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        finish("POST", url, req.send(body.to_string()))
    }
}

fn parse_roots(pem: &[u8]) -> Result<ureq::tls::RootCerts, String> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(format!("not a PEM certificate file: {e}")),
        }
    }
    if certs.is_empty() {
        return Err("no certificate (-----BEGIN CERTIFICATE-----) in the PEM file".into());
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

fn finish(
    method: &'static str,
    url: &str,
    r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Response, TransportError> {
    let fail = |detail: String| TransportError {
        method,
        url: url.to_string(),
        detail,
    };
    let mut resp = r.map_err(|e| fail(describe(&e)))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(|e| fail(format!("reading the answer ({status}): {}", describe(&e))))?;
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => format!("connection refused ({io})"),
            std::io::ErrorKind::TimedOut => format!("timed out ({io})"),
            _ => format!("{io}"),
        },
        ureq::Error::HostNotFound => "host not found (DNS)".to_string(),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        other => other.to_string(),
    }
}

/// `404 Not Found`.
pub fn status_line(status: u16) -> String {
    let reason = ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{status} {reason}").trim_end().to_string()
}

/// The reason phrase alone (`Not Found`), as go-oidc prints it after the status code.
pub fn reason(status: u16) -> &'static str {
    ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// Trimmed, at most 500 characters.
pub fn excerpt(body: &str) -> String {
    let t = body.trim();
    if t.chars().count() > 500 {
        let cut: String = t.chars().take(500).collect();
        format!("{cut}…")
    } else {
        t.to_string()
    }
}

fn keep(c: u8, extra: &[u8]) -> bool {
    c.is_ascii_alphanumeric() || b"-._~".contains(&c) || extra.contains(&c)
}

fn encode(s: &str, extra: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if keep(b, extra) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encodes a query component (`resource=https%3A%2F%2F…`).
pub fn encode_component(s: &str) -> String {
    encode(s, b"")
}

/// Percent-encodes a path, keeping `/` and the characters Azure names use.
pub fn encode_path(s: &str) -> String {
    encode(s, b"/()!$'*+,;=:@")
}

/// `k=v&k=v` with encoded values.
pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(
            query(&[("resource", "https://management.azure.com/"), ("a b", "é")]),
            "resource=https%3A%2F%2Fmanagement.azure.com%2F&a%20b=%C3%A9"
        );
        assert_eq!(encode_path("/rg(1)/a b"), "/rg(1)/a%20b");
        assert_eq!(status_line(429), "429 Too Many Requests");
        assert_eq!(status_line(599), "599");
    }

    #[test]
    fn bad_root_pem_is_named() {
        let e = HttpClient::with_options(ClientOptions {
            root_pem: Some(b"hello".to_vec()),
            ..ClientOptions::default()
        })
        .unwrap_err();
        assert!(e.contains("no certificate"), "{e}");
    }

    #[test]
    fn connection_refused_names_the_url() {
        // A loopback port that was just free: nothing listens.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let url = format!("http://127.0.0.1:{port}/x");
        let e = HttpClient::new().get(&url, &[]).unwrap_err();
        assert_eq!(e.url, url);
        assert!(e.to_string().starts_with(&format!("GET {url}: ")), "{e}");
        assert!(e.detail.contains("refused"), "{e}");
    }
}
