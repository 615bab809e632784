//! Pure request helpers: where the token is, what a refusal looks like.

use crate::config::FromHeader;

/// Why a request is refused; decides the status, the counter and the response headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyKind {
    /// 401 without `error=` (no token in any `from_headers`).
    MissingToken,
    /// 401 with `error="invalid_token"`.
    InvalidToken,
    /// 403: the token is valid but no binding of the role admits it.
    Forbidden,
    /// 503: no key could be obtained to verify the token.
    NoKeys,
    /// 500: the configuration cannot decide (a role the gateway cannot use).
    Config,
}

impl DenyKind {
    pub fn status(self) -> u32 {
        match self {
            DenyKind::MissingToken | DenyKind::InvalidToken => 401,
            DenyKind::Forbidden => 403,
            DenyKind::NoKeys => 503,
            DenyKind::Config => 500,
        }
    }

    /// The per-reason counter (after `aadauth.`).
    pub fn metric(self) -> &'static str {
        match self {
            DenyKind::MissingToken => "denied_missing_token",
            DenyKind::InvalidToken => "denied_invalid_token",
            DenyKind::Forbidden => "denied_forbidden",
            DenyKind::NoKeys => "denied_no_keys",
            DenyKind::Config => "denied_config",
        }
    }

    fn status_text(self) -> &'static str {
        match self {
            DenyKind::MissingToken | DenyKind::InvalidToken => "Unauthorized",
            DenyKind::Forbidden => "Forbidden",
            DenyKind::NoKeys => "Service Unavailable",
            DenyKind::Config => "Internal Server Error",
        }
    }
}

/// A refusal: the kind, the check that failed (as in aadauth's `evaluate` output) and
/// the gateway's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub kind: DenyKind,
    pub check: String,
    pub message: String,
}

impl Denied {
    pub fn new(kind: DenyKind, check: impl Into<String>, message: impl Into<String>) -> Denied {
        Denied {
            kind,
            check: check.into(),
            message: message.into(),
        }
    }
}

/// The local response for a refusal: status, headers, body.
pub fn deny_response(
    d: &Denied,
    realm: &str,
    include_detail: bool,
) -> (u32, Vec<(String, String)>, Vec<u8>) {
    let mut headers = vec![(
        "content-type".to_string(),
        "text/plain; charset=utf-8".to_string(),
    )];
    match d.kind {
        DenyKind::MissingToken => headers.push((
            "www-authenticate".into(),
            format!("Bearer realm=\"{realm}\""),
        )),
        DenyKind::InvalidToken => headers.push((
            "www-authenticate".into(),
            format!("Bearer realm=\"{realm}\", error=\"invalid_token\""),
        )),
        DenyKind::NoKeys => headers.push(("retry-after".into(), "5".into())),
        DenyKind::Forbidden | DenyKind::Config => {}
    }
    let body = if include_detail {
        format!("{}: {}\n", d.check, d.message)
    } else {
        format!("{}\n", d.kind.status_text())
    };
    (d.kind.status(), headers, body.into_bytes())
}

/// The token of a request: the first `from_headers` entry whose header is present and
/// starts with its `value_prefix` (compared case-insensitively, as auth schemes are).
/// Returns the header name and the token.
pub fn extract_token(
    from_headers: &[FromHeader],
    mut get: impl FnMut(&str) -> Option<String>,
) -> Option<(String, String)> {
    for h in from_headers {
        let Some(value) = get(&h.name) else {
            continue;
        };
        let p = h.value_prefix.as_bytes();
        let v = value.as_bytes();
        if v.len() < p.len() || !v[..p.len()].eq_ignore_ascii_case(p) {
            continue;
        }
        let rest = value.get(p.len()..).unwrap_or("").trim();
        // A token ends at whitespace or a comma (several credentials in one header).
        let token = if rest.is_ascii() {
            // The usual case, byte by byte: `char::is_whitespace` on each of a token's
            // 1–3 thousand characters costs more than the rest of a cached request. Eight
            // bytes at a time first, to the first word that may hold a delimiter.
            let b = rest.as_bytes();
            let start = 8 * b.chunks_exact(8).take_while(|w| !may_delimit(w)).count();
            let end = b[start..]
                .iter()
                .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b','))
                .map_or(b.len(), |i| start + i);
            &rest[..end]
        } else {
            rest.split(|c: char| c.is_whitespace() || c == ',')
                .next()
                .unwrap_or("")
        };
        if !token.is_empty() {
            return Some((h.name.clone(), token.to_string()));
        }
    }
    None
}

/// Whether eight ASCII bytes may hold a token delimiter: a byte at or below the space (every
/// ASCII whitespace is) or a comma. No false negatives (the byte-wise scan decides): the
/// classic "has a byte less than n" and "has a zero byte" word tests, exact for bytes
/// below 0x80.
fn may_delimit(w: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut a = [0u8; 8];
    a.copy_from_slice(w);
    let x = u64::from_le_bytes(a);
    let below_33 = x.wrapping_sub(ONES * 0x21) & !x & HIGH;
    let c = x ^ (ONES * u64::from(b','));
    let comma = c.wrapping_sub(ONES) & !c & HIGH;
    below_33 | comma != 0
}

/// `scheme://authority/path` (without the query), safe inside a quoted header parameter.
pub fn realm(scheme: &str, authority: &str, path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let scheme = if scheme.is_empty() { "http" } else { scheme };
    let raw = format!("{scheme}://{authority}{path}");
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Header values the filter may set: no control characters (no header injection).
pub fn header_value_ok(v: &str) -> bool {
    !v.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fh(name: &str, prefix: &str) -> FromHeader {
        FromHeader {
            name: name.into(),
            value_prefix: prefix.into(),
        }
    }

    #[test]
    fn tokens_from_headers() {
        let hs = [fh("authorization", "Bearer "), fh("x-token", "")];
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            extract_token(&hs, get(&[("authorization", "bearer abc.def.ghi")])),
            Some(("authorization".into(), "abc.def.ghi".into()))
        );
        assert_eq!(
            extract_token(
                &hs,
                get(&[("authorization", "Basic xyz"), ("x-token", "t1")])
            ),
            Some(("x-token".into(), "t1".into()))
        );
        assert_eq!(
            extract_token(&hs, get(&[("authorization", "Bearer ")])),
            None
        );
        assert_eq!(extract_token(&hs, get(&[])), None);
    }

    #[test]
    fn token_ends_where_char_whitespace_or_a_comma_ends_it() {
        // The byte-wise split of ASCII values must agree with the char-wise one (Rust's
        // `char::is_whitespace`) for every ASCII byte, and non-ASCII values keep the latter.
        let reference = |value: &str| -> Option<String> {
            let rest = value.get(7..)?.trim();
            let t = rest
                .split(|c: char| c.is_whitespace() || c == ',')
                .next()
                .unwrap_or("");
            (!t.is_empty()).then(|| t.to_string())
        };
        let hs = [fh("authorization", "Bearer ")];
        let mut values: Vec<String> = (0u8..128)
            .flat_map(|b| {
                let c = char::from(b);
                [
                    format!("Bearer abc{c}def"),
                    format!("Bearer {c}abc"),
                    format!("Bearer abc{c}"),
                ]
            })
            .collect();
        for odd in ["\u{a0}", "\u{2003}", "\u{2028}", "\u{3000}", "é", "\u{85}"] {
            values.push(format!("Bearer abc{odd}def"));
            values.push(format!("Bearer {odd}abc,x"));
        }
        for v in &values {
            let got = extract_token(&hs, |_| Some(v.clone())).map(|(_, t)| t);
            assert_eq!(got, reference(v), "{v:?}");
        }
    }

    #[test]
    fn word_test_finds_every_delimiter_byte_at_every_position() {
        for pos in 0..8 {
            for b in 0u8..128 {
                let mut w = *b"abcdefgh";
                w[pos] = b;
                let delimiter = b <= b' ' || b == b',';
                assert_eq!(
                    may_delimit(&w),
                    delimiter || may_delimit(b"abcdefgh"),
                    "{b:#x} at {pos}"
                );
                // Not missed after an earlier delimiter-free prefix of the value either.
                let v = format!("Bearer {}{}x", "A".repeat(8 + pos), char::from(b));
                let hs = [fh("authorization", "Bearer ")];
                let got = extract_token(&hs, |_| Some(v.clone())).map(|(_, t)| t);
                let want = if matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | b',') {
                    "A".repeat(8 + pos)
                } else {
                    v["Bearer ".len()..].trim().to_string()
                };
                assert_eq!(
                    got.as_deref(),
                    Some(want.as_str()).filter(|t| !t.is_empty()),
                    "{b:#x} at {pos}"
                );
            }
        }
    }

    #[test]
    fn responses() {
        let d = Denied::new(DenyKind::InvalidToken, "token.expiry", "token expired");
        let (status, headers, body) = deny_response(&d, "https://a/b", true);
        assert_eq!(status, 401);
        assert!(headers.contains(&(
            "www-authenticate".into(),
            "Bearer realm=\"https://a/b\", error=\"invalid_token\"".into()
        )));
        assert_eq!(body, b"token.expiry: token expired\n");
        let (_, _, body) = deny_response(&d, "r", false);
        assert_eq!(body, b"Unauthorized\n");
        let m = Denied::new(DenyKind::MissingToken, "request.jwt", "token is missing");
        let (_, headers, _) = deny_response(&m, "r", true);
        assert!(headers.contains(&("www-authenticate".into(), "Bearer realm=\"r\"".into())));
        assert_eq!(realm("", "h", "/p?q=\"x\""), "http://h/p");
        assert_eq!(realm("https", "h\"", "/p"), "https://h%22/p");
        assert!(!header_value_ok("a\r\nb"));
        assert!(header_value_ok("a,b c"));
    }
}
