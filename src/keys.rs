//! The tenant's signing keys (JWKS) and RS256 signature verification.
//!
//! Keys are prepared once per key set ([`KeySet::from_jwks`]) and verification uses
//! jsonwebtoken's signature primitive only: nothing here reads the clock or needs
//! randomness. Key selection follows go-oidc (`spec/vault-azure-login.md` §3.2 step 10):
//! when the token names a `kid`, only keys with that `kid` are tried; without one, all are.
//! RSA keys under 2048 bits are never used, whatever Vault would do.

use jsonwebtoken::{Algorithm, DecodingKey};
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde_json::Value;

/// The smallest RSA modulus aadauth verifies with.
pub const MIN_RSA_BITS: usize = 2048;

/// One entry of the key set.
#[derive(Clone)]
pub struct Key {
    pub kid: Option<String>,
    pub kty: String,
    /// `Some` when the key can verify RS256; else [`Key::unusable`] says why not.
    rsa: Option<RsaKey>,
    pub unusable: Option<String>,
    /// The `issuer` member that v2.0 key sets carry.
    pub issuer: Option<String>,
}

#[derive(Clone)]
struct RsaKey {
    bits: usize,
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
            .field("unusable", &self.unusable)
            .finish()
    }
}

impl Key {
    /// Modulus size, for RSA keys.
    pub fn bits(&self) -> Option<usize> {
        self.rsa.as_ref().map(|k| k.bits)
    }

    /// A one-line description for check details: `kid abc (RSA 2048-bit)`.
    pub fn describe(&self) -> String {
        let kid = self.kid.as_deref().unwrap_or("(no kid)");
        match (&self.rsa, &self.unusable) {
            (Some(k), _) => format!("kid {kid} (RSA {}-bit)", k.bits),
            (None, Some(why)) => format!("kid {kid} (unusable: {why})"),
            (None, None) => format!("kid {kid} ({})", self.kty),
        }
    }
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
            .map(|k| KeyInfo {
                kid: k.kid.clone(),
                kty: k.kty.clone(),
                bits: k.bits(),
                usable: k.rsa.is_some(),
                reason: k.unusable.clone(),
            })
            .collect()
    }

    /// The keys go-oidc would try for a token with this `kid`.
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
            let Some(rsa) = &key.rsa else {
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
            if let Some(rsa) = &key.rsa {
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
        let mut key = Key {
            kid: s("kid"),
            kty: kty.clone(),
            rsa: None,
            unusable: None,
            issuer: s("issuer"),
        };
        if !v.is_object() {
            key.unusable = Some("not a JSON object".into());
            return key;
        }
        if kty != "RSA" {
            key.unusable = Some(format!(
                "key type {} cannot verify RS256",
                crate::gocompat::quote(&kty)
            ));
            return key;
        }
        match rsa_components(v) {
            Ok((n, e)) => {
                let public = rsa::PublicKey::new(
                    rsa::BoxedUint::from_be_slice_vartime(&n),
                    rsa::BoxedUint::from_be_slice_vartime(&e),
                );
                match public {
                    Ok(pk) => {
                        let bits = pk.n().bit_width() as usize;
                        if bits < MIN_RSA_BITS {
                            key.unusable = Some(format!(
                                "RSA key is {bits} bits; aadauth never uses keys under {MIN_RSA_BITS} bits"
                            ));
                        } else {
                            match crate::signature::RsaVerifier::new(&n, &e) {
                                Some(fast) => {
                                    key.rsa = Some(RsaKey {
                                        bits,
                                        decoding: DecodingKey::from_rsa_raw_components(&n, &e),
                                        fast,
                                    })
                                }
                                None => {
                                    key.unusable = Some(
                                        "RSA exponent is not an odd number of at most 64 bits"
                                            .into(),
                                    )
                                }
                            }
                        }
                    }
                    Err(err) => key.unusable = Some(format!("invalid RSA key: {err}")),
                }
            }
            Err(why) => key.unusable = Some(why),
        }
        key
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
        assert!(set.keys[0].unusable.as_deref().unwrap_or("").contains("EC"));
        assert!(set.keys[1]
            .unusable
            .as_deref()
            .unwrap_or("")
            .contains("missing n"));
        assert!(set.keys[2].unusable.is_some());
        assert!(KeySet::from_jwks(&json!({"keys": 1})).is_err());
        assert!(KeySet::from_jwks(&json!([])).is_err());
    }
}
