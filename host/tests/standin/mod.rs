//! A local stand-in for the Azure services and Vault that the host adapters talk to.
//!
//! One HTTP/1.1 server on 127.0.0.1 (ephemeral port), std only, serving:
//! - Entra ID: `/{tenant}/.well-known/openid-configuration` (v1 discovery),
//!   `/common/discovery/keys` (the key set; swap it to simulate a rotation),
//!   `/{tenant}/oauth2/token` and `/{tenant}/oauth2/v2.0/token` (client credentials);
//! - ARM: any `/subscriptions/…` path loaded from a test vector's `arm` snapshot (lists
//!   paged with `nextLink`), `/subscriptions/{s}/providers/{ns}`, bearer tokens checked,
//!   canned faults (429 with `Retry-After`, 500, …) served first;
//! - IMDS: `/metadata/identity/oauth2/token` (needs `Metadata: true`) and
//!   `/metadata/instance`; App Service's `/msi/token` (needs `X-IDENTITY-HEADER`);
//! - Vault: `/v1/auth/{mount}/login`, which records the request and answers as configured.
//!
//! Every request is recorded in `State::log`. The server stops when dropped.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

pub const TENANT: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
pub const SUB: &str = "8d2f4a1c-3b5e-4c6d-9e7f-a1b2c3d4e5f6";
pub const CLIENT_ID: &str = "aadauth-test-client";
pub const CLIENT_SECRET: &str = "aadauth-test-secret";
pub const APP_SERVICE_HEADER: &str = "app-service-secret-header";

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Percent-decoded path, without the query.
    pub path: String,
    /// The path as sent.
    pub raw_path: String,
    pub query: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        let n = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
    }

    pub fn param(&self, name: &str) -> Option<String> {
        parse_form(&self.query)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A canned answer.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Canned {
    pub fn json(status: u16, body: Value) -> Canned {
        Canned {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }

    pub fn with_header(mut self, k: &str, v: &str) -> Canned {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
}

/// What the stand-in serves; tests change it at any time.
pub struct State {
    /// The discovery document's issuer; default `https://sts.windows.net/{tenant}/`.
    pub issuer: Option<String>,
    pub jwks: String,
    pub jwks_status: u16,
    /// Slows the key endpoint down (to overlap concurrent fetches).
    pub jwks_delay: Duration,
    /// Lower-case path → (status, body).
    pub arm: BTreeMap<String, (u16, Value)>,
    /// Lower-case path → answers served (and consumed) before the normal one.
    pub arm_faults: BTreeMap<String, VecDeque<Canned>>,
    /// Every ARM resource read answers this.
    pub arm_down: Option<Canned>,
    /// Lower-case namespace → providers document.
    pub providers: BTreeMap<String, Value>,
    /// Items per page of a list.
    pub page_size: usize,
    /// Bearer tokens ARM accepts.
    pub issued: Vec<String>,
    pub imds_token: String,
    /// Selector values IMDS knows (client / object / resource ids); empty: any.
    pub imds_identities: Vec<String>,
    pub imds_metadata: Value,
    /// Answers served (and consumed) by the IMDS token endpoint first.
    pub imds_faults: VecDeque<Canned>,
    pub vault_reply: Canned,
    pub log: Vec<Recorded>,
    pub base: String,
}

pub struct StandIn {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StandIn {
    pub fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let base = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State {
            issuer: None,
            jwks: json!({"keys": []}).to_string(),
            jwks_status: 200,
            jwks_delay: Duration::ZERO,
            arm: BTreeMap::new(),
            arm_faults: BTreeMap::new(),
            arm_down: None,
            providers: BTreeMap::new(),
            page_size: 1,
            issued: Vec::new(),
            imds_token: String::new(),
            imds_identities: Vec::new(),
            imds_metadata: json!({}),
            imds_faults: VecDeque::new(),
            vault_reply: Canned::json(
                200,
                json!({"auth": {"client_token": "hvs.standin-token", "policies": ["default"], "lease_duration": 3600, "renewable": true}}),
            ),
            log: Vec::new(),
            base: base.clone(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = serve_connection(conn, &st);
                });
            }
        });
        StandIn {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// A stand-in serving a test vector's key set and ARM snapshot.
    pub fn for_vector(vector: &Value) -> StandIn {
        let s = StandIn::start();
        s.load_vector(vector);
        s
    }

    pub fn load_vector(&self, vector: &Value) {
        let input = vector.get("input").unwrap_or(vector);
        let mut st = self.state();
        if let Some(k) = input.get("keys") {
            st.jwks = match k {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
        }
        st.arm.clear();
        if let Some(Value::Object(arm)) = input.get("arm") {
            for (path, body) in arm {
                let key = path.split('?').next().unwrap_or(path).to_lowercase();
                let entry = match body.get("error").filter(|e| e.is_object()) {
                    Some(err) => (
                        body.get("status").and_then(Value::as_u64).unwrap_or(500) as u16,
                        json!({ "error": err }),
                    ),
                    None => (200, body.clone()),
                };
                st.arm.insert(key, entry);
            }
        }
        if let Some(jwt) = input.pointer("/login/jwt").and_then(Value::as_str) {
            st.imds_token = jwt.to_string();
        }
    }

    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every service of `cloud` at this stand-in.
    pub fn endpoints(&self, cloud: aadauth::Cloud) -> aadauth_host::Endpoints {
        aadauth_host::Endpoints {
            cloud,
            authority: self.base(),
            arm: self.base(),
            imds: self.base(),
        }
        .normalised()
    }

    /// Recorded requests whose path contains `fragment` (case-insensitive).
    pub fn requests(&self, fragment: &str) -> Vec<Recorded> {
        let f = fragment.to_lowercase();
        self.state()
            .log
            .iter()
            .filter(|r| r.path.to_lowercase().contains(&f))
            .cloned()
            .collect()
    }

    pub fn count(&self, fragment: &str) -> usize {
        self.requests(fragment).len()
    }

    /// Serves these answers for `path` before the normal one.
    pub fn fault(&self, path: &str, answers: Vec<Canned>) {
        self.state()
            .arm_faults
            .insert(path.to_lowercase(), answers.into());
    }

    /// The environment that points the adapters (and the CLI) here.
    pub fn env(&self) -> Vec<(String, String)> {
        let b = self.base();
        vec![
            ("AADAUTH_AUTHORITY_HOST".into(), format!("{b}/")),
            ("AADAUTH_ARM_ENDPOINT".into(), format!("{b}/")),
            ("AADAUTH_IMDS_ENDPOINT".into(), b.clone()),
            ("VAULT_ADDR".into(), b),
        ]
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The repository's test vectors.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

pub fn vector(name: &str) -> Value {
    let path = vectors_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// HTTP plumbing.

fn serve_connection(conn: TcpStream, state: &Arc<Mutex<State>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len.min(1 << 20)];
    reader.read_exact(&mut body)?;
    let (raw_path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.clone(), String::new()),
    };
    let req = Recorded {
        method,
        path: percent_decode(&raw_path),
        raw_path,
        query,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let (answer, delay) = {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        st.log.push(req.clone());
        route(&mut st, &req)
    };
    if !delay.is_zero() {
        std::thread::sleep(delay);
    }
    let mut out = conn;
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        reason(answer.status),
        answer.body.len()
    );
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(answer.body.as_bytes())?;
    out.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Routes.

fn route(st: &mut State, req: &Recorded) -> (Canned, Duration) {
    let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let none = Duration::ZERO;
    match (req.method.as_str(), segs.as_slice()) {
        ("GET", [tenant, ".well-known", "openid-configuration"]) => {
            let b = &st.base;
            let issuer = st
                .issuer
                .clone()
                .unwrap_or_else(|| format!("https://sts.windows.net/{tenant}/"));
            (
                Canned::json(
                    200,
                    json!({
                        "token_endpoint": format!("{b}/{tenant}/oauth2/token"),
                        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                        "jwks_uri": format!("{b}/common/discovery/keys"),
                        "response_modes_supported": ["query", "fragment", "form_post"],
                        "subject_types_supported": ["pairwise"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
                        "scopes_supported": ["openid"],
                        "issuer": issuer,
                        "authorization_endpoint": format!("{b}/{tenant}/oauth2/authorize"),
                        "tenant_region_scope": "EU",
                        "cloud_instance_name": "microsoftonline.com",
                    }),
                ),
                none,
            )
        }
        ("GET", ["common", "discovery", "keys"]) => (
            Canned {
                status: st.jwks_status,
                headers: vec![],
                body: st.jwks.clone(),
            },
            st.jwks_delay,
        ),
        ("POST", [_tenant, "oauth2", "token"]) | ("POST", [_tenant, "oauth2", "v2.0", "token"]) => {
            (client_credentials(st, req, segs.len() == 4), none)
        }
        ("GET", ["metadata", "identity", "oauth2", "token"]) => (imds_token(st, req, false), none),
        ("GET", ["msi", "token"]) => (imds_token(st, req, true), none),
        ("GET", ["metadata", "instance"]) => {
            if req.header("metadata") != Some("true") {
                return (metadata_header_missing(), none);
            }
            (Canned::json(200, st.imds_metadata.clone()), none)
        }
        ("POST" | "PUT", ["v1", "auth", .., "login"]) => (st.vault_reply.clone(), none),
        ("GET", ["subscriptions", ..]) => (arm(st, req, &segs), none),
        _ => (
            Canned::json(
                404,
                json!({"error": {"code": "NotFound", "message": format!("stand-in: no route for {} {}", req.method, req.path)}}),
            ),
            none,
        ),
    }
}

fn client_credentials(st: &mut State, req: &Recorded, v2: bool) -> Canned {
    let form: BTreeMap<String, String> = parse_form(&req.body).into_iter().collect();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    if get("grant_type") != "client_credentials" {
        return Canned::json(
            400,
            json!({"error": "unsupported_grant_type", "error_description": "AADSTS70003: The app requested an unsupported grant type."}),
        );
    }
    if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
        return Canned::json(
            401,
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."}),
        );
    }
    let audience = if v2 { get("scope") } else { get("resource") };
    if audience.is_empty() {
        return Canned::json(
            400,
            json!({"error": "invalid_request", "error_description": "AADSTS900144: The request body must contain the following parameter: 'resource'."}),
        );
    }
    let token = format!("arm-token-{}", st.issued.len() + 1);
    st.issued.push(token.clone());
    let n = now();
    if v2 {
        Canned::json(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
        )
    } else {
        Canned::json(
            200,
            json!({"token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599", "expires_on": (n + 3599).to_string(), "not_before": n.to_string(), "resource": audience, "access_token": token}),
        )
    }
}

fn metadata_header_missing() -> Canned {
    Canned::json(
        400,
        json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
    )
}

fn imds_token(st: &mut State, req: &Recorded, app_service: bool) -> Canned {
    if app_service {
        if req.header("x-identity-header") != Some(APP_SERVICE_HEADER) {
            return Canned::json(
                401,
                json!({"statusCode": 401, "message": "Unauthorized: missing or wrong X-IDENTITY-HEADER"}),
            );
        }
    } else if req.header("metadata") != Some("true") {
        return metadata_header_missing();
    }
    if let Some(f) = st.imds_faults.pop_front() {
        return f;
    }
    let resource = req.param("resource").unwrap_or_default();
    if resource.is_empty() {
        return Canned::json(
            400,
            json!({"error": "invalid_request", "error_description": "Required audience parameter not specified"}),
        );
    }
    let selector = [
        "client_id",
        "object_id",
        "msi_res_id",
        "mi_res_id",
        "principal_id",
    ]
    .iter()
    .find_map(|k| req.param(k));
    if let Some(sel) = &selector {
        if !st.imds_identities.is_empty()
            && !st
                .imds_identities
                .iter()
                .any(|i| i.eq_ignore_ascii_case(sel))
        {
            return Canned::json(
                400,
                json!({"error": "invalid_request", "error_description": "Identity not found"}),
            );
        }
    }
    if st.imds_token.is_empty() {
        return Canned::json(
            400,
            json!({"error": "invalid_request", "error_description": "Identity not found"}),
        );
    }
    let token = st.imds_token.clone();
    if !st.issued.contains(&token) {
        st.issued.push(token.clone());
    }
    let n = now();
    if app_service {
        Canned::json(
            200,
            json!({"access_token": token, "expires_on": (n + 86_399).to_string(), "resource": resource, "token_type": "Bearer", "client_id": "c0ffee00-1111-4222-8333-444455556666"}),
        )
    } else {
        Canned::json(
            200,
            json!({"access_token": token, "client_id": "c0ffee00-1111-4222-8333-444455556666", "expires_in": "86399", "expires_on": (n + 86_399).to_string(), "ext_expires_in": "86399", "not_before": n.to_string(), "resource": resource, "token_type": "Bearer"}),
        )
    }
}

fn arm(st: &mut State, req: &Recorded, segs: &[&str]) -> Canned {
    let bearer = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    if !st.issued.iter().any(|t| t == bearer) {
        return Canned::json(
            401,
            json!({"error": {"code": "InvalidAuthenticationToken", "message": "The access token is missing or invalid."}}),
        );
    }
    if req.param("api-version").unwrap_or_default().is_empty() {
        return Canned::json(
            400,
            json!({"error": {"code": "MissingApiVersionParameter", "message": "The api-version query parameter (?api-version=) is required for all requests."}}),
        );
    }
    let key = req.path.to_lowercase();
    if let Some(q) = st.arm_faults.get_mut(&key) {
        if let Some(f) = q.pop_front() {
            return f;
        }
    }
    // /subscriptions/{s}/providers/{ns}
    if segs.len() == 4 && segs[2].eq_ignore_ascii_case("providers") {
        return match st.providers.get(&segs[3].to_lowercase()) {
            Some(doc) => Canned::json(200, doc.clone()),
            None => Canned::json(
                404,
                json!({"error": {"code": "InvalidResourceNamespace", "message": format!("The resource namespace '{}' is invalid.", segs[3])}}),
            ),
        };
    }
    if let Some(down) = &st.arm_down {
        return down.clone();
    }
    let Some((status, body)) = st.arm.get(&key).cloned() else {
        let name = segs.last().unwrap_or(&"");
        return Canned::json(
            404,
            json!({"error": {"code": "ResourceNotFound", "message": format!("The Resource '{name}' under resource group was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")}}),
        );
    };
    // A list: page it.
    if let (200, Some(items)) = (status, body.get("value").and_then(Value::as_array)) {
        let size = st.page_size.max(1);
        let skip: usize = req
            .param("$skiptoken")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let page: Vec<Value> = items.iter().skip(skip).take(size).cloned().collect();
        let mut doc = json!({ "value": page });
        if skip + size < items.len() {
            doc["nextLink"] = json!(format!(
                "{}{}?api-version={}&$skiptoken={}",
                st.base,
                req.raw_path,
                req.param("api-version").unwrap_or_default(),
                skip + size
            ));
        }
        return Canned::json(200, doc);
    }
    Canned::json(status, body)
}

/// The vector's key set with only the keys whose kid is listed (a tenant before or after a
/// rotation).
pub fn only_keys(v: &Value, kids: &[&str]) -> String {
    let keys: Vec<Value> = v["input"]["keys"]["keys"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|k| kids.contains(&k["kid"].as_str().unwrap_or("")))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    json!({ "keys": keys }).to_string()
}
