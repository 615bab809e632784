//! What a login decision looks like: the verdict as Vault answers it, every check with its
//! outcome, and on success the `auth` block (`spec/evaluate-contract.md`, "Output";
//! `spec/vault-azure-login.md` §4).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The check ran and passed.
    Pass,
    /// The check ran and failed (only the first failure decides the response).
    Fail,
    /// The check does not apply to this login.
    Skip,
    /// Vault stopped before this check; `detail` gives the would-be result where the input
    /// allows computing it.
    NotReached,
}

/// One check of `spec/vault-azure-login.md` §3, in Vault's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Stable, dotted, lower-case name, e.g. `token.audience`. Borrowed from the
    /// checks' static names when the core makes it (a login records about forty checks;
    /// copying each name was a tenth of its allocations), owned when deserialized.
    pub id: Cow<'static, str>,
    pub outcome: Outcome,
    /// What was compared, in words.
    pub detail: String,
    /// How to fix a failure, in one sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The `auth` block Vault returns on success (§4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    pub display_name: String,
    pub policies: Vec<String>,
    pub no_default_policy: bool,
    pub metadata: BTreeMap<String, String>,
    pub alias: Alias,
    pub group_aliases: Vec<GroupAlias>,
    pub internal_data: InternalData,
    pub ttl: i64,
    pub max_ttl: i64,
    pub explicit_max_ttl: i64,
    pub period: i64,
    pub num_uses: i64,
    pub bound_cidrs: Vec<String>,
    pub token_type: String,
    pub renewable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAlias {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalData {
    pub role: String,
}

/// The result of a login evaluation: the `evaluate` contract's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub allowed: bool,
    /// 200 on success, else the HTTP status Vault answers.
    pub status: u16,
    /// Vault's exact message; `None` on success.
    pub error: Option<String>,
    pub auth: Option<Auth>,
    pub checks: Vec<Check>,
    /// The decoded token payload, also when the signature fails; `None` when undecodable.
    pub claims: Option<Value>,
    /// The ARM paths the decision consulted, in order.
    pub arm_requests: Vec<String>,
    /// The profile that decided (`vault`).
    pub profile: String,
    /// True when the signature was deliberately not checked (decode-only mode): the
    /// verdict then holds only if the signature is valid.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decode_only: bool,
}

impl Output {
    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The first failing check (the one that decided a refusal).
    pub fn failed_check(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.outcome == Outcome::Fail)
    }
}
