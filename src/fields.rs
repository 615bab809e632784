//! How Vault's request framework reads fields: comma-string lists, durations, integers,
//! booleans, and the `vault read -format=json` wrapper.
//!
//! Users paste what they have: a write body, or the JSON that `vault read -format=json`
//! printed (fields under `"data"`). Both are accepted (`spec/vault-azure-login.md` §2).

use crate::json::{Json, JsonObject, View};

/// A field that could not be read, named so the caller can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The error with its field put under `parent` (`ttl` in `role` → `role.ttl`). Readers
    /// name a member by its own key and the caller adds the parent on the error path only,
    /// so that reading a valid document formats no field names.
    pub fn under(mut self, parent: &str) -> Self {
        self.field = format!("{parent}.{}", self.field);
        self
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Returns the object holding the fields: the `data` member of `vault read -format=json`
/// output (recognised by `data` being an object next to Vault's response members, or being
/// the only member), else the object itself.
pub fn unwrap_vault_read<J: Json>(v: &J) -> Option<&J::Object> {
    let obj = v.as_object()?;
    if let Some(data) = obj.get("data").and_then(Json::as_object) {
        let wrapper_keys = [
            "request_id",
            "lease_id",
            "lease_duration",
            "renewable",
            "warnings",
            "mount_type",
            "wrap_info",
            "auth",
        ];
        if obj.len() == 1 || obj.keys().any(|k| wrapper_keys.contains(&k)) {
            return Some(data);
        }
    }
    Some(obj)
}

/// Vault's `TypeCommaStringSlice`: a JSON array (items turned into strings) or a
/// comma-separated string; items trimmed, empty items dropped. `null` is an empty list.
pub fn string_list<J: Json>(field: &str, v: &J) -> Result<Vec<String>, FieldError> {
    // Items are trimmed and empty ones dropped; each kept item is copied once, trimmed.
    fn keep(out: &mut Vec<String>, item: &str) {
        let item = item.trim();
        if !item.is_empty() {
            out.push(item.to_string());
        }
    }
    let mut out = Vec::new();
    match v.view() {
        View::Null => {}
        View::String(s) => s.split(',').for_each(|item| keep(&mut out, item)),
        View::Array(items) => {
            out.reserve(items.len());
            for item in items {
                match item.view() {
                    View::String(s) => keep(&mut out, s),
                    View::Number(n) => keep(&mut out, &n.to_string()),
                    View::Bool(b) => keep(&mut out, if b { "true" } else { "false" }),
                    View::Null => {}
                    _ => {
                        return Err(FieldError::new(
                            field,
                            "expected a list of strings or a comma-separated string",
                        ))
                    }
                }
            }
        }
        View::Number(n) => keep(&mut out, &n.to_string()),
        _ => {
            return Err(FieldError::new(
                field,
                "expected a list of strings or a comma-separated string",
            ))
        }
    }
    Ok(out)
}

/// Vault's `TypeString`: strings as they are, numbers and booleans as text, `null` empty.
pub fn string<J: Json>(field: &str, v: &J) -> Result<String, FieldError> {
    match v.view() {
        View::Null => Ok(String::new()),
        View::String(s) => Ok(s.to_string()),
        View::Number(n) => Ok(n.to_string()),
        View::Bool(b) => Ok(b.to_string()),
        _ => Err(FieldError::new(field, "expected a string")),
    }
}

/// Vault's `TypeDurationSecond`: integer seconds, or a string of seconds (`"90"`) or of a Go
/// duration (`"30m"`, `"1h30m"`, `"1.5h"`), also with `d` for days. Fractions of a second
/// are truncated, as Vault does.
pub fn duration<J: Json>(field: &str, v: &J) -> Result<i64, FieldError> {
    let bad = || {
        FieldError::new(
            field,
            format!(
                "cannot parse {} as a duration (use seconds or a value such as \"30m\", \"1h30m\")",
                v.to_value()
            ),
        )
    };
    match v.view() {
        View::Null => Ok(0),
        View::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i)
            } else if let Some(f) = n.as_f64() {
                if f.is_finite() && f.abs() < 9.2e18 {
                    Ok(f.trunc() as i64)
                } else {
                    Err(bad())
                }
            } else {
                Err(bad())
            }
        }
        View::String(s) => parse_duration_str(s.trim()).ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// Parses `"90"`, `"-5"`, `"1h30m"`, `"1.5h"`, `"2d"` into whole seconds.
pub fn parse_duration_str(s: &str) -> Option<i64> {
    if s.is_empty() {
        return Some(0);
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(i);
    }
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    let mut total_ns: i128 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num = &rest[..num_end];
        if num.is_empty() || num == "." {
            return None;
        }
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            _ => return None,
        };
        // Whole numbers whose product is exact in an f64 (every realistic TTL) skip the
        // float parse, which is slow in WebAssembly; the result is the same.
        const EXACT: i128 = 1 << 53;
        let whole = num.parse::<u64>().ok().map(i128::from);
        let ns = match whole {
            Some(v) if v < EXACT && v * scale < EXACT => v * scale,
            _ => {
                let value: f64 = num.parse().ok()?;
                if !value.is_finite() {
                    return None;
                }
                let ns = value * scale as f64;
                if ns > 9.2e27 {
                    return None;
                }
                ns as i128
            }
        };
        total_ns = total_ns.checked_add(ns)?;
    }
    let secs = total_ns / 1_000_000_000;
    let secs = i64::try_from(secs).ok()?;
    Some(if neg { -secs } else { secs })
}

/// Vault's `TypeInt`.
pub fn int<J: Json>(field: &str, v: &J) -> Result<i64, FieldError> {
    match v.view() {
        View::Null => Ok(0),
        View::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| FieldError::new(field, "expected an integer")),
        View::String(s) if s.trim().is_empty() => Ok(0),
        View::String(s) => s
            .trim()
            .parse()
            .map_err(|_| FieldError::new(field, format!("cannot parse {} as an integer", s))),
        _ => Err(FieldError::new(field, "expected an integer")),
    }
}

/// Vault's `TypeBool`: JSON booleans, and the strings Go's `strconv.ParseBool` accepts.
pub fn boolean<J: Json>(field: &str, v: &J) -> Result<bool, FieldError> {
    match v.view() {
        View::Null => Ok(false),
        View::Bool(b) => Ok(b),
        View::Number(n) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
        View::String(s) => match s.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" | "" => Ok(false),
            _ => Err(FieldError::new(
                field,
                format!("cannot parse {} as a boolean", s),
            )),
        },
        _ => Err(FieldError::new(field, "expected a boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_accept_arrays_and_comma_strings() {
        assert_eq!(
            string_list("f", &json!(" a, b ,,c")).unwrap(),
            vec!["a", "b", "c"]
        );
        assert_eq!(string_list("f", &json!(["a ", 1])).unwrap(), vec!["a", "1"]);
        assert!(string_list("f", &json!({})).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_str("90"), Some(90));
        assert_eq!(parse_duration_str("30m"), Some(1800));
        assert_eq!(parse_duration_str("1h30m"), Some(5400));
        assert_eq!(parse_duration_str("1.5h"), Some(5400));
        assert_eq!(parse_duration_str("-5m"), Some(-300));
        assert_eq!(parse_duration_str("2d"), Some(172_800));
        assert_eq!(parse_duration_str("h"), None);
        assert_eq!(parse_duration_str("5x"), None);
        assert_eq!(parse_duration_str("99999999999999999999h"), None);
    }

    #[test]
    fn whole_durations_equal_the_float_computation() {
        // The integer fast path must give what value × scale in f64 gives, on both sides of
        // the 2^53 boundary where it hands over.
        let units = [
            ("ns", 1f64),
            ("ms", 1e6),
            ("s", 1e9),
            ("m", 6e10),
            ("h", 3.6e12),
            ("d", 8.64e13),
        ];
        let values = [
            0u64,
            1,
            59,
            3600,
            1 << 20,
            (1 << 53) - 1,
            1 << 53,
            (1 << 53) + 1,
            1 << 40,
            123_456_789_012,
        ];
        for (unit, scale) in units {
            for v in values {
                let float = v as f64 * scale;
                let want = (float <= 9.2e27).then_some(((float as i128) / 1_000_000_000) as i64);
                assert_eq!(parse_duration_str(&format!("{v}{unit}")), want, "{v}{unit}");
            }
        }
    }

    #[test]
    fn vault_read_wrapper_is_unwrapped() {
        let v = json!({"request_id": "x", "data": {"a": 1}});
        assert_eq!(
            unwrap_vault_read(&v).and_then(|m| m.get("a")),
            Some(&json!(1))
        );
        let plain = json!({"data": "not an object", "a": 2});
        assert_eq!(
            unwrap_vault_read(&plain).and_then(|m| m.get("a")),
            Some(&json!(2))
        );
    }
}
