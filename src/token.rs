//! The JWT: splitting, decoding and reading claims the way Vault's libraries do.
//!
//! Vault verifies Azure tokens with go-oidc, which checks **claims before the signature**
//! (`spec/vault-azure-login.md` §3.2), then reads its own claims (§3.3). Each function here
//! is one of those steps and returns the exact error text Vault would print.
//!
//! aadauth is stricter than Vault in one place: go-jose strips whitespace and re-encodes
//! the header and payload before checking the signature, so Vault accepts a token with
//! stray whitespace or non-canonical base64. aadauth verifies the signature over the token
//! exactly as sent, so such a token fails the signature check (see `SECURITY.md`).

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::gocompat::{self, json_key_matches, json_kind, quote};

/// Tokens longer than this are refused before any parsing (Vault has no such limit;
/// managed-identity tokens are 1–3 KiB).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// A JSON object with its members in document order, duplicates kept (Go's decoder lets
/// the last one win, but reports type errors of earlier ones). Invalid UTF-8 is refused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Members(pub Vec<(String, Value)>);

impl Members {
    /// The value Go's `encoding/json` would store in a struct field named `field`: the
    /// last member whose key matches it case-insensitively.
    pub fn field(&self, field: &str) -> Option<&Value> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| json_key_matches(k, field))
            .map(|(_, v)| v)
    }

    /// Every member that Go would decode into `field`, in document order.
    fn all(&self, field: &'static str) -> impl Iterator<Item = &Value> + '_ {
        self.0
            .iter()
            .filter(move |(k, _)| json_key_matches(k, field))
            .map(|(_, v)| v)
    }

    /// The object as a plain JSON value (last duplicate wins, keys sorted).
    pub fn to_value(&self) -> Value {
        self.clone().into_value()
    }

    /// [`Members::to_value`] without copying: the object as a plain JSON value.
    ///
    /// Collected rather than inserted one by one: the map then sorts the members once
    /// (stably, so of equal keys the last in document order is kept, as `insert` would)
    /// and builds its tree in bulk, instead of searching it for each of a token's twenty-odd
    /// claims.
    pub fn into_value(self) -> Value {
        Value::Object(self.0.into_iter().collect())
    }
}

enum Doc {
    Object(Members),
    Other(&'static str),
}

/// Reads a [`Doc`], with room for `members` members.
struct DocSeed {
    members: usize,
}

impl<'de> de::DeserializeSeed<'de> for DocSeed {
    type Value = Doc;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Doc, D::Error> {
        struct V(usize);
        impl<'de> Visitor<'de> for V {
            type Value = Doc;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
                // serde_json gives no size hint: the room comes from the document's length.
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(self.0));
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Doc::Object(Members(out)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Doc::Other("array"))
            }
            fn visit_str<E>(self, _: &str) -> Result<Doc, E> {
                Ok(Doc::Other("string"))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Doc, E> {
                Ok(Doc::Other("bool"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Doc, E> {
                Ok(Doc::Other("number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Doc, E> {
                Ok(Doc::Other("number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Doc, E> {
                Ok(Doc::Other("number"))
            }
            fn visit_unit<E>(self) -> Result<Doc, E> {
                Ok(Doc::Other("null"))
            }
        }
        d.deserialize_any(V(self.members))
    }
}

/// Room for the members of a JSON object of `len` bytes: a token's claims average 30 to
/// 40 bytes each, so a payload's twenty-odd claims fit in one allocation, where growing
/// from an empty vector took three (the largest over a kilobyte, which sends glibc's
/// allocator down its slow path).
fn member_room(len: usize) -> usize {
    (len / 32).clamp(4, 64)
}

/// Parses a JSON document as Go's `json.Unmarshal` into a struct would see it. `go_type`
/// names the struct in the error (`oidc.idToken`). Invalid UTF-8 is refused (Go would
/// replace it).
/// `null` decodes to an empty object (Go leaves the struct untouched).
pub fn parse_object(doc: &[u8], go_type: &str) -> Result<Members, String> {
    // Go replaces invalid UTF-8 with U+FFFD; aadauth refuses it, as other JWT libraries do.
    let text = std::str::from_utf8(doc).map_err(|e| format!("invalid UTF-8 in JSON: {e}"))?;
    let parsed = {
        use serde::de::DeserializeSeed;
        let mut de = serde_json::Deserializer::from_str(text);
        DocSeed {
            members: member_room(text.len()),
        }
        .deserialize(&mut de)
        .and_then(|doc| de.end().map(|()| doc))
    };
    match parsed {
        Ok(Doc::Object(m)) => Ok(m),
        Ok(Doc::Other("null")) => Ok(Members::default()),
        Ok(Doc::Other(kind)) => Err(format!(
            "json: cannot unmarshal {kind} into Go value of type {go_type}"
        )),
        Err(e) => Err(gocompat::json_syntax_error(text.as_bytes(), &e)),
    }
}

/// Step 1 (§3.2): split and decode the payload, as go-oidc's `parseJWT`.
pub fn decode_payload(raw: &str) -> Result<Vec<u8>, String> {
    let parts: Vec<&str> = raw.split('.').collect();
    if parts.len() < 2 {
        return Err(format!(
            "oidc: malformed jwt: oidc: malformed jwt, expected 3 parts got {}",
            parts.len()
        ));
    }
    gocompat::base64url_decode(parts[1])
        .map_err(|e| format!("oidc: malformed jwt: oidc: malformed jwt payload: {e}"))
}

/// The claims go-oidc reads (its `idToken` struct).
#[derive(Debug, Clone, PartialEq)]
pub struct OidcClaims {
    pub iss: String,
    /// A string `aud` becomes a one-item list; `null` becomes `[""]`, as in go-oidc.
    pub aud: Vec<String>,
    /// Unix seconds; [`gocompat::GO_ZERO_TIME`] when absent.
    pub exp: i64,
    pub nbf: Option<i64>,
    /// `_claim_names`: claim → source name.
    pub claim_names: Vec<(String, String)>,
    /// `_claim_sources` names.
    pub claim_sources: Vec<String>,
}

/// Step 2 (§3.2): unmarshal go-oidc's claims; the error is the detail of
/// `oidc: failed to unmarshal claims: <detail>`.
pub fn oidc_claims(m: &Members) -> Result<OidcClaims, String> {
    const T: &str = "idToken";
    // Errors from custom unmarshalers (aud, exp, iat, nbf) stop Go's decoder at once;
    // type errors of plain fields are remembered and the first one is returned at the end.
    let mut first_type_error: Option<String> = None;
    let mut type_error = |e: String| {
        if first_type_error.is_none() {
            first_type_error = Some(e);
        }
    };
    for (key, value) in &m.0 {
        let field = ["iss", "sub", "nonce", "at_hash"]
            .into_iter()
            .find(|f| json_key_matches(key, f));
        if let Some(f) = field {
            if !matches!(value, Value::String(_) | Value::Null) {
                type_error(format!(
                    "json: cannot unmarshal {} into Go struct field {T}.{f} of type string",
                    json_kind(value)
                ));
            }
            continue;
        }
        if json_key_matches(key, "aud") {
            audience(value)?;
        } else if json_key_matches(key, "exp") || json_key_matches(key, "iat") {
            gocompat::json_time(value)?;
        } else if json_key_matches(key, "nbf") {
            if !value.is_null() {
                gocompat::json_time(value)?;
            }
        } else if json_key_matches(key, "_claim_names") {
            match value {
                Value::Null => {}
                Value::Object(o) => {
                    for v in o.values() {
                        if !matches!(v, Value::String(_) | Value::Null) {
                            type_error(format!(
                                "json: cannot unmarshal {} into Go struct field {T}._claim_names of type string",
                                json_kind(v)
                            ));
                        }
                    }
                }
                other => type_error(format!(
                    "json: cannot unmarshal {} into Go struct field {T}._claim_names of type map[string]string",
                    json_kind(other)
                )),
            }
        } else if json_key_matches(key, "_claim_sources") {
            match value {
                Value::Null => {}
                Value::Object(o) => {
                    for v in o.values() {
                        match v {
                            Value::Null => {}
                            Value::Object(src) => {
                                for (k, sv) in src {
                                    let f = ["endpoint", "access_token"]
                                        .into_iter()
                                        .find(|f| json_key_matches(k, f));
                                    if let Some(f) = f {
                                        if !matches!(sv, Value::String(_) | Value::Null) {
                                            type_error(format!(
                                                "json: cannot unmarshal {} into Go struct field claimSource._claim_sources.{f} of type string",
                                                json_kind(sv)
                                            ));
                                        }
                                    }
                                }
                            }
                            other => type_error(format!(
                                "json: cannot unmarshal {} into Go struct field {T}._claim_sources of type oidc.claimSource",
                                json_kind(other)
                            )),
                        }
                    }
                }
                other => type_error(format!(
                    "json: cannot unmarshal {} into Go struct field {T}._claim_sources of type map[string]oidc.claimSource",
                    json_kind(other)
                )),
            }
        }
    }
    if let Some(e) = first_type_error {
        return Err(e);
    }
    let string_of = |f: &str| match m.field(f) {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let aud = match m.field("aud") {
        Some(v) => audience(v)?,
        None => Vec::new(),
    };
    let exp = match m.field("exp") {
        Some(v) => gocompat::json_time(v)?,
        None => gocompat::GO_ZERO_TIME,
    };
    let nbf = match m.field("nbf") {
        None | Some(Value::Null) => None,
        Some(v) => Some(gocompat::json_time(v)?),
    };
    let mut claim_names = Vec::new();
    for v in m.all("_claim_names") {
        if let Value::Object(o) = v {
            claim_names = o
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
        } else if v.is_null() {
            claim_names.clear();
        }
    }
    let mut claim_sources = Vec::new();
    for v in m.all("_claim_sources") {
        if let Value::Object(o) = v {
            claim_sources = o.keys().cloned().collect();
        } else if v.is_null() {
            claim_sources.clear();
        }
    }
    Ok(OidcClaims {
        iss: string_of("iss"),
        aud,
        exp,
        nbf,
        claim_names,
        claim_sources,
    })
}

/// go-oidc's `audience.UnmarshalJSON`: a string, else a list of strings.
fn audience(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Null => Ok(vec![String::new()]),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Null => Ok(String::new()),
                other => Err(format!(
                    "json: cannot unmarshal {} into Go value of type string",
                    json_kind(other)
                )),
            })
            .collect(),
        other => Err(format!(
            "json: cannot unmarshal {} into Go value of type []string",
            json_kind(other)
        )),
    }
}

/// Step 3 (§3.2): every `_claim_names` entry must name a source in `_claim_sources`.
pub fn check_distributed_claims(c: &OidcClaims) -> Result<(), String> {
    // Go ranges over a map in random order; aadauth checks in sorted order so that the
    // answer is deterministic (both errors are possible in Vault when both apply).
    let mut names = c.claim_names.clone();
    names.sort();
    for (_, src) in &names {
        if src.is_empty() {
            return Err("oidc: failed to obtain source from claim name".into());
        }
        if !c.claim_sources.iter().any(|s| s == src) {
            return Err("oidc: source does not exist".into());
        }
    }
    Ok(())
}

/// The protected header, as far as verification needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    pub x5t: Option<String>,
    /// The whole header, for display.
    pub json: Value,
}

/// The compact JWS, split for signature verification.
#[derive(Debug, Clone, PartialEq)]
pub struct Jws<'a> {
    pub header: Header,
    /// `BASE64URL(header) "." BASE64URL(payload)` exactly as sent.
    pub signing_input: &'a str,
    pub signature: Vec<u8>,
    /// Whether all three parts are canonical base64url (no stray bits, no whitespace): a
    /// token that is not is never accepted by aadauth.
    pub signature_canonical: bool,
}

/// Steps 8–9 (§3.2): go-jose's `ParseSigned` with RS256 as the only algorithm.
/// The error is the detail after `oidc: malformed jwt: `.
pub fn parse_jws<'a>(raw: &'a str, allowed: &[&str]) -> Result<Jws<'a>, String> {
    let parts: Vec<&str> = raw.split('.').collect();
    if parts.len() != 3 {
        return Err("go-jose/go-jose: compact JWS format must have three parts".into());
    }
    let header_bytes = gocompat::base64url_decode(parts[0])?;
    // The payload is decoded only for go-jose's error on a malformed one: a canonical
    // spelling always decodes (and the claims are read elsewhere).
    let payload_canonical = gocompat::base64url_is_canonical(parts[1]);
    if !payload_canonical {
        gocompat::base64url_decode(parts[1])?;
    }
    let signature = gocompat::base64url_decode(parts[2])?;
    // go-jose verifies over the canonical re-encoding of what it decoded; aadauth verifies
    // over the token as sent and requires every part to be that canonical encoding, so a
    // signature is only ever accepted over the one spelling both agree on.
    let signature_canonical = payload_canonical
        && gocompat::base64url_is_canonical(parts[0])
        && gocompat::base64url_is_canonical(parts[2]);
    let header_members = if header_bytes.is_empty() {
        Members::default()
    } else {
        parse_object(&header_bytes, "map[jose.HeaderKey]*json.RawMessage")?
    };
    // go-jose reads the header into a map: keys are exact, the last duplicate wins.
    let exact = |k: &str| {
        header_members
            .0
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v)
    };
    let string_member = |k: &str, what: &str| -> Result<Option<String>, String> {
        match exact(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!(
                "go-jose/go-jose: failed to unmarshal JSON {what}: json: cannot unmarshal {} into Go value of type string",
                json_kind(other)
            )),
        }
    };
    let alg = string_member("alg", "Web Algorithm")?.unwrap_or_default();
    // go-oidc tries every key when `kid` is empty or null; aadauth (like other JWT
    // libraries) refuses a `kid` that is present but names nothing.
    if let Some(v) = exact("kid") {
        if v.as_str().is_none_or(str::is_empty) {
            return Err(format!(
                "aadauth: the kid header must be a non-empty string, not {v}"
            ));
        }
    }
    let kid = string_member("kid", "Web Key ID")?;
    let typ = string_member("typ", "Web Signature Type")?;
    let x5t = string_member("x5t", "Web Key Thumbprint")?;
    if !allowed.contains(&alg.as_str()) {
        let expected: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        return Err(format!(
            "go-jose/go-jose: unexpected signature algorithm {}; expected {}",
            quote(&alg),
            gocompat::quote_list(&expected)
        ));
    }
    // Critical extensions (RFC 7515 §4.1.11) and unencoded payloads (RFC 7797) are not for
    // access tokens; go-jose refuses unknown ones and changes the signing input for `b64`.
    if exact("crit").is_some() {
        return Err("go-jose/go-jose: unsupported crit header".into());
    }
    if exact("b64").is_some() {
        return Err("aadauth: the b64 header (RFC 7797 unencoded payload) is not supported".into());
    }
    if let Some(jwk) = exact("jwk") {
        let public = jwk
            .as_object()
            .is_some_and(|o| !o.contains_key("d") && o.contains_key("kty"));
        if !public {
            return Err("go-jose/go-jose: invalid embedded jwk, must be public key".into());
        }
    }
    Ok(Jws {
        header: Header {
            alg,
            kid,
            typ,
            x5t,
            json: header_members.into_value(),
        },
        signing_input: raw.rfind('.').map(|i| &raw[..i]).unwrap_or_default(),
        signature,
        signature_canonical,
    })
}

/// The claims Vault's Azure plugin reads itself (its `additionalClaims`), §3.3.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AzureClaims {
    pub nbf: Option<i64>,
    pub oid: String,
    pub appid: String,
    pub groups: Vec<String>,
    pub xms_az_rid: String,
    pub xms_mirid: String,
}

/// Reads the plugin's claims; the error is Go's message (Vault answers it with status 500).
pub fn azure_claims(m: &Members) -> Result<AzureClaims, String> {
    const T: &str = "additionalClaims";
    let mut out = AzureClaims::default();
    let mut first_error: Option<String> = None;
    for (key, value) in &m.0 {
        let string_field = ["oid", "appid", "xms_az_rid", "xms_mirid"]
            .into_iter()
            .find(|f| json_key_matches(key, f));
        if let Some(f) = string_field {
            let s = match value {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => {
                    first_error.get_or_insert(format!(
                        "json: cannot unmarshal {} into Go struct field {T}.{f} of type string",
                        json_kind(other)
                    ));
                    continue;
                }
            };
            match f {
                "oid" => out.oid = s,
                "appid" => out.appid = s,
                "xms_az_rid" => out.xms_az_rid = s,
                _ => out.xms_mirid = s,
            }
        } else if json_key_matches(key, "groups") {
            match value {
                Value::Null => out.groups.clear(),
                Value::Array(items) => {
                    let mut groups = Vec::with_capacity(items.len());
                    for item in items {
                        match item {
                            Value::String(s) => groups.push(s.clone()),
                            Value::Null => groups.push(String::new()),
                            other => {
                                first_error.get_or_insert(format!(
                                    "json: cannot unmarshal {} into Go struct field {T}.groups of type string",
                                    json_kind(other)
                                ));
                            }
                        }
                    }
                    out.groups = groups;
                }
                other => {
                    first_error.get_or_insert(format!(
                        "json: cannot unmarshal {} into Go struct field {T}.groups of type []string",
                        json_kind(other)
                    ));
                }
            }
        } else if json_key_matches(key, "nbf") {
            // The plugin's `nbf` is a plain (not pointer) jsonTime: Go hands `null` to its
            // UnmarshalJSON, which fails.
            out.nbf = Some(gocompat::json_time(value)?);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &str) -> Members {
        parse_object(s.as_bytes(), "oidc.idToken").unwrap()
    }

    #[test]
    fn go_json_field_rules() {
        let m = members(r#"{"ISS":"a","iss":"b","aud":"x","exp":1.5}"#);
        let c = oidc_claims(&m).unwrap();
        assert_eq!(c.iss, "b");
        assert_eq!(c.aud, vec!["x"]);
        assert_eq!(c.exp, 1);
        assert_eq!(c.nbf, None);
        let c = oidc_claims(&members(r#"{"iss":"a"}"#)).unwrap();
        assert_eq!(c.exp, gocompat::GO_ZERO_TIME);
        assert_eq!(
            oidc_claims(&members(r#"{"iss":1}"#)).unwrap_err(),
            "json: cannot unmarshal number into Go struct field idToken.iss of type string"
        );
        assert_eq!(
            oidc_claims(&members(r#"{"aud":5}"#)).unwrap_err(),
            "json: cannot unmarshal number into Go value of type []string"
        );
        assert_eq!(
            parse_object(b"[1]", "oidc.idToken").unwrap_err(),
            "json: cannot unmarshal array into Go value of type oidc.idToken"
        );
        assert_eq!(
            parse_object(b"{", "oidc.idToken").unwrap_err(),
            "unexpected end of JSON input"
        );
        assert_eq!(
            parse_object(b"x", "oidc.idToken").unwrap_err(),
            "invalid character 'x' looking for beginning of value"
        );
    }

    #[test]
    fn as_a_plain_value_the_last_duplicate_wins_and_keys_are_sorted() {
        let m = members(r#"{"z":1,"iss":"a","b":[2],"iss":"b","a":null,"iss":"c","ISS":"d"}"#);
        let want = serde_json::json!({"ISS":"d","a":null,"b":[2],"iss":"c","z":1});
        assert_eq!(m.to_value(), want);
        assert_eq!(m.into_value(), want);
        assert_eq!(
            serde_json::to_string(&members(r#"{"b":1,"a":2,"b":3}"#).into_value()).unwrap(),
            r#"{"a":2,"b":3}"#
        );
    }

    #[test]
    fn payload_split() {
        assert_eq!(
            decode_payload("abc").unwrap_err(),
            "oidc: malformed jwt: oidc: malformed jwt, expected 3 parts got 1"
        );
        assert!(decode_payload("a.e30").is_ok());
    }

    #[test]
    fn jws_algorithms() {
        // {"alg":"HS256"}
        let t = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln";
        assert_eq!(
            parse_jws(t, &["RS256"]).unwrap_err(),
            "go-jose/go-jose: unexpected signature algorithm \"HS256\"; expected [\"RS256\"]"
        );
        assert_eq!(
            parse_jws("a.b", &["RS256"]).unwrap_err(),
            "go-jose/go-jose: compact JWS format must have three parts"
        );
    }
}
