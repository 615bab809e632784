//! The auth method's configuration (`vault write auth/azure/config`).
//!
//! See `spec/vault-azure-login.md` §1. Missing `tenant_id` / `resource` and an unknown
//! `environment` are not input errors: Vault accepts such a config and fails at login with
//! status 500, so they surface as login checks (`config.*`).

use crate::json::{Json, JsonObject};
use serde::Serialize;

use crate::fields::{self, FieldError};

/// The fields of `auth/azure/config` that matter to aadauth.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Config {
    pub tenant_id: String,
    pub resource: String,
    /// As written; checked at login (`config.environment`).
    pub environment: String,
    /// Used by the native ARM adapter only; never echoed in outputs.
    #[serde(skip)]
    pub client_id: String,
    #[serde(skip)]
    pub client_secret: String,
    pub max_retries: i64,
    pub retry_delay: i64,
    pub max_retry_delay: i64,
    pub root_password_ttl: i64,
    /// Fields Vault would ignore (and warn about), e.g. a misspelt `tenantid`.
    pub unknown_fields: Vec<String>,
}

const KNOWN: &[&str] = &[
    "tenant_id",
    "resource",
    "environment",
    "client_id",
    "client_secret",
    "max_retries",
    "retry_delay",
    "max_retry_delay",
    "root_password_ttl",
    "identity_token_audience",
    "identity_token_ttl",
    "rotation_period",
    "rotation_schedule",
    "rotation_window",
    "disable_automated_rotation",
];

impl Config {
    /// Reads the write body or `vault read -format=json auth/azure/config` output.
    /// Reads the config from its write body or `vault read -format=json` output (a
    /// `serde_json::Value`, or any [`Json`] tree).
    pub fn from_json<J: Json>(v: &J) -> Result<Config, FieldError> {
        let null = J::null();
        let obj = fields::unwrap_vault_read(v)
            .ok_or_else(|| FieldError::new("config", "expected a JSON object"))?;
        let get = |k: &str| obj.get(k).unwrap_or(&null);
        let dur_or = |k: &str, default: i64| -> Result<i64, FieldError> {
            match obj.get(k) {
                Some(v) if !v.is_null() => fields::duration(&format!("config.{k}"), v),
                _ => Ok(default),
            }
        };
        let max_retries = match obj.get("max_retries") {
            Some(v) if !v.is_null() => fields::int("config.max_retries", v)?,
            _ => 3,
        };
        let mut unknown: Vec<String> = obj
            .keys()
            .filter(|k| !KNOWN.contains(k))
            .map(str::to_string)
            .collect();
        unknown.sort();
        Ok(Config {
            tenant_id: fields::string("config.tenant_id", get("tenant_id"))?
                .trim()
                .to_string(),
            resource: fields::string("config.resource", get("resource"))?,
            environment: fields::string("config.environment", get("environment"))?,
            client_id: fields::string("config.client_id", get("client_id"))?,
            client_secret: fields::string("config.client_secret", get("client_secret"))?,
            max_retries,
            retry_delay: dur_or("retry_delay", 4)?,
            max_retry_delay: dur_or("max_retry_delay", 60)?,
            root_password_ttl: dur_or("root_password_ttl", 15_768_000)?,
            unknown_fields: unknown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_and_wrapper() {
        let c = Config::from_json(
            &json!({"data": {"tenant_id": "t", "resource": "r"}, "request_id": "1"}),
        )
        .unwrap();
        assert_eq!(c.tenant_id, "t");
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.retry_delay, 4);
        assert_eq!(c.max_retry_delay, 60);
        let c = Config::from_json(&json!({"tenantid": "t", "retry_delay": "10s"})).unwrap();
        assert_eq!(c.unknown_fields, vec!["tenantid"]);
        assert_eq!(c.retry_delay, 10);
        assert!(Config::from_json(&json!([1])).is_err());
    }
}
