//! What Go would print.
//!
//! Vault is written in Go, and users paste its error messages into search engines, so the
//! `vault` profile reproduces Go's formatting byte for byte where a message embeds a value:
//! `%q` of a string, `%q` / `%v` of a string list, `%v` of a `time.Time` in UTC, and the
//! errors of `encoding/base64` (`RawURLEncoding`, which go-oidc and go-jose use).
//! See `spec/vault-azure-login.md` §3.2 ("Times in messages use Go's default format").

/// Go's `strconv.Quote` (what `%q` prints for a string).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    if quotes_as_is(s) {
        out.push('"');
        out.push_str(s);
        out.push('"');
        return out;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Whether `%q` of `s` is `s` between quotes: printable ASCII without `"` or `\` (names,
/// GUIDs, paths: nearly every value a message quotes).
fn quotes_as_is(s: &str) -> bool {
    s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

/// [`quote`] written straight into a message (`format!("role {}", Quoted(name))`), without
/// a string of its own.
pub struct Quoted<'a>(pub &'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if quotes_as_is(self.0) {
            f.write_str("\"")?;
            f.write_str(self.0)?;
            f.write_str("\"")
        } else {
            f.write_str(&quote(self.0))
        }
    }
}

/// Approximates Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space.
fn is_go_printable(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter
            | GeneralCategoryGroup::Mark
            | GeneralCategoryGroup::Number
            | GeneralCategoryGroup::Punctuation
            | GeneralCategoryGroup::Symbol
    )
}

/// `%q` of a `[]string`: `["a" "b"]`.
pub fn quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[{}]", quoted.join(" "))
}

/// `%v` of a `[]string`: `[a b]` (`[]` when empty or nil).
pub fn plain_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// The zero `time.Time` (0001-01-01 00:00:00 UTC) as Unix seconds: what go-oidc's expiry
/// is when a token has no `exp`.
pub const GO_ZERO_TIME: i64 = -62_135_596_800;

/// `%v` of a `time.Time` in UTC with whole seconds: `2024-05-01 12:00:00 +0000 UTC`.
pub fn time_utc(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    let year = if y < 0 {
        format!("-{:04}", -y)
    } else {
        format!("{y:04}")
    };
    format!("{year}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02} +0000 UTC")
}

/// ISO 8601 / RFC 3339 in UTC, for humans and machines outside the Vault messages.
pub fn rfc3339(unix: i64) -> String {
    let (y, mo, d, h, mi, s) = civil(unix);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2024-05-01 12:00:00`, for check details (followed by "UTC" there).
pub fn human_utc(unix: i64) -> String {
    HumanUtc(unix).to_string()
}

/// [`human_utc`] as a `Display` value, written straight into the detail that quotes it.
pub struct HumanUtc(pub i64);

impl std::fmt::Display for HumanUtc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, mo, d, h, mi, s) = civil(self.0);
        write!(f, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }
}

/// Splits Unix seconds into a proleptic Gregorian date and time (Howard Hinnant's
/// `civil_from_days`), in i128 so that no `i64` input can overflow.
fn civil(unix: i64) -> (i128, u32, u32, u32, u32, u32) {
    let t = unix as i128;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        ((secs % 3600) / 60) as u32,
        (secs % 60) as u32,
    )
}

/// A short human form of a span of seconds: `23h 10m`, `5m 3s`, `2d 4h`.
pub fn human_span(seconds: i64) -> String {
    HumanSpan(seconds).to_string()
}

/// [`human_span`] as a `Display` value.
struct HumanSpan(i64);

impl std::fmt::Display for HumanSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.unsigned_abs();
        let (d, h, m, sec) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60);
        if d > 0 {
            write!(f, "{d}d {h}h")
        } else if h > 0 {
            write!(f, "{h}h {m}m")
        } else if m > 0 {
            write!(f, "{m}m {sec}s")
        } else {
            write!(f, "{sec}s")
        }
    }
}

/// `at` relative to `now` in words: `in 23h 10m`, `5m 3s ago`, `now`.
pub fn relative(at: i64, now: i64) -> String {
    Relative(at, now).to_string()
}

/// [`relative`] as a `Display` value: `Relative(at, now)`.
pub struct Relative(pub i64, pub i64);

impl std::fmt::Display for Relative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let diff =
            (self.0 as i128 - self.1 as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        match diff {
            0 => f.write_str("now"),
            d if d > 0 => write!(f, "in {}", HumanSpan(d)),
            d => write!(f, "{} ago", HumanSpan(d)),
        }
    }
}

/// Whether `src` is the canonical unpadded base64url spelling of the bytes it decodes to
/// (what `RawURLEncoding.EncodeToString` would write back): only alphabet characters (Go's
/// decoder skips `\r` and `\n`; a canonical spelling has none), no impossible length, and
/// zero unused bits in the last character. Checked in place, without decoding or
/// re-encoding.
pub fn base64url_is_canonical(src: &str) -> bool {
    let b = src.as_bytes();
    if !all_base64url(b) {
        return false;
    }
    let last = b.last().map(|c| DECODE[usize::from(*c)]).unwrap_or(0);
    match b.len() % 4 {
        0 => true,
        1 => false,
        2 => last & 0x0f == 0,
        _ => last & 0x03 == 0,
    }
}

/// Go's `base64.RawURLEncoding.DecodeString`: the URL alphabet, no padding, `\r` and `\n`
/// skipped, non-zero trailing bits accepted. The error is Go's `CorruptInputError` text.
pub fn base64url_decode(src: &str) -> Result<Vec<u8>, String> {
    let src = src.as_bytes();
    let mut out = Vec::with_capacity(src.len() * 3 / 4);
    let mut si = 0usize;
    // Fast path: whole quanta of valid characters, eight characters (six bytes) a step,
    // then four. Anything else (a newline, a bad byte, the tail) goes through Go's
    // quantum-by-quantum algorithm from the same place, so error offsets are unchanged.
    for q in src.chunks_exact(8) {
        let mut v: u64 = 0;
        let mut bad = 0u8;
        for &c in q {
            let d = DECODE[usize::from(c)];
            bad |= d;
            v = (v << 6) | u64::from(d & 0x3f);
        }
        if bad & 0x80 != 0 {
            break;
        }
        out.extend_from_slice(&v.to_be_bytes()[2..]);
        si += 8;
    }
    while let Some(q) = src.get(si..si + 4) {
        let (a, b, c, d) = (
            DECODE[usize::from(q[0])],
            DECODE[usize::from(q[1])],
            DECODE[usize::from(q[2])],
            DECODE[usize::from(q[3])],
        );
        if (a | b | c | d) & 0x80 != 0 {
            break;
        }
        let v = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(c) << 6) | u32::from(d);
        out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
        si += 4;
    }
    go_quanta(src, si, out)
}

/// [`base64url_decode`] without its fast path: Go's algorithm from the start. The property
/// tests hold the fast path to it.
#[doc(hidden)]
pub fn base64url_decode_reference(src: &str) -> Result<Vec<u8>, String> {
    go_quanta(src.as_bytes(), 0, Vec::new())
}

/// Go's `decodeQuantum` loop over `src[si..]`, appending to `out`.
fn go_quanta(src: &[u8], mut si: usize, mut out: Vec<u8>) -> Result<Vec<u8>, String> {
    fn val(b: u8) -> Option<u8> {
        match DECODE[usize::from(b)] {
            INVALID => None,
            v => Some(v),
        }
    }
    loop {
        let mut buf = [0u8; 4];
        let mut dlen = 4;
        let mut j = 0usize;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                if j == 1 {
                    return Err(corrupt(si - j));
                }
                dlen = j;
                break;
            }
            let c = src[si];
            si += 1;
            if let Some(v) = val(c) {
                buf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            return Err(corrupt(si - 1));
        }
        let v = (u32::from(buf[0]) << 18)
            | (u32::from(buf[1]) << 12)
            | (u32::from(buf[2]) << 6)
            | u32::from(buf[3]);
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if dlen < 4 {
            return Ok(out);
        }
    }
}

const INVALID: u8 = 0xff;

/// Whether every byte is in the base64url alphabet. Without a table and without a branch
/// per byte, so that the compiler checks sixteen bytes a step: every login checks a
/// token's ~1.4 KB this way.
fn all_base64url(b: &[u8]) -> bool {
    fn ok(c: u8) -> bool {
        // `c | 0x20` folds A–Z onto a–z and moves no other byte into a–z.
        ((c | 0x20).wrapping_sub(b'a') < 26)
            | (c.wrapping_sub(b'0') < 10)
            | (c == b'-')
            | (c == b'_')
    }
    let mut blocks = b.chunks_exact(16);
    for block in &mut blocks {
        if !block.iter().fold(true, |all, &c| all & ok(c)) {
            return false;
        }
    }
    blocks.remainder().iter().all(|&c| ok(c))
}

/// The base64url alphabet, byte → 6-bit value (`INVALID` elsewhere).
const DECODE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'-' as usize] = 62;
    t[b'_' as usize] = 63;
    t
};

fn corrupt(at: usize) -> String {
    format!("illegal base64 data at input byte {at}")
}

/// The name Go's `encoding/json` gives a JSON value's kind in "cannot unmarshal X into".
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// Whether a JSON object key names a claim. Go's `encoding/json` matches keys to struct
/// fields case-insensitively (`"EXP"` sets `exp`); aadauth deliberately does not: claim
/// names are matched exactly, as every other JWT library does, so that no spelling of a
/// claim can mean one thing to aadauth and another to the services behind it (see
/// `SECURITY.md` and `tests/differential/`). Real Azure tokens use lower-case names.
pub fn json_key_matches(key: &str, field: &str) -> bool {
    key == field
}

/// Converts a JSON number the way go-oidc's `jsonTime` does: `json.Number.Int64()`, else
/// `Float64()` truncated toward zero. Two deliberate differences from Go (see
/// `SECURITY.md`): an out-of-range float saturates (Go on amd64 wraps it to the minimum
/// `int64`, which would make a huge `nbf` lie in the past; Go on arm64 saturates), and a
/// string holding a number is refused (Go's `json.Number` accepts `"1700000000"`, which no
/// other JWT library does).
pub fn json_time(v: &serde_json::Value) -> Result<i64, String> {
    let text = match v {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => {
            return Err(format!(
                "json: cannot unmarshal string {} into a NumericDate: aadauth accepts JSON numbers only",
                quote(s)
            ))
        }
        serde_json::Value::Null => {
            return Err("strconv.ParseFloat: parsing \"\": invalid syntax".to_string())
        }
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type json.Number",
                json_kind(other)
            ))
        }
    };
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i);
    }
    match text.parse::<f64>() {
        // `as` saturates (and JSON has no NaN).
        Ok(f) => Ok(f.trunc() as i64),
        Err(_) => Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            quote(&text)
        )),
    }
}

/// Go's `encoding/json` syntax-error text for a document that serde_json refused,
/// approximated from the offending byte (the two messages users meet in practice are
/// exact: `unexpected end of JSON input` and `invalid character 'x' looking for beginning
/// of value`).
pub fn json_syntax_error(doc: &[u8], err: &serde_json::Error) -> String {
    if err.is_eof() {
        return "unexpected end of JSON input".to_string();
    }
    let offset = byte_offset(doc, err.line(), err.column());
    let first_significant = doc
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    let ch = offset
        .and_then(|o| doc.get(o))
        .map(|&b| go_char(b))
        .unwrap_or_else(|| "?".to_string());
    if offset.is_some() && offset == first_significant {
        format!("invalid character {ch} looking for beginning of value")
    } else if err.classify() == serde_json::error::Category::Syntax
        && err.to_string().starts_with("trailing characters")
    {
        format!("invalid character {ch} after top-level value")
    } else {
        format!("invalid character {ch} in JSON ({err})")
    }
}

fn go_char(b: u8) -> String {
    match b {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        0x20..=0x7e => format!("'{}'", b as char),
        _ => format!("'\\x{b:02x}'"),
    }
}

fn byte_offset(doc: &[u8], line: usize, column: usize) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let mut current = 1usize;
    let mut start = 0usize;
    for (i, &b) in doc.iter().enumerate() {
        if current == line {
            break;
        }
        if b == b'\n' {
            current += 1;
            start = i + 1;
        }
    }
    // serde_json reports the column of the offending byte (1-based) after reading it.
    let at = start + column.saturating_sub(1);
    (at < doc.len()).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_time_format() {
        assert_eq!(time_utc(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(time_utc(1_714_564_800), "2024-05-01 12:00:00 +0000 UTC");
        assert_eq!(time_utc(GO_ZERO_TIME), "0001-01-01 00:00:00 +0000 UTC");
        // No overflow at the extremes.
        let _ = time_utc(i64::MIN);
        let _ = time_utc(i64::MAX);
    }

    #[test]
    fn go_quote() {
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote("é\n\u{1}"), "\"é\\n\\x01\"");
        assert_eq!(
            quote_list(&["a".into(), "b".into()]),
            "[\"a\" \"b\"]".to_string()
        );
        assert_eq!(plain_list(&[]), "[]");
    }

    /// The as-is shortcut (printable ASCII without `"` or `\\`) and [`Quoted`] print what
    /// the character-by-character quoting prints, for every single ASCII character and for
    /// mixed strings.
    #[test]
    fn quote_shortcut_and_quoted_agree_with_the_full_quoting() {
        let slow = |s: &str| -> String {
            let mut out = String::from("\"");
            for c in s.chars() {
                // The full path alone: a one-character string takes it unless as-is.
                let one = c.to_string();
                let q = quote(&one);
                out.push_str(&q[1..q.len() - 1]);
            }
            out.push('"');
            out
        };
        let mut cases: Vec<String> = (0u8..128).map(|b| char::from(b).to_string()).collect();
        cases.extend(
            [
                "",
                "web",
                "rg-web_01.x",
                "a\"b",
                "a\\b",
                "tab\there",
                "é",
                "x\u{7f}",
                "/subscriptions/8d2f/resourceGroups/rg",
            ]
            .map(String::from),
        );
        for s in &cases {
            assert_eq!(quote(s), slow(s), "{s:?}");
            assert_eq!(Quoted(s).to_string(), quote(s), "{s:?}");
        }
    }

    #[test]
    fn go_base64() {
        assert_eq!(base64url_decode("eyJ9").unwrap(), b"{\"}");
        assert_eq!(base64url_decode("YQ").unwrap(), b"a");
        assert_eq!(base64url_decode("Y\nQ").unwrap(), b"a");
        assert_eq!(base64url_decode("YR").unwrap(), b"a"); // lenient trailing bits
        assert_eq!(
            base64url_decode("YQ==").unwrap_err(),
            "illegal base64 data at input byte 2"
        );
        assert_eq!(
            base64url_decode("A").unwrap_err(),
            "illegal base64 data at input byte 0"
        );
        assert_eq!(
            base64url_decode("AAAAA").unwrap_err(),
            "illegal base64 data at input byte 4"
        );
        assert_eq!(
            base64url_decode("ab+c").unwrap_err(),
            "illegal base64 data at input byte 2"
        );
    }

    #[test]
    fn go_json_time() {
        use serde_json::json;
        assert_eq!(json_time(&json!(12)), Ok(12));
        assert_eq!(json_time(&json!(12.9)), Ok(12));
        assert!(json_time(&json!("12")).is_err());
        assert_eq!(json_time(&json!(1e30)), Ok(i64::MAX));
        assert_eq!(json_time(&json!(-1e30)), Ok(i64::MIN));
        assert!(json_time(&json!("x")).is_err());
        assert!(json_time(&json!(true)).is_err());
    }
}
