//! The tenant's signing keys (JWKS) and RS256 signature verification.
//!
//! Parsing a key set is cheap (base64 of `n` and `e`); each key is prepared for
//! verification the first time a token names it, once per [`KeySet`] (the `rsa` crate
//! validates it, then [`crate::signature`] precomputes its Montgomery constants). Microsoft's
//! key sets hold several keys and a token uses one: preparing only that one keeps a cold
//! login cheap, and an adapter that keeps its `KeySet` never prepares a key twice.
//! Nothing here reads the clock or needs randomness. Key selection follows go-oidc
//! (`spec/vault-azure-login.md` §3.2 step 10): when the token names a `kid`, only keys with
//! that `kid` are tried; without one, all are. RSA keys under 2048 bits are never used,
//! whatever Vault would do.

use std::sync::{Arc, OnceLock};

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use serde_json::Value;

/// The smallest RSA modulus aadauth verifies with.
pub const MIN_RSA_BITS: usize = 2048;

/// `(n, e)` big-endian, or why a key set entry is not an RSA key.
type Material = Result<(Vec<u8>, Vec<u8>), String>;

/// One entry of the key set.
#[derive(Clone)]
pub struct Key {
    pub kid: Option<String>,
    pub kty: String,
    /// The `issuer` member that v2.0 key sets carry.
    pub issuer: Option<String>,
    /// `(n, e)` big-endian, or why the entry is not an RSA key.
    material: Arc<Material>,
    /// Prepared on first use, and shared by every clone of this key (a cloned key set
    /// never prepares a key twice).
    prepared: Arc<OnceLock<Result<RsaKey, String>>>,
}

#[derive(Clone)]
struct RsaKey {
    /// The reference path (jsonwebtoken over the `rsa` crate), see [`KeySet::verify_reference`].
    decoding: DecodingKey,
    /// The prepared fast path ([`crate::signature`]).
    fast: crate::signature::RsaVerifier,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("kty", &self.kty)
            .field("bits", &self.bits())
            .finish()
    }
}

impl Key {
    /// Modulus size in bits, for RSA keys (from the encoded modulus; no preparation).
    pub fn bits(&self) -> Option<usize> {
        let (n, _) = self.material.as_ref().as_ref().ok()?;
        let n = &n[n.iter().position(|b| *b != 0).unwrap_or(n.len())..];
        let first = n.first()?;
        Some(n.len() * 8 - first.leading_zeros() as usize)
    }

    /// Why this key can never verify a token, if so (prepares the key).
    pub fn unusable(&self) -> Option<String> {
        self.prepare().err()
    }

    /// A one-line description for check details: `kid abc (RSA 2048-bit)`.
    pub fn describe(&self) -> String {
        let kid = self.kid.as_deref().unwrap_or("(no kid)");
        match (self.prepare(), self.bits()) {
            (Ok(_), Some(bits)) => format!("kid {kid} (RSA {bits}-bit)"),
            (Ok(_), None) => format!("kid {kid} (RSA)"),
            (Err(why), _) => format!("kid {kid} (unusable: {why})"),
        }
    }

    fn prepare(&self) -> Result<&RsaKey, String> {
        self.prepared
            .get_or_init(|| prepare_rsa(&self.material, self.bits()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn prepare_rsa(material: &Material, bits: Option<usize>) -> Result<RsaKey, String> {
    let (n, e) = material.as_ref().map_err(Clone::clone)?;
    let bits = bits.unwrap_or(0);
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "RSA key is {bits} bits; aadauth never uses keys under {MIN_RSA_BITS} bits"
        ));
    }
    // Same rules as the rsa crate's public-key check (tests/rs256_differential.rs compares
    // them), without its constant-time precomputation, which would triple a cold login.
    let fast = crate::signature::RsaVerifier::for_public_key(n, e).ok_or_else(|| {
        "invalid RSA key: the exponent must be odd and between 3 and 2^33-1, the modulus odd and at most 8192 bits".to_string()
    })?;
    Ok(RsaKey {
        decoding: DecodingKey::from_rsa_raw_components(n, e),
        fast,
    })
}

/// A parsed key set. Unusable entries are kept, with the reason, for explanations.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    pub keys: Vec<Key>,
}

/// A summary of a key, for outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub kid: Option<String>,
    pub kty: String,
    pub bits: Option<usize>,
    pub usable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`). The error is the detail Vault prints
    /// after `oidc: failed to decode keys: ` when the key endpoint serves something else.
    pub fn from_jwks(doc: &Value) -> Result<KeySet, String> {
        let keys = match doc.get("keys") {
            Some(Value::Array(keys)) => keys,
            Some(other) => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field JSONWebKeySet.keys of type []jose.JSONWebKey",
                    crate::gocompat::json_kind(other)
                ))
            }
            None if doc.is_object() => return Ok(KeySet::default()),
            None => {
                return Err(format!(
                    "json: cannot unmarshal {} into Go value of type jose.JSONWebKeySet",
                    crate::gocompat::json_kind(doc)
                ))
            }
        };
        Ok(KeySet {
            keys: keys.iter().map(Key::from_jwk).collect(),
        })
    }

    /// Parses JWKS text.
    pub fn from_jwks_str(text: &str) -> Result<KeySet, String> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| crate::gocompat::json_syntax_error(text.as_bytes(), &e))?;
        KeySet::from_jwks(&v)
    }

    pub fn info(&self) -> Vec<KeyInfo> {
        self.keys
            .iter()
            .map(|k| {
                let reason = k.unusable();
                KeyInfo {
                    kid: k.kid.clone(),
                    kty: k.kty.clone(),
                    bits: k.bits(),
                    usable: reason.is_none(),
                    reason,
                }
            })
            .collect()
    }

    /// The keys go-oidc would try for a token with this `kid`.
    /// Whether the set has a key with this `kid`.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    pub fn candidates<'a>(&'a self, kid: Option<&'a str>) -> impl Iterator<Item = &'a Key> + 'a {
        self.keys.iter().filter(move |k| match kid {
            None | Some("") => true,
            Some(kid) => k.kid.as_deref() == Some(kid),
        })
    }

    /// Tries the candidate keys in order; returns the key that verified, or the reasons
    /// each candidate failed.
    pub fn verify(&self, jws: &crate::token::Jws<'_>) -> Verification {
        let kid = jws.header.kid.as_deref();
        let mut tried = Vec::new();
        for key in self.candidates(kid) {
            let Ok(rsa) = key.prepare() else {
                tried.push(key.describe());
                continue;
            };
            if jws.signature_canonical
                && rsa
                    .fast
                    .verify_rs256(jws.signing_input.as_bytes(), &jws.signature)
            {
                return Verification::Verified(key.describe());
            }
            tried.push(key.describe());
        }
        Verification::Failed { tried }
    }

    /// The same as [`KeySet::verify`], through jsonwebtoken's signature primitive over the
    /// `rsa` crate: the reference the fast path is tested against.
    pub fn verify_reference(&self, jws: &crate::token::Jws<'_>) -> Verification {
        let kid = jws.header.kid.as_deref();
        let mut tried = Vec::new();
        for key in self.candidates(kid) {
            if let Ok(rsa) = key.prepare() {
                if jws.signature_canonical && verify_rs256(&rsa.decoding, jws) {
                    return Verification::Verified(key.describe());
                }
            }
            tried.push(key.describe());
        }
        Verification::Failed { tried }
    }
}

/// The outcome of trying a key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Verified by the key described.
    Verified(String),
    /// No candidate verified; the candidates tried (empty when none matched the `kid`).
    Failed { tried: Vec<String> },
}

fn verify_rs256(key: &DecodingKey, jws: &crate::token::Jws<'_>) -> bool {
    use base64::Engine;
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&jws.signature);
    matches!(
        jsonwebtoken::crypto::verify(&sig, jws.signing_input.as_bytes(), key, Algorithm::RS256),
        Ok(true)
    )
}

impl Key {
    fn from_jwk(v: &Value) -> Key {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let kty = s("kty").unwrap_or_default();
        let material = if !v.is_object() {
            Err("not a JSON object".to_string())
        } else if kty != "RSA" {
            Err(format!(
                "key type {} cannot verify RS256",
                crate::gocompat::quote(&kty)
            ))
        } else {
            rsa_components(v)
        };
        Key {
            kid: s("kid"),
            kty,
            issuer: s("issuer"),
            material: Arc::new(material),
            prepared: Arc::new(OnceLock::new()),
        }
    }
}

fn rsa_components(v: &Value) -> Result<(Vec<u8>, Vec<u8>), String> {
    let get = |k: &str| -> Result<Vec<u8>, String> {
        let text = v
            .get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("invalid RSA key, missing {k} value"))?;
        let bytes = crate::gocompat::base64url_decode(text)
            .map_err(|e| format!("invalid RSA key {k}: {e}"))?;
        if bytes.is_empty() {
            return Err(format!("invalid RSA key, missing {k} value"));
        }
        Ok(bytes)
    };
    let n = get("n")?;
    let e = get("e")?;
    if e.len() > 8 {
        return Err("invalid RSA key: exponent too large".into());
    }
    Ok((n, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unusable_keys_say_why() {
        let set = KeySet::from_jwks(&json!({"keys": [
            {"kty": "EC", "kid": "a"},
            {"kty": "RSA", "kid": "b", "e": "AQAB"},
            {"kty": "RSA", "kid": "c", "n": "AQAB", "e": "AQAB"},
        ]}))
        .unwrap();
        assert!(set.keys[0].unusable().unwrap_or_default().contains("EC"));
        assert!(set.keys[1]
            .unusable()
            .unwrap_or_default()
            .contains("missing n"));
        assert!(set.keys[2].unusable().is_some());
        assert!(KeySet::from_jwks(&json!({"keys": 1})).is_err());
        assert!(KeySet::from_jwks(&json!([])).is_err());
    }

    /// A modulus spelled with non-zero unused bits in its last base64url character is the
    /// same key, as Go's `RawURLEncoding` (go-jose, hence Vault) reads it: the token it
    /// signed verifies. Changing a used bit instead makes it another key, which does not.
    /// (Found by the `jwks` fuzz target, whose check compared key texts.)
    #[test]
    fn a_modulus_with_unused_bits_set_is_the_same_key() {
        let doc: serde_json::Value = serde_json::from_str(include_str!(
            "../tests/vectors/allowed_vm_system_assigned.json"
        ))
        .unwrap();
        let input = &doc["input"];
        let jws = crate::token::parse_jws(input["login"]["jwt"].as_str().unwrap_or(""), &["RS256"])
            .unwrap();
        let verified = |n_of: &dyn Fn(&str) -> String| {
            let mut keys = input["keys"].clone();
            for k in keys["keys"].as_array_mut().unwrap() {
                let n = n_of(k["n"].as_str().unwrap());
                k["n"] = json!(n);
            }
            matches!(
                KeySet::from_jwks(&keys).unwrap().verify(&jws),
                Verification::Verified(_)
            )
        };
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        // 2048 bits in 342 characters: the last one carries 2 bits, its low 4 are unused.
        let last = |n: &str, f: &dyn Fn(usize) -> usize| {
            let (head, tail) = n.split_at(n.len() - 1);
            let v = B64.iter().position(|&c| c == tail.as_bytes()[0]).unwrap();
            format!("{head}{}", char::from(B64[f(v)]))
        };
        assert!(verified(&|n| n.to_string()));
        assert!(verified(&|n| last(n, &|v| v | 0b0010)));
        assert!(verified(&|n| last(n, &|v| v | 0b1111)));
        assert!(!verified(&|n| last(n, &|v| v ^ 0b1_0000)));
    }
}
