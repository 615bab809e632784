//! The C ABI, called as C calls it: every test vector through `aadauth_evaluate` (identical
//! to the native `evaluate_json`, and as the vector expects), the step API driven from the
//! vectors' keys and ARM snapshots, many threads at once, and bad arguments.
//!
//! Unit tests rather than an integration test: the crate has no `rlib` (its library is
//! `libaadauth`, and an `rlib` of that name would collide with the core's).

use std::ffi::{c_char, CStr, CString};
use std::path::Path;
use std::ptr;

use crate::{
    aadauth_decode_token, aadauth_evaluate, aadauth_free, aadauth_login_free, aadauth_login_next,
    aadauth_login_provide_arm, aadauth_login_provide_keys, aadauth_login_start, aadauth_version,
    AadauthLogin,
};
use serde_json::{json, Value};

/// Takes ownership of a result: its text, released with `aadauth_free`.
fn take(p: *mut c_char) -> String {
    assert!(!p.is_null(), "results are never NULL");
    // SAFETY: a fresh, NUL-terminated result of the library.
    let text = unsafe { CStr::from_ptr(p) }
        .to_str()
        .expect("results are UTF-8")
        .to_string();
    // SAFETY: released exactly once.
    unsafe { aadauth_free(p) };
    text
}

fn c(text: &str) -> CString {
    CString::new(text).expect("no NUL in test input")
}

fn evaluate(input: &str) -> String {
    let input = c(input);
    // SAFETY: a valid C string for the duration of the call.
    take(unsafe { aadauth_evaluate(input.as_ptr()) })
}

fn decode(jwt: &str, now: i64) -> String {
    let jwt = c(jwt);
    // SAFETY: a valid C string for the duration of the call.
    take(unsafe { aadauth_decode_token(jwt.as_ptr(), now) })
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("result is not JSON ({e}): {text}"))
}

/// A login handle, freed on drop.
struct Login(*mut AadauthLogin);

impl Login {
    fn start(input: &str) -> Login {
        let input = c(input);
        // SAFETY: a valid C string for the duration of the call.
        let p = unsafe { aadauth_login_start(input.as_ptr()) };
        assert!(!p.is_null());
        Login(p)
    }
    fn next(&mut self) -> String {
        // SAFETY: a live handle used by this thread only.
        take(unsafe { aadauth_login_next(self.0) })
    }
    fn keys(&mut self, answer: &Value) -> String {
        let a = c(&answer.to_string());
        // SAFETY: a live handle used by this thread only; a valid C string.
        take(unsafe { aadauth_login_provide_keys(self.0, a.as_ptr()) })
    }
    fn arm(&mut self, answer: &Value) -> String {
        let a = c(&answer.to_string());
        // SAFETY: a live handle used by this thread only; a valid C string.
        take(unsafe { aadauth_login_provide_arm(self.0, a.as_ptr()) })
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        // SAFETY: the handle is released once, by its owner.
        unsafe { aadauth_login_free(self.0) }
    }
}

struct Vector {
    name: String,
    doc: Value,
    input: String,
}

fn vectors() -> Vec<Vector> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let vectors: Vec<Vector> = files
        .iter()
        .map(|p| {
            let doc: Value =
                serde_json::from_str(&std::fs::read_to_string(p).expect("read vector"))
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            Vector {
                name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                input: serde_json::to_string(&doc["input"]).unwrap(),
                doc,
            }
        })
        .collect();
    assert!(!vectors.is_empty(), "no test vectors in {}", dir.display());
    vectors
}

/// The native result, enveloped as the C function must answer.
fn native_envelope(input: &str) -> String {
    let out = aadauth_core::evaluate_json(input.as_bytes()).expect("vector inputs are valid");
    format!("{{\"ok\":{}}}", serde_json::to_string(&out).unwrap())
}

fn expectation_errors(v: &Vector, out: &Value) -> Vec<String> {
    let expect = &v.doc["expect"];
    let mut errors = Vec::new();
    for k in ["allowed", "status"] {
        if expect[k] != out[k] {
            errors.push(format!(
                "{}: {k}: want {}, got {}",
                v.name, expect[k], out[k]
            ));
        }
    }
    if let Some(e) = expect.get("error") {
        if e != &out["error"] {
            errors.push(format!("{}: error: want {e}, got {}", v.name, out["error"]));
        }
    }
    if let Some(p) = expect.get("error_prefix").and_then(Value::as_str) {
        if !out["error"].as_str().is_some_and(|e| e.starts_with(p)) {
            errors.push(format!(
                "{}: error: want prefix {p:?}, got {}",
                v.name, out["error"]
            ));
        }
    }
    errors
}

#[test]
fn every_vector_through_the_c_abi() {
    let vectors = vectors();
    let mut failures = Vec::new();
    for v in &vectors {
        let got = evaluate(&v.input);
        if got != native_envelope(&v.input) {
            failures.push(format!("{}: differs from the native evaluate_json", v.name));
            continue;
        }
        failures.extend(expectation_errors(v, &parse(&got)["ok"]));
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

/// The ARM snapshot key rule of the contract: no host, no query string, any case.
fn arm_key(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let path = match path.find("://") {
        Some(i) => path[i + 3..].find('/').map_or("/", |j| &path[i + 3 + j..]),
        None => path,
    };
    path.to_lowercase()
}

/// What an HTTP adapter would answer for `path`, from a vector's `arm` snapshot.
fn arm_answer(arm: &Value, path: &str) -> Value {
    let found = arm
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| arm_key(k) == path.to_lowercase()))
        .map(|(_, v)| v);
    match found {
        None => {
            json!({"path": path, "status": 404, "body": {"error": {"code": "ResourceNotFound"}}})
        }
        Some(v) if v.get("error").is_some_and(Value::is_object) => json!({
            "path": path,
            "status": v.get("status").and_then(Value::as_u64).unwrap_or(500),
            "body": {"error": v["error"]},
        }),
        // Exercise both body forms: the JSON value and its text.
        Some(v) if path.len().is_multiple_of(2) => json!({"path": path, "status": 200, "body": v}),
        Some(v) => json!({"path": path, "status": 200, "body": v.to_string()}),
    }
}

/// Drives the step API with a vector's facts; returns the `done` result text.
fn drive(v: &Vector, explore: bool) -> String {
    let input = &v.doc["input"];
    let mut start = input.as_object().unwrap().clone();
    let keys = start.remove("keys").unwrap_or(Value::Null);
    let arm = start.remove("arm").unwrap_or(Value::Null);
    if explore {
        start.insert("explore".into(), Value::Bool(true));
    }
    let mut login = Login::start(&Value::Object(start).to_string());
    for _ in 0..64 {
        let text = login.next();
        let step = parse(&text);
        match step.get("need").and_then(Value::as_str) {
            Some("keys") => assert_eq!(login.keys(&json!({"keys": keys})), r#"{"ok":null}"#),
            Some("arm") => {
                let requests = step["requests"].as_array().expect("requests");
                assert!(!requests.is_empty());
                for r in requests {
                    assert!(r["kind"].is_string(), "{r}");
                    let path = r["path"].as_str().expect("path");
                    assert_eq!(login.arm(&arm_answer(&arm, path)), r#"{"ok":null}"#);
                }
            }
            _ => {
                assert!(step.get("done").is_some(), "{}: {text}", v.name);
                // `done` is stable.
                assert_eq!(login.next(), text);
                return text;
            }
        }
    }
    panic!("{}: the step API did not finish", v.name);
}

#[test]
fn step_api_reaches_the_evaluate_output() {
    let vectors = vectors();
    let mut failures = Vec::new();
    for v in &vectors {
        let evaluated = evaluate(&v.input);
        let want_output = evaluated.strip_prefix("{\"ok\":").unwrap();
        // Exploring, with every fact answered: the same output, byte for byte.
        let explored = drive(v, true);
        if explored.strip_prefix("{\"done\":") != Some(want_output) {
            failures.push(format!(
                "{} (explore): {explored}\n  evaluate: {evaluated}",
                v.name
            ));
        }
        // As a real login: the same decision.
        let done = parse(&drive(v, false))["done"].clone();
        let want = parse(&evaluated)["ok"].clone();
        for k in ["allowed", "status", "error", "auth", "arm_requests"] {
            if done[k] != want[k] {
                failures.push(format!(
                    "{}: {k}: step {}, evaluate {}",
                    v.name, done[k], want[k]
                ));
            }
        }
        failures.extend(expectation_errors(v, &done));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn cached_keys_are_tried_before_a_fetch() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "allowed_vm_system_assigned")
        .expect("vector allowed_vm_system_assigned");
    let mut start = v.doc["input"].as_object().unwrap().clone();
    let keys = start.remove("keys").unwrap();
    let arm = start.remove("arm").unwrap();
    start.insert("cached_keys".into(), keys);
    let mut login = Login::start(&Value::Object(start).to_string());
    let step = parse(&login.next());
    assert_eq!(
        step["need"], "arm",
        "no key fetch with good cached keys: {step}"
    );
    for r in step["requests"].as_array().unwrap() {
        login.arm(&arm_answer(&arm, r["path"].as_str().unwrap()));
    }
    let done = parse(&login.next());
    assert_eq!(done["done"]["allowed"], true, "{done}");
}

#[test]
fn key_and_arm_failures_reach_the_output() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == "allowed_vm_system_assigned")
        .expect("vector allowed_vm_system_assigned");
    let mut start = v.doc["input"].as_object().unwrap().clone();
    start.remove("keys");
    start.remove("arm");
    let start = Value::Object(start).to_string();

    let mut login = Login::start(&start);
    assert_eq!(parse(&login.next())["need"], "keys");
    login.keys(
        &json!({"error": {"status": 503, "status_text": "Service Unavailable", "body": "busy"}}),
    );
    let out = parse(&login.next())["done"].clone();
    assert_eq!(out["allowed"], false);
    let error = out["error"].as_str().unwrap();
    assert!(
        error.contains("oidc: get keys failed: 503 Service Unavailable busy"),
        "{error}"
    );

    let mut login = Login::start(&start);
    login.next();
    login.keys(&json!({"keys": v.doc["input"]["keys"]}));
    let step = parse(&login.next());
    let path = step["requests"][0]["path"].as_str().unwrap().to_string();
    let answer = json!({"path": path.to_uppercase(), "status": 403,
        "body": {"error": {"code": "AuthorizationFailed", "message": "no read access"}}});
    assert_eq!(login.arm(&answer), r#"{"ok":null}"#);
    let out = parse(&login.next())["done"].clone();
    assert_eq!(out["allowed"], false);
    let error = out["error"].as_str().unwrap();
    assert!(
        error.contains("AuthorizationFailed") && error.contains("403"),
        "{error}"
    );
}

#[test]
fn many_threads_at_once() {
    let vectors = std::sync::Arc::new(vectors());
    let jwt = vectors
        .iter()
        .find_map(|v| {
            v.doc["input"]["login"]["jwt"]
                .as_str()
                .filter(|j| j.len() > 100)
        })
        .expect("a vector with a token")
        .to_string();
    let want: Vec<String> = vectors.iter().map(|v| native_envelope(&v.input)).collect();
    let want_decoded = format!(
        "{{\"ok\":{}}}",
        serde_json::to_string(&aadauth_core::decode_token(&jwt, Some(1_764_500_000)).unwrap())
            .unwrap()
    );
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (vectors, want, jwt, want_decoded) = (
                vectors.clone(),
                want.clone(),
                jwt.clone(),
                want_decoded.clone(),
            );
            std::thread::spawn(move || {
                for i in 0..200 {
                    let k = (t * 31 + i) % vectors.len();
                    match i % 4 {
                        0 | 1 => assert_eq!(evaluate(&vectors[k].input), want[k]),
                        2 => assert_eq!(decode(&jwt, 1_764_500_000), want_decoded),
                        _ => {
                            let done = drive(&vectors[k], true);
                            assert_eq!(&done[8..], &want[k][6..], "{}", vectors[k].name);
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no thread panicked");
    }
}

fn error_of(text: &str) -> (String, Value) {
    let v = parse(text);
    let e = v
        .get("error")
        .unwrap_or_else(|| panic!("not an error envelope: {text}"));
    assert_eq!(v.as_object().unwrap().len(), 1, "{text}");
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{text}"
    );
    (e["code"].as_str().unwrap().to_string(), e["field"].clone())
}

#[test]
fn null_pointers() {
    // SAFETY: NULL is allowed for every pointer argument.
    unsafe {
        assert_eq!(
            error_of(&take(aadauth_evaluate(ptr::null()))),
            ("null_pointer".into(), json!("input"))
        );
        assert_eq!(
            error_of(&take(aadauth_decode_token(ptr::null(), 0))),
            ("null_pointer".into(), json!("jwt"))
        );
        assert_eq!(
            error_of(&take(aadauth_login_next(ptr::null_mut()))),
            ("null_pointer".into(), json!("login"))
        );
        let a = c("{}");
        assert_eq!(
            error_of(&take(aadauth_login_provide_keys(
                ptr::null_mut(),
                a.as_ptr()
            ))),
            ("null_pointer".into(), json!("login"))
        );
        assert_eq!(
            error_of(&take(aadauth_login_provide_arm(
                ptr::null_mut(),
                a.as_ptr()
            ))),
            ("null_pointer".into(), json!("login"))
        );
        aadauth_free(ptr::null_mut());
        aadauth_login_free(ptr::null_mut());
        let login = aadauth_login_start(ptr::null());
        assert!(!login.is_null());
        assert_eq!(
            error_of(&take(aadauth_login_next(login))),
            ("null_pointer".into(), json!("input"))
        );
        aadauth_login_free(login);
    }
    let mut login = Login::start(r#"{"now": 1, "login": {"role": "r"}}"#);
    // SAFETY: a live handle; NULL answers are allowed.
    unsafe {
        assert_eq!(
            error_of(&take(aadauth_login_provide_keys(login.0, ptr::null()))),
            ("null_pointer".into(), json!("answer"))
        );
        assert_eq!(
            error_of(&take(aadauth_login_provide_arm(login.0, ptr::null()))),
            ("null_pointer".into(), json!("answer"))
        );
    }
    // A refused answer changes nothing.
    assert!(parse(&login.next()).get("done").is_some());
}

/// `p` (NUL-terminated) is refused with `code` by each entry point that reads a document:
/// `evaluate` and the step API name `input`, `decode_token` names `jwt`.
fn refused_by_every_entry_point(p: *const c_char, code: &str) {
    // SAFETY: the callers pass NUL-terminated bytes; the login handle is freed here.
    unsafe {
        assert_eq!(
            error_of(&take(aadauth_evaluate(p))),
            (code.into(), json!("input"))
        );
        assert_eq!(
            error_of(&take(aadauth_decode_token(p, 0))),
            (code.into(), json!("jwt"))
        );
        let login = aadauth_login_start(p);
        assert_eq!(
            error_of(&take(aadauth_login_next(login))),
            (code.into(), json!("input"))
        );
        aadauth_login_free(login);
    }
}

#[test]
fn bad_text() {
    let invalid_utf8 = b"{\"now\": \"\xff\"}\0";
    let p = invalid_utf8.as_ptr().cast::<c_char>();
    refused_by_every_entry_point(p, "invalid_utf8");
    let mut login = Login::start(r#"{"now": 1}"#);
    // SAFETY: a live handle; NUL-terminated bytes.
    unsafe {
        assert_eq!(
            error_of(&take(aadauth_login_provide_keys(login.0, p))),
            ("invalid_utf8".into(), json!("answer"))
        );
        assert_eq!(
            error_of(&take(aadauth_login_provide_arm(login.0, p))),
            ("invalid_utf8".into(), json!("answer"))
        );
    }
    assert!(parse(&login.next()).get("done").is_some());

    // Empty and malformed documents: input errors naming the field.
    for (input, field) in [
        ("", "input"),
        ("   ", "input"),
        ("{", "input"),
        ("[1, 2]", "input"),
        ("null", "input"),
        ("{}", "now"),
        (r#"{"now": "soon"}"#, "now"),
        (r#"{"now": 1, "profile": "nginx"}"#, "profile"),
        (r#"{"now": 1, "arm": []}"#, "arm"),
        (
            r#"{"now": 1, "role": {"token_ttl": "forever"}}"#,
            "role.token_ttl",
        ),
    ] {
        let (code, f) = error_of(&evaluate(input));
        assert_eq!(
            (code.as_str(), f.as_str()),
            ("input", Some(field)),
            "evaluate {input:?}"
        );
        if field != "arm" {
            let mut login = Login::start(input);
            let (code, f) = error_of(&login.next());
            assert_eq!(
                (code.as_str(), f.as_str()),
                ("input", Some(field)),
                "start {input:?}"
            );
            // A failed handle keeps answering the error.
            assert_eq!(
                error_of(&login.keys(&json!({"keys": null}))).1,
                json!(field)
            );
        }
    }
    for jwt in ["", "not a token", "a.b.c", "{\"access_token\": 1}"] {
        assert_eq!(
            error_of(&decode(jwt, 0)),
            ("input".into(), json!("jwt")),
            "{jwt:?}"
        );
    }
    // Malformed step answers.
    let login = Login::start(r#"{"now": 1, "login": {"role": "r", "jwt": "x.y.z"}}"#);
    for (answer, field) in [
        ("", "answer"),
        ("[]", "answer"),
        (r#"{"keys": {}, "error": {}}"#, "answer"),
        (r#"{"error": {"status": 99}}"#, "error.status"),
    ] {
        let a = c(answer);
        // SAFETY: a live handle, a valid C string.
        let r = take(unsafe { aadauth_login_provide_keys(login.0, a.as_ptr()) });
        assert_eq!(error_of(&r), ("input".into(), json!(field)), "{answer:?}");
    }
    for (answer, field) in [
        (r#"{"status": 200, "body": {}}"#, "path"),
        (r#"{"path": "/p", "status": "200"}"#, "status"),
        (
            r#"{"path": "/p", "status": 200, "body": "not json"}"#,
            "body",
        ),
    ] {
        let a = c(answer);
        // SAFETY: a live handle, a valid C string.
        let r = take(unsafe { aadauth_login_provide_arm(login.0, a.as_ptr()) });
        assert_eq!(error_of(&r), ("input".into(), json!(field)), "{answer:?}");
    }
}

#[test]
fn huge_input_is_refused_without_reading_it_all() {
    let limit = aadauth_core::contract::MAX_INPUT_BYTES;
    let mut huge = vec![b' '; limit + 1];
    huge.push(0);
    let p = huge.as_ptr().cast::<c_char>();
    refused_by_every_entry_point(p, "too_large");
    // SAFETY: NUL-terminated bytes.
    unsafe {
        let login = aadauth_login_start(p);
        assert_eq!(
            error_of(&take(aadauth_login_provide_keys(login, p))).0,
            "too_large"
        );
        aadauth_login_free(login);
    }
    // Exactly at the limit is read (and then refused as a document, not for its size).
    let mut at_limit = vec![b' '; limit];
    at_limit[0] = b'{';
    at_limit.push(0);
    // SAFETY: NUL-terminated bytes.
    let r = take(unsafe { aadauth_evaluate(at_limit.as_ptr().cast()) });
    assert_eq!(error_of(&r), ("input".into(), json!("input")));
}

#[test]
fn version_is_static() {
    // SAFETY: a static NUL-terminated string, not freed.
    let v = unsafe { CStr::from_ptr(aadauth_version()) };
    assert_eq!(v.to_str().unwrap(), aadauth_core::VERSION);
}
