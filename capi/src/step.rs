//! The step API behind `aadauth_login_*`: a [`LoginFlow`] driven by JSON documents, for
//! hosts that fetch the key set and read ARM themselves.

use serde::Serialize;
use serde_json::{json, Map, Value};

use aadauth_core::{ArmAnswer, ArmRequest, EvaluateInput, KeyFetchError, KeySet, LoginFlow, Step};

use crate::envelope::{envelope, parse_json, ApiError, ErrorCode, OK_NULL};

/// A login in progress (opaque to C). Create it with `aadauth_login_start`, drive it with
/// `aadauth_login_next` / `aadauth_login_provide_*`, release it with `aadauth_login_free`.
pub struct AadauthLogin {
    state: State,
}

enum State {
    Running(Box<LoginFlow>),
    /// The start input was refused, or a call panicked: every call answers this error.
    Failed(ApiError),
}

// A handle may move between threads (used by one at a time).
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<AadauthLogin>();
};

impl AadauthLogin {
    /// A handle for a start input (already read from C), or one that answers `error`.
    pub fn start(input: Result<&[u8], ApiError>) -> AadauthLogin {
        let state = match input.and_then(parse_start) {
            Ok(flow) => State::Running(Box::new(flow)),
            Err(e) => State::Failed(e),
        };
        AadauthLogin { state }
    }

    pub fn failed(error: ApiError) -> AadauthLogin {
        AadauthLogin {
            state: State::Failed(error),
        }
    }

    /// After a panic: the flow's state is unknown, so the handle only answers `error`.
    pub fn poison(&mut self, error: ApiError) {
        self.state = State::Failed(error);
    }

    fn flow(&mut self) -> Result<&mut LoginFlow, ApiError> {
        match &mut self.state {
            State::Running(flow) => Ok(flow),
            State::Failed(e) => Err(e.clone()),
        }
    }

    /// `{"need":"keys"}`, `{"need":"arm","requests":[...]}` or `{"done": <output>}`.
    pub fn next_step(&mut self) -> Result<String, ApiError> {
        match self.flow()?.next() {
            Step::NeedKeys => Ok(r#"{"need":"keys"}"#.to_string()),
            Step::NeedArm(requests) => {
                #[derive(Serialize)]
                struct NeedArm<'a> {
                    need: &'static str,
                    requests: &'a [ArmRequest],
                }
                serde_json::to_string(&NeedArm {
                    need: "arm",
                    requests: &requests,
                })
                .map_err(|e| ApiError::new(ErrorCode::Internal, None, format!("serialising: {e}")))
            }
            Step::Done(out) => envelope("done", &*out),
        }
    }

    /// `{"keys": <jwks>}` or `{"error": {...}}`; answers `{"ok":null}`.
    pub fn provide_keys(&mut self, answer: &[u8]) -> Result<String, ApiError> {
        let flow = self.flow()?;
        let keys = parse_keys_answer(&parse_json(answer, "answer")?)?;
        flow.provide_keys(keys);
        Ok(OK_NULL.to_string())
    }

    /// `{"path": ..., "status": N, "body": ...}` or `{"path": ..., "transport": "..."}`;
    /// answers `{"ok":null}`.
    pub fn provide_arm(&mut self, answer: &[u8]) -> Result<String, ApiError> {
        let flow = self.flow()?;
        let (path, arm) = parse_arm_answer(&parse_json(answer, "answer")?)?;
        flow.provide_arm(&path, arm);
        Ok(OK_NULL.to_string())
    }
}

/// The evaluate input without `keys` and `arm`, plus `cached_keys` and `explore`.
fn parse_start(bytes: &[u8]) -> Result<LoginFlow, ApiError> {
    let mut doc = parse_json(bytes, "input")?;
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| ApiError::input("input", "expected a JSON object"))?;
    for (member, instead) in [
        ("keys", "answer {\"need\":\"keys\"} with aadauth_login_provide_keys, or pass keys you already hold as \"cached_keys\""),
        ("arm", "answer {\"need\":\"arm\"} with aadauth_login_provide_arm"),
    ] {
        if obj.get(member).is_some_and(|v| !v.is_null()) {
            return Err(ApiError::input(
                member,
                format!("not used by the step API: {instead}"),
            ));
        }
    }
    let cached_keys = obj.remove("cached_keys");
    let explore = obj.remove("explore");
    let input = EvaluateInput::from_json(&doc)?;
    let mut flow = LoginFlow::new(input.context).gateway_settings(input.gateway);
    match cached_keys {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => {
            let keys = KeySet::from_jwks_str(&text)
                .map_err(|e| ApiError::input("cached_keys", format!("not a key set: {e}")))?;
            flow = flow.with_cached_keys(keys);
        }
        Some(v) => {
            let keys = KeySet::from_jwks(&v)
                .map_err(|e| ApiError::input("cached_keys", format!("not a key set: {e}")))?;
            flow = flow.with_cached_keys(keys);
        }
    }
    match explore {
        None | Some(Value::Null) | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => flow = flow.explore(),
        Some(_) => return Err(ApiError::input("explore", "must be true or false")),
    }
    Ok(flow)
}

fn object<'a>(
    v: &'a Value,
    field: &str,
    expected: &str,
) -> Result<&'a Map<String, Value>, ApiError> {
    v.as_object()
        .ok_or_else(|| ApiError::input(field, format!("expected {expected}")))
}

fn string<'a>(
    obj: &'a Map<String, Value>,
    member: &str,
    field: &str,
) -> Result<Option<&'a str>, ApiError> {
    match obj.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::input(field, "must be a string")),
    }
}

fn status(obj: &Map<String, Value>, field: &str, min: u16) -> Result<Option<u16>, ApiError> {
    match obj.get("status") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (min..=999).contains(s))
            .map(Some)
            .ok_or_else(|| ApiError::input(field, format!("must be an HTTP status ({min}–999)"))),
    }
}

/// What the key endpoint answered, as `aadauth_login_provide_keys` takes it.
fn parse_keys_answer(v: &Value) -> Result<Result<KeySet, KeyFetchError>, ApiError> {
    let expected = "{\"keys\": <JWKS>} or {\"error\": {...}}";
    let obj = object(v, "answer", expected)?;
    match (obj.get("keys"), obj.get("error")) {
        (Some(keys), None) => Ok(match keys {
            // As in `evaluate`: no key set is an empty one.
            Value::Null => Ok(KeySet::default()),
            // The response body as received: go-oidc's exact decode errors.
            Value::String(text) => {
                KeySet::from_jwks_str(text).map_err(|e| KeyFetchError::decode(&e, text))
            }
            doc => KeySet::from_jwks(doc).map_err(|e| KeyFetchError::decode(&e, &doc.to_string())),
        }),
        (None, Some(err)) => {
            let err = object(err, "error", "an object")?;
            if let Some(detail) = string(err, "transport", "error.transport")? {
                let url = string(err, "url", "error.url")?.ok_or_else(|| {
                    ApiError::input(
                        "error.url",
                        "required with error.transport: the key set URL",
                    )
                })?;
                return Ok(Err(KeyFetchError::transport(url, detail)));
            }
            let code = status(err, "error.status", 100)?.ok_or_else(|| {
                ApiError::input(
                    "error.status",
                    "required: the HTTP status (or give error.transport and error.url)",
                )
            })?;
            let text = string(err, "status_text", "error.status_text")?
                .map(str::to_string)
                .unwrap_or_else(|| reason_phrase(code).to_string());
            let body = match err.get("body") {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            Ok(Err(KeyFetchError::http(code, &text, &body)))
        }
        _ => Err(ApiError::input(
            "answer",
            format!("expected exactly one of \"keys\" and \"error\": {expected}"),
        )),
    }
}

/// What ARM answered for one read, as `aadauth_login_provide_arm` takes it.
fn parse_arm_answer(v: &Value) -> Result<(String, ArmAnswer), ApiError> {
    let obj = object(
        v,
        "answer",
        "{\"path\": ..., \"status\": N, \"body\": ...} or {\"path\": ..., \"transport\": ...}",
    )?;
    let path = string(obj, "path", "path")?
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::input("path", "required: the path of the request answered"))?
        .to_string();
    if let Some(detail) = string(obj, "transport", "transport")? {
        return Ok((
            path,
            ArmAnswer::Failed {
                status: 0,
                code: String::new(),
                message: detail.to_string(),
            },
        ));
    }
    let code = status(obj, "status", 100)?.ok_or_else(|| {
        ApiError::input(
            "status",
            "required: the HTTP status ARM answered (or give \"transport\")",
        )
    })?;
    let body = obj.get("body").cloned().unwrap_or(Value::Null);
    let answer = match code {
        200 => {
            let body = match body {
                // The response body as received.
                Value::String(text) => serde_json::from_str(&text).map_err(|e| {
                    ApiError::input("body", format!("a 200 body must be JSON: {e}"))
                })?,
                Value::Object(_) => body,
                _ => {
                    return Err(ApiError::input(
                        "body",
                        "required with status 200: the resource (a JSON object)",
                    ))
                }
            };
            ArmAnswer::Found { body }
        }
        404 => ArmAnswer::NotFound,
        _ => {
            // ARM's error body `{"error": {"code", "message"}}`, parsed or as text.
            let body = match body {
                Value::String(text) => serde_json::from_str(&text)
                    .unwrap_or_else(|_| json!({"error": {"message": text}})),
                other => other,
            };
            let error = body
                .get("error")
                .filter(|e| e.is_object())
                .cloned()
                .unwrap_or_else(|| json!({}));
            ArmAnswer::from_snapshot(&json!({"status": code, "error": error}))
        }
    };
    Ok((path, answer))
}

/// Go's `http.StatusText`, for key endpoint errors given without `status_text`.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_answers() {
        let keys = |s: &str| parse_keys_answer(&serde_json::from_str(s).unwrap());
        assert_eq!(
            keys(r#"{"error": {"status": 503, "body": "busy"}}"#)
                .unwrap()
                .unwrap_err(),
            KeyFetchError::http(503, "Service Unavailable", "busy")
        );
        assert_eq!(
            keys(r#"{"error": {"transport": "dial tcp: i/o timeout", "url": "https://login.microsoftonline.com/t/discovery/keys"}}"#)
                .unwrap()
                .unwrap_err(),
            KeyFetchError::transport(
                "https://login.microsoftonline.com/t/discovery/keys",
                "dial tcp: i/o timeout"
            )
        );
        assert_eq!(
            keys(r#"{"keys": "<html>"}"#).unwrap().unwrap_err().0,
            KeyFetchError::decode(&KeySet::from_jwks_str("<html>").unwrap_err(), "<html>").0
        );
        assert!(keys(r#"{"keys": {"keys": []}}"#).unwrap().is_ok());
        assert_eq!(keys(r#"{}"#).unwrap_err().field.as_deref(), Some("answer"));
        assert_eq!(
            keys(r#"{"error": {"status": "503"}}"#)
                .unwrap_err()
                .field
                .as_deref(),
            Some("error.status")
        );
        assert_eq!(
            keys(r#"{"error": {"transport": "x"}}"#)
                .unwrap_err()
                .field
                .as_deref(),
            Some("error.url")
        );
    }

    #[test]
    fn arm_answers() {
        let arm = |s: &str| parse_arm_answer(&serde_json::from_str(s).unwrap());
        assert_eq!(
            arm(r#"{"path": "/p", "status": 200, "body": {"location": "eastus"}}"#).unwrap(),
            (
                "/p".into(),
                ArmAnswer::Found {
                    body: json!({"location": "eastus"})
                }
            )
        );
        assert_eq!(
            arm(r#"{"path": "/p", "status": 200, "body": "{\"location\": \"eastus\"}"}"#)
                .unwrap()
                .1,
            ArmAnswer::Found {
                body: json!({"location": "eastus"})
            }
        );
        assert_eq!(
            arm(r#"{"path": "/p", "status": 404}"#).unwrap().1,
            ArmAnswer::NotFound
        );
        assert_eq!(
            arm(r#"{"path": "/p", "status": 403, "body": {"error": {"code": "AuthorizationFailed", "message": "no"}}}"#)
                .unwrap()
                .1,
            ArmAnswer::Failed { status: 403, code: "AuthorizationFailed".into(), message: "no".into() }
        );
        assert_eq!(
            arm(r#"{"path": "/p", "status": 502, "body": "<html>bad gateway</html>"}"#)
                .unwrap()
                .1,
            ArmAnswer::Failed {
                status: 502,
                code: "InternalServerError".into(),
                message: "<html>bad gateway</html>".into()
            }
        );
        assert_eq!(
            arm(r#"{"path": "/p", "transport": "dial tcp: timeout"}"#)
                .unwrap()
                .1,
            ArmAnswer::Failed {
                status: 0,
                code: String::new(),
                message: "dial tcp: timeout".into()
            }
        );
        assert_eq!(
            arm(r#"{"status": 200}"#).unwrap_err().field.as_deref(),
            Some("path")
        );
        assert_eq!(
            arm(r#"{"path": "/p"}"#).unwrap_err().field.as_deref(),
            Some("status")
        );
        assert_eq!(
            arm(r#"{"path": "/p", "status": 200}"#)
                .unwrap_err()
                .field
                .as_deref(),
            Some("body")
        );
        assert_eq!(
            arm(r#"{"path": "/p", "status": 1000}"#)
                .unwrap_err()
                .field
                .as_deref(),
            Some("status")
        );
    }

    #[test]
    fn start_refuses_keys_and_arm() {
        let e = parse_start(br#"{"now": 1, "keys": {"keys": []}}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::Input, Some("keys"))
        );
        let e = parse_start(br#"{"now": 1, "arm": {}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("arm"));
        let e = parse_start(br#"{"now": 1, "explore": 1}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("explore"));
        let e = parse_start(br#"{"now": 1, "cached_keys": [1]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("cached_keys"));
        let e = parse_start(br#"{"login": {}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("now"));
        assert!(parse_start(br#"{"now": 1, "keys": null, "explore": true}"#).is_ok());
    }
}
