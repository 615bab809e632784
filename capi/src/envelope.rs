//! The result envelope: every string the library returns is one JSON object with exactly
//! one member, `ok`, `need`, `done` or `error`.
//!
//! ```json
//! {"ok": <output>}
//! {"error": {"code": "input", "field": "now", "message": "required: the evaluation time in Unix seconds"}}
//! ```

use std::any::Any;

use serde::Serialize;
use serde_json::json;

/// What kind of failure an error envelope reports (its `code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The document is not JSON, or a member is missing or has the wrong type or value;
    /// also a token that cannot be decoded. `field` names the member.
    Input,
    /// A pointer argument is NULL. `field` names the argument.
    NullPointer,
    /// A string argument is not valid UTF-8. `field` names the argument.
    InvalidUtf8,
    /// A string argument is longer than `AADAUTH_MAX_INPUT_BYTES`. `field` names the argument.
    TooLarge,
    /// aadauth panicked (a bug): the call had no effect, except that a login handle that
    /// panicked keeps answering this error.
    Panic,
    /// A result could not be serialised (a bug; not expected to happen).
    Internal,
}

impl ErrorCode {
    /// The `code` member.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Input => "input",
            ErrorCode::NullPointer => "null_pointer",
            ErrorCode::InvalidUtf8 => "invalid_utf8",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Panic => "panic",
            ErrorCode::Internal => "internal",
        }
    }
}

/// An error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// The offending argument (`input`, `jwt`, `answer`, `login`) or dotted document member
    /// (`now`, `role.token_ttl`, `cached_keys`, `error.status`); `None` for panics.
    pub field: Option<String>,
    /// What is wrong, without the field name in front.
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, field: Option<&str>, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    pub fn input(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Input, Some(field), message)
    }

    pub fn null_pointer(field: &str) -> ApiError {
        ApiError::new(
            ErrorCode::NullPointer,
            Some(field),
            format!("{field} is NULL"),
        )
    }

    pub fn too_large(field: &str, limit: usize) -> ApiError {
        ApiError::new(
            ErrorCode::TooLarge,
            Some(field),
            format!("{field} is over the {limit} byte limit"),
        )
    }

    /// From a `catch_unwind` payload.
    pub fn panic(payload: &(dyn Any + Send)) -> ApiError {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        ApiError::new(
            ErrorCode::Panic,
            None,
            format!("internal error (aadauth panicked; please report it): {what}"),
        )
    }

    /// The envelope text.
    pub fn to_json(&self) -> String {
        json!({
            "error": {
                "code": self.code.as_str(),
                "field": self.field,
                "message": self.message,
            }
        })
        .to_string()
    }
}

impl From<aadauth_core::InputError> for ApiError {
    fn from(e: aadauth_core::InputError) -> Self {
        ApiError::input(&e.field, e.message)
    }
}

/// `{"<member>": <value>}` as compact JSON: the value's text is exactly
/// `serde_json::to_string(value)`.
pub fn envelope<T: Serialize + ?Sized>(member: &str, value: &T) -> Result<String, ApiError> {
    let inner = serde_json::to_string(value)
        .map_err(|e| ApiError::new(ErrorCode::Internal, None, format!("serialising: {e}")))?;
    Ok(format!("{{\"{member}\":{inner}}}"))
}

/// `{"ok":null}`.
pub(crate) const OK_NULL: &str = r#"{"ok":null}"#;

/// Checks that an argument is UTF-8 text.
pub fn utf8<'a>(bytes: &'a [u8], field: &str) -> Result<&'a str, ApiError> {
    std::str::from_utf8(bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidUtf8,
            Some(field),
            format!("{field} is not valid UTF-8: {e}"),
        )
    })
}

/// Parses a JSON argument (the caller has checked the size).
pub fn parse_json(bytes: &[u8], field: &str) -> Result<serde_json::Value, ApiError> {
    let text = utf8(bytes, field)?;
    serde_json::from_str(text).map_err(|e| ApiError::input(field, format!("not valid JSON: {e}")))
}
