//! The login request (`vault write auth/azure/login`) and Vault's field format checks.
//!
//! See `spec/vault-azure-login.md` §3.1 step 5: each field is checked only when non-empty,
//! with Vault's regular expressions, reproduced here by hand (Go's `regexp` semantics;
//! `\pL` and `\pN` are Unicode general categories).

use crate::json::{Json, JsonObject};
use serde::Serialize;

use crate::fields::{self, FieldError};

/// The body of `vault write auth/azure/login`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoginRequest {
    pub role: String,
    pub jwt: String,
    pub subscription_id: String,
    pub resource_group_name: String,
    pub vm_name: String,
    pub vmss_name: String,
    pub resource_id: String,
}

impl LoginRequest {
    /// Reads the login body. Members that are not strings are input errors naming the field.
    /// Reads the login request's fields (a `serde_json::Value`, or any [`Json`] tree).
    pub fn from_json<J: Json>(v: &J) -> Result<LoginRequest, FieldError> {
        let null = J::null();
        let obj = fields::unwrap_vault_read(v)
            .ok_or_else(|| FieldError::new("login", "expected a JSON object"))?;
        let get =
            |k: &str| fields::string(k, obj.get(k).unwrap_or(&null)).map_err(|e| e.under("login"));
        Ok(LoginRequest {
            role: get("role")?,
            jwt: get("jwt")?,
            subscription_id: get("subscription_id")?,
            resource_group_name: get("resource_group_name")?,
            vm_name: get("vm_name")?,
            vmss_name: get("vmss_name")?,
            resource_id: get("resource_id")?,
        })
    }
}

/// `^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$`
pub fn valid_subscription_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `^[-_.()\pL\pN]*[-_()\pL\pN]$`: Unicode letters and digits allowed; no trailing `.`.
pub fn valid_resource_group_name(s: &str) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    let allowed = |c: char| {
        matches!(c, '-' | '_' | '(' | ')')
            || matches!(
                c.general_category_group(),
                GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
            )
    };
    let mut chars = s.chars().rev();
    match chars.next() {
        Some(last) if allowed(last) => chars.all(|c| c == '.' || allowed(c)),
        _ => false,
    }
}

/// `^[a-zA-Z]$|^[a-zA-Z][a-zA-Z0-9.\-_]*[a-zA-Z0-9_]$` (used for `vmss_name` and `vm_name`).
pub fn valid_compute_name(s: &str) -> bool {
    let b = s.as_bytes();
    match b {
        [] => false,
        [only] => only.is_ascii_alphabetic(),
        [first, middle @ .., last] => {
            first.is_ascii_alphabetic()
                && middle
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
                && (last.is_ascii_alphanumeric() || *last == b'_')
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_ids() {
        assert!(valid_subscription_id(
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        ));
        assert!(valid_subscription_id(
            "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"
        ));
        assert!(!valid_subscription_id("0f1e2d3c4b5a697887969a5b4c3d2e1f0"));
        assert!(!valid_subscription_id(
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg"
        ));
    }

    #[test]
    fn resource_group_names() {
        for ok in ["rg", "rg-web_1", "(rg)", "rg.x", "группа", "rg٣"] {
            assert!(valid_resource_group_name(ok), "{ok}");
        }
        for bad in ["", "rg.", "rg web", "rg/x", "."] {
            assert!(!valid_resource_group_name(bad), "{bad}");
        }
    }

    #[test]
    fn compute_names() {
        for ok in ["a", "web-01", "web_", "a.b-c_d"] {
            assert!(valid_compute_name(ok), "{ok}");
        }
        for bad in ["", "1web", "web-", "web.", "we b", "_a"] {
            assert!(!valid_compute_name(bad), "{bad}");
        }
    }
}
