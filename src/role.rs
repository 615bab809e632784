//! A Vault Azure role (`vault write auth/azure/role/NAME`): its bindings and token fields.
//!
//! See `spec/vault-azure-login.md` §2. Parsing accepts arrays or comma strings, durations
//! as seconds or Go durations, deprecated aliases, and the `vault read -format=json`
//! wrapper. [`Role::write_error`] gives the message `vault write` would answer (status 400)
//! for a role Vault refuses to store.

use crate::json::{Json, JsonObject};
use serde::Serialize;

use crate::fields::{self, FieldError};

/// A role as Vault stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Role {
    /// Lower-cased, as Vault stores role names.
    pub name: String,
    pub bound_service_principal_ids: Vec<String>,
    pub bound_group_ids: Vec<String>,
    pub bound_subscription_ids: Vec<String>,
    pub bound_resource_groups: Vec<String>,
    pub bound_locations: Vec<String>,
    pub bound_scale_sets: Vec<String>,
    pub token: TokenFields,
    /// Fields Vault would ignore with a warning ("unrecognized parameters").
    pub unknown_fields: Vec<String>,
    /// Set when `vault write` would refuse this role; see [`Role::write_error`].
    #[serde(skip)]
    write_error: Option<String>,
}

/// Vault's common token parameters (tokenutil), in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenFields {
    pub policies: Vec<String>,
    pub ttl: i64,
    pub max_ttl: i64,
    pub explicit_max_ttl: i64,
    pub period: i64,
    pub num_uses: i64,
    pub no_default_policy: bool,
    pub bound_cidrs: Vec<String>,
    pub token_type: String,
}

impl Default for TokenFields {
    fn default() -> Self {
        TokenFields {
            policies: Vec::new(),
            ttl: 0,
            max_ttl: 0,
            explicit_max_ttl: 0,
            period: 0,
            num_uses: 0,
            no_default_policy: false,
            bound_cidrs: Vec::new(),
            token_type: "default-service".to_string(),
        }
    }
}

const BINDINGS: &[&str] = &[
    "bound_service_principal_ids",
    "bound_group_ids",
    "bound_subscription_ids",
    "bound_resource_groups",
    "bound_locations",
    "bound_scale_sets",
];

const TOKEN_FIELDS: &[&str] = &[
    "token_policies",
    "token_ttl",
    "token_max_ttl",
    "token_explicit_max_ttl",
    "token_period",
    "token_num_uses",
    "token_no_default_policy",
    "token_bound_cidrs",
    "token_type",
];

const LEGACY: &[&str] = &["policies", "ttl", "max_ttl", "period", "num_uses"];

/// Members of `vault read` output that are not write fields but are harmless.
const READ_ONLY: &[&str] = &["name", "bound_resource_group", "bound_subscription_id"];

impl Role {
    /// Reads a role from its write body or from `vault read -format=json` output.
    /// `fallback_name` is used when the document carries no `name`.
    /// (A `serde_json::Value`, or any [`Json`] tree.)
    pub fn from_json<J: Json>(v: &J, fallback_name: &str) -> Result<Role, FieldError> {
        let null = J::null();
        let obj = fields::unwrap_vault_read(v)
            .ok_or_else(|| FieldError::new("role", "expected a JSON object"))?;
        let get = |k: &str| obj.get(k).unwrap_or(&null);
        let has = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
        let list = |k: &str| fields::string_list(k, get(k)).map_err(|e| e.under("role"));
        let dur = |k: &str| fields::duration(k, get(k)).map_err(|e| e.under("role"));

        let name = match obj.get("name") {
            Some(n) if n.as_str().is_some_and(|s| !s.trim().is_empty()) => {
                n.as_str().unwrap_or_default().trim().to_lowercase()
            }
            _ => fallback_name.trim().to_lowercase(),
        };

        let mut token = TokenFields {
            policies: list("token_policies")?,
            ttl: dur("token_ttl")?,
            max_ttl: dur("token_max_ttl")?,
            explicit_max_ttl: dur("token_explicit_max_ttl")?,
            period: dur("token_period")?,
            num_uses: fields::int("role.token_num_uses", get("token_num_uses"))?,
            no_default_policy: fields::boolean(
                "role.token_no_default_policy",
                get("token_no_default_policy"),
            )?,
            bound_cidrs: list("token_bound_cidrs")?,
            token_type: match fields::string("role.token_type", get("token_type"))?.as_str() {
                "" => "default-service".to_string(),
                t => t.to_string(),
            },
        };

        // tokenutil.ParseTokenFields, in its order.
        let mut write_error = token_field_error(&token);

        // Deprecated aliases apply only where the token_* field is absent.
        if !has("token_policies") && has("policies") {
            token.policies = list("policies")?;
        }
        if !has("token_ttl") && has("ttl") {
            token.ttl = dur("ttl")?;
        }
        if !has("token_max_ttl") && has("max_ttl") {
            token.max_ttl = dur("max_ttl")?;
        }
        if !has("token_period") && has("period") {
            token.period = dur("period")?;
        }
        if !has("token_num_uses") && has("num_uses") {
            token.num_uses = fields::int("role.num_uses", get("num_uses"))?;
        }

        let role = Role {
            name,
            bound_service_principal_ids: list("bound_service_principal_ids")?,
            bound_group_ids: list("bound_group_ids")?,
            bound_subscription_ids: list("bound_subscription_ids")?,
            bound_resource_groups: list("bound_resource_groups")?,
            bound_locations: list("bound_locations")?,
            bound_scale_sets: list("bound_scale_sets")?,
            token,
            unknown_fields: {
                let mut u: Vec<String> = obj
                    .keys()
                    .filter(|k| {
                        !BINDINGS.contains(k)
                            && !TOKEN_FIELDS.contains(k)
                            && !LEGACY.contains(k)
                            && !READ_ONLY.contains(k)
                    })
                    .map(str::to_string)
                    .collect();
                u.sort();
                u
            },
            write_error: None,
        };

        if write_error.is_none() {
            write_error = role.role_rule_error();
        }
        Ok(Role {
            write_error,
            ..role
        })
    }

    /// The message `vault write auth/azure/role/NAME` answers with status 400 for this role,
    /// or `None` when Vault would store it.
    pub fn write_error(&self) -> Option<&str> {
        self.write_error.as_deref()
    }

    /// The azure plugin's own write checks, after tokenutil's.
    fn role_rule_error(&self) -> Option<String> {
        if self.token.num_uses < 0 {
            return Some("token num uses cannot be negative".into());
        }
        if self.has_no_bindings() {
            return Some(
                "must have at least one bound constraint when creating/updating a role".into(),
            );
        }
        if self.token.max_ttl > 0 && self.token.ttl > self.token.max_ttl {
            return Some("ttl should not be greater than max_ttl".into());
        }
        None
    }

    fn has_no_bindings(&self) -> bool {
        self.bound_service_principal_ids.is_empty()
            && self.bound_group_ids.is_empty()
            && self.bound_subscription_ids.is_empty()
            && self.bound_resource_groups.is_empty()
            && self.bound_locations.is_empty()
            && self.bound_scale_sets.is_empty()
    }

    /// True when the role has any of the four resource bindings (§3.4 runs only then).
    pub fn has_resource_bindings(&self) -> bool {
        !(self.bound_resource_groups.is_empty()
            && self.bound_subscription_ids.is_empty()
            && self.bound_locations.is_empty()
            && self.bound_scale_sets.is_empty())
    }
}

fn token_field_error(t: &TokenFields) -> Option<String> {
    if t.ttl < 0 {
        return Some("'token_ttl' cannot be negative".into());
    }
    if t.max_ttl < 0 {
        return Some("'token_max_ttl' cannot be negative".into());
    }
    if t.ttl > 0 && t.max_ttl > 0 && t.ttl > t.max_ttl {
        return Some("'token_ttl' cannot be greater than 'token_max_ttl'".into());
    }
    if t.explicit_max_ttl < 0 {
        return Some("'token_explicit_max_ttl' cannot be negative".into());
    }
    if t.period < 0 {
        return Some("'token_period' cannot be negative".into());
    }
    if !matches!(
        t.token_type.as_str(),
        "default-service" | "service" | "batch" | "default" | "default-batch"
    ) {
        return Some(format!(
            "invalid 'token_type' value {}",
            crate::gocompat::quote(&t.token_type)
        ));
    }
    for cidr in &t.bound_cidrs {
        if crate::cidr::Cidr::parse(cidr).is_none() {
            return Some(format!(
                "invalid 'token_bound_cidrs' value {}",
                crate::gocompat::quote(cidr)
            ));
        }
    }
    None
}

/// True when `list` is exactly `["*"]`.
pub fn is_wildcard(list: &[String]) -> bool {
    list.len() == 1 && list[0] == "*"
}

/// Vault's `strListContains`: case-insensitive membership (`strings.EqualFold`).
pub fn contains_fold(list: &[String], value: &str) -> bool {
    list.iter().any(|item| eq_fold(item, value))
}

/// Unicode simple case folding, as Go's `strings.EqualFold`.
pub fn eq_fold(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).all(|(x, y)| {
            x == y || x.to_lowercase().eq(y.to_lowercase()) || x.to_uppercase().eq(y.to_uppercase())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn write_error(v: Value) -> Option<String> {
        Role::from_json(&v, "r")
            .unwrap()
            .write_error()
            .map(str::to_string)
    }

    #[test]
    fn role_write_rules_in_vault_order() {
        let cases = [
            (
                json!({"token_ttl": -1, "bound_group_ids": "g"}),
                Some("'token_ttl' cannot be negative"),
            ),
            (
                json!({"token_max_ttl": "-1s", "bound_group_ids": "g"}),
                Some("'token_max_ttl' cannot be negative"),
            ),
            (
                json!({"token_ttl": "2h", "token_max_ttl": "1h", "bound_group_ids": "g"}),
                Some("'token_ttl' cannot be greater than 'token_max_ttl'"),
            ),
            (
                json!({"token_period": -1, "bound_group_ids": "g"}),
                Some("'token_period' cannot be negative"),
            ),
            (
                json!({"token_type": "x", "bound_group_ids": "g"}),
                Some("invalid 'token_type' value \"x\""),
            ),
            (
                json!({"token_num_uses": -1, "bound_group_ids": "g"}),
                Some("token num uses cannot be negative"),
            ),
            (
                json!({"token_policies": "p"}),
                Some("must have at least one bound constraint when creating/updating a role"),
            ),
            (
                json!({"ttl": "2h", "max_ttl": "1h", "bound_group_ids": "g"}),
                Some("ttl should not be greater than max_ttl"),
            ),
            (json!({"bound_group_ids": "g"}), None),
        ];
        for (body, want) in cases {
            assert_eq!(write_error(body.clone()).as_deref(), want, "{body}");
        }
    }

    #[test]
    fn legacy_aliases_and_read_wrapper() {
        let r = Role::from_json(
            &json!({"data": {"policies": ["a", "b"], "ttl": 60, "bound_group_ids": null, "bound_locations": ["eastus"]}, "request_id": "x"}),
            "Web",
        )
        .unwrap();
        assert_eq!(r.name, "web");
        assert_eq!(r.token.policies, vec!["a", "b"]);
        assert_eq!(r.token.ttl, 60);
        assert!(r.write_error().is_none());
    }

    #[test]
    fn fold() {
        assert!(contains_fold(&["RG-Web".into()], "rg-web"));
        assert!(!contains_fold(&["rg".into()], "rg-web"));
        assert!(eq_fold("ÉTÉ", "été"));
    }
}
