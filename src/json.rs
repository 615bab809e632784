//! JSON as the field readers see it: [`serde_json::Value`], or an input document read in
//! place ([`Borrowed`]).
//!
//! Why two: `evaluate_json` used to build a `Value` of the whole input and then copy every
//! field out of it. That tree is a `String` per key and per value and a node per object,
//! all thrown away once the fields are read. A [`Borrowed`] tree points into the input
//! text instead: keys and strings without escapes are not copied, and an object is one
//! vector. Only what ends up a `Value` anyway (ARM bodies, a key set) is read into one
//! ([`parse_borrowed_apart`]). Measured on the test vector of `examples/profile_login.rs`:
//! reading the input went from 63 to 22 allocations, and an evaluation with the key set
//! loaded from 527,065 to 514,419 instructions (callgrind).
//!
//! The readers (`fields`, `Config`, `LoginRequest`, `Role`, the `evaluate` contract) are
//! written once, over [`Json`], so both kinds of tree are read by the same rules:
//! `tests/properties.rs` holds `evaluate_json(text)` equal to `evaluate(&Value)` of the same
//! text on every vector, on mutated inputs, and on what only text can say (repeated
//! members, escaped keys).
//!
//! A [`Borrowed`] object has `Value`'s semantics exactly: members sorted by key (byte order,
//! as `serde_json::Map`'s `BTreeMap`), and of repeated keys the last one kept. Numbers are
//! `serde_json::Number`s made as `Value`'s visitor makes them, and errors come from the same
//! `serde_json` deserializer (syntax, the 128-level nesting limit), so the messages match.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// One JSON value, seen without its representation.
#[derive(Debug, Clone, Copy)]
pub enum View<'a, J: Json> {
    Null,
    Bool(bool),
    Number(&'a Number),
    String(&'a str),
    Array(&'a [J]),
    Object(&'a J::Object),
}

/// A JSON tree the field readers can read.
pub trait Json: Sized {
    type Object: JsonObject<Value = Self>;
    fn view(&self) -> View<'_, Self>;
    /// JSON `null` (what an absent member reads as).
    fn null() -> Self;
    /// The value as a `serde_json::Value` (copied), for what keeps a document whole (an ARM
    /// body, a key set) and for error messages that quote the value.
    fn to_value(&self) -> Value;
    /// Calls `f` with the value as a `serde_json::Value`: itself, or a copy.
    fn with_value<R>(&self, f: impl FnOnce(&Value) -> R) -> R {
        f(&self.to_value())
    }

    fn is_null(&self) -> bool {
        matches!(self.view(), View::Null)
    }
    fn as_object(&self) -> Option<&Self::Object> {
        match self.view() {
            View::Object(o) => Some(o),
            _ => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self.view() {
            View::String(s) => Some(s),
            _ => None,
        }
    }
}

/// A JSON object: unique keys in byte order.
pub trait JsonObject {
    type Value: Json;
    fn get(&self, key: &str) -> Option<&Self::Value>;
    /// Number of (distinct) members.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Members in key order.
    fn members(&self) -> impl Iterator<Item = (&str, &Self::Value)>;
    fn keys(&self) -> impl Iterator<Item = &str> {
        self.members().map(|(k, _)| k)
    }
}

impl Json for Value {
    type Object = Map<String, Value>;
    fn view(&self) -> View<'_, Value> {
        match self {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(*b),
            Value::Number(n) => View::Number(n),
            Value::String(s) => View::String(s),
            Value::Array(a) => View::Array(a),
            Value::Object(o) => View::Object(o),
        }
    }
    fn null() -> Value {
        Value::Null
    }
    fn to_value(&self) -> Value {
        self.clone()
    }
    fn with_value<R>(&self, f: impl FnOnce(&Value) -> R) -> R {
        f(self)
    }
}

impl JsonObject for Map<String, Value> {
    type Value = Value;
    fn get(&self, key: &str) -> Option<&Value> {
        Map::get(self, key)
    }
    fn len(&self) -> usize {
        Map::len(self)
    }
    fn members(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// A JSON value read in place from a document (`'de` is the document's lifetime).
#[derive(Debug, Clone, PartialEq)]
pub enum Borrowed<'de> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'de, str>),
    Array(Vec<Borrowed<'de>>),
    Object(BorrowedObject<'de>),
}

/// The members of a [`Borrowed`] object, sorted by key, keys unique (the last kept).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BorrowedObject<'de>(Vec<(Cow<'de, str>, Borrowed<'de>)>);

impl<'de> BorrowedObject<'de> {
    /// Sorts `members` (in document order) by key, keeping the last of repeated keys, as
    /// inserting them one by one into a `serde_json::Map` would.
    fn from_document_order(mut members: Vec<(Cow<'de, str>, Borrowed<'de>)>) -> Self {
        // Stable: of equal keys the document's order is kept, and the last of each run wins.
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(Cow<'de, str>, Borrowed<'de>)> = Vec::with_capacity(members.len());
        for m in members {
            match out.last_mut() {
                Some(last) if last.0 == m.0 => *last = m,
                _ => out.push(m),
            }
        }
        BorrowedObject(out)
    }

    /// Removes and returns the member `key` (to move it out rather than copy it).
    pub fn remove(&mut self, key: &str) -> Option<Borrowed<'de>> {
        let i = self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key)).ok()?;
        Some(self.0.remove(i).1)
    }
}

impl<'de> Json for Borrowed<'de> {
    type Object = BorrowedObject<'de>;
    fn view(&self) -> View<'_, Self> {
        match self {
            Borrowed::Null => View::Null,
            Borrowed::Bool(b) => View::Bool(*b),
            Borrowed::Number(n) => View::Number(n),
            Borrowed::String(s) => View::String(s),
            Borrowed::Array(a) => View::Array(a),
            Borrowed::Object(o) => View::Object(o),
        }
    }
    fn null() -> Self {
        Borrowed::Null
    }
    fn to_value(&self) -> Value {
        match self {
            Borrowed::Null => Value::Null,
            Borrowed::Bool(b) => Value::Bool(*b),
            Borrowed::Number(n) => Value::Number(n.clone()),
            Borrowed::String(s) => Value::String(s.to_string()),
            Borrowed::Array(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            Borrowed::Object(o) => Value::Object(
                o.0.iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl<'de> JsonObject for BorrowedObject<'de> {
    type Value = Borrowed<'de>;
    fn get(&self, key: &str) -> Option<&Borrowed<'de>> {
        let i = self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key)).ok()?;
        self.0.get(i).map(|(_, v)| v)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn members(&self) -> impl Iterator<Item = (&str, &Borrowed<'de>)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }
}

/// A string that borrows from the document when it has no escapes.
struct Str<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Borrowed<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BorrowedVisitor)
    }
}

/// Reads any JSON value into a [`Borrowed`].
struct BorrowedVisitor;
impl<'de> Visitor<'de> for BorrowedVisitor {
    type Value = Borrowed<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Borrowed<'de>, E> {
        Ok(Borrowed::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Borrowed<'de>, E> {
        Ok(Borrowed::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Borrowed<'de>, E> {
        Ok(Borrowed::Number(n.into()))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Borrowed<'de>, E> {
        // As serde_json's `Value` visitor: a float JSON cannot hold becomes null.
        Ok(Number::from_f64(f).map_or(Borrowed::Null, Borrowed::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Borrowed<'de>, E> {
        Ok(Borrowed::String(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Borrowed<'de>, E> {
        Ok(Borrowed::String(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Borrowed<'de>, E> {
        Ok(Borrowed::String(Cow::Owned(s)))
    }
    fn visit_unit<E>(self) -> Result<Borrowed<'de>, E> {
        Ok(Borrowed::Null)
    }
    fn visit_none<E>(self) -> Result<Borrowed<'de>, E> {
        Ok(Borrowed::Null)
    }
    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Borrowed<'de>, D2::Error> {
        Borrowed::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Borrowed<'de>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Borrowed::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Borrowed<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).clamp(4, 64));
        while let Some(Str(k)) = map.next_key::<Str<'de>>()? {
            members.push((k, map.next_value::<Borrowed<'de>>()?));
        }
        Ok(Borrowed::Object(BorrowedObject::from_document_order(
            members,
        )))
    }
}

/// A document read in place, but for the top-level members named in `apart`, read into
/// `serde_json::Value`s and given apart (in `apart`'s order; the last of repeated members,
/// as everywhere). For members that end up as `Value`s anyway (an input's ARM bodies and
/// key set): reading them in place and copying them out would cost more than it saves.
pub fn parse_borrowed_apart<'de, const N: usize>(
    text: &'de str,
    apart: [&str; N],
) -> Result<(Borrowed<'de>, [Option<Value>; N]), serde_json::Error> {
    struct Top<'a, const N: usize>(&'a [&'a str; N]);
    impl<'de, const N: usize> de::DeserializeSeed<'de> for Top<'_, N> {
        type Value = (Borrowed<'de>, [Option<Value>; N]);
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de, const N: usize> Visitor<'de> for Top<'_, N> {
        type Value = (Borrowed<'de>, [Option<Value>; N]);
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any valid JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut given: [Option<Value>; N] = std::array::from_fn(|_| None);
            let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).clamp(4, 64));
            while let Some(Str(k)) = map.next_key::<Str<'de>>()? {
                match self.0.iter().position(|name| *name == k) {
                    Some(i) => given[i] = Some(map.next_value::<Value>()?),
                    None => members.push((k, map.next_value::<Borrowed<'de>>()?)),
                }
            }
            let doc = Borrowed::Object(BorrowedObject::from_document_order(members));
            Ok((doc, given))
        }
        // Anything but an object is read whole.
        fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
            Ok((
                BorrowedVisitor.visit_bool(b)?,
                std::array::from_fn(|_| None),
            ))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok((BorrowedVisitor.visit_i64(n)?, std::array::from_fn(|_| None)))
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok((BorrowedVisitor.visit_u64(n)?, std::array::from_fn(|_| None)))
        }
        fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
            Ok((BorrowedVisitor.visit_f64(f)?, std::array::from_fn(|_| None)))
        }
        fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
            Ok((
                BorrowedVisitor.visit_borrowed_str(s)?,
                std::array::from_fn(|_| None),
            ))
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok((BorrowedVisitor.visit_str(s)?, std::array::from_fn(|_| None)))
        }
        fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
            Ok((
                BorrowedVisitor.visit_string(s)?,
                std::array::from_fn(|_| None),
            ))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok((Borrowed::Null, std::array::from_fn(|_| None)))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Ok((
                BorrowedVisitor.visit_seq(seq)?,
                std::array::from_fn(|_| None),
            ))
        }
    }
    use de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    let v = Top(&apart).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// Reads `text` as one JSON document (trailing whitespace allowed, anything else refused),
/// with serde_json's errors.
pub fn parse_borrowed(text: &str) -> Result<Borrowed<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = Borrowed::deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_borrowed_tree_is_the_value_tree() {
        for text in [
            r#"{"b":1,"a":[true,null,"x\u0041",-2,1.5e300,18446744073709551615],"c":{}}"#,
            r#"{"k":1,"k":2,"a":{"z":0,"z":{"y":"last"}}}"#,
            r#"[]"#,
            r#""plain""#,
            r#"{"\u00e9":"é","e":"\n"}"#,
        ] {
            let b = parse_borrowed(text).unwrap();
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(b.to_value(), v, "{text}");
        }
    }

    #[test]
    fn escapes_are_copied_and_the_rest_borrowed() {
        let text = r#"{"plain":"abc","esc":"a\"b"}"#;
        let b = parse_borrowed(text).unwrap();
        let o = b.as_object().unwrap();
        assert!(matches!(
            o.get("plain"),
            Some(Borrowed::String(Cow::Borrowed("abc")))
        ));
        assert!(matches!(o.get("esc"), Some(Borrowed::String(Cow::Owned(s))) if s == "a\"b"));
    }

    #[test]
    fn errors_are_serde_jsons() {
        for text in ["{", "[1,]", "{\"a\":1} x", "\"\\ud800\"", &"[".repeat(200)] {
            let b = parse_borrowed(text).map(|_| ()).unwrap_err().to_string();
            let v = serde_json::from_str::<Value>(text).unwrap_err().to_string();
            assert_eq!(b, v, "{text}");
        }
    }
}
