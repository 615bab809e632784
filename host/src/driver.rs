//! Runs a [`LoginFlow`] to its decision, doing the I/O it asks for.
//!
//! Keys come from a [`KeyCache`] (live) or are given; ARM facts come from an [`ArmClient`]
//! (live) or a snapshot (path → answer, absent = 404, as in the `evaluate` contract).

use std::collections::BTreeMap;

use aadauth::{
    ArmAnswer, ArmRequest, KeyFetchError, KeySet, LoginContext, LoginFlow, Output, Step,
};

use crate::arm::ArmClient;
use crate::keys::KeyCache;

/// Where the signing keys come from.
pub enum KeySource<'a> {
    /// The tenant's keys, discovered and cached; re-fetched when no cached key verifies.
    Live(&'a KeyCache),
    /// A key set given up front (what the key endpoint serves, or why it failed).
    Fixed(Result<KeySet, KeyFetchError>),
}

/// Where ARM facts come from.
pub enum ArmSource<'a> {
    Live(&'a ArmClient),
    /// Path (any case) → answer; a path that is absent answered 404.
    Snapshot(&'a BTreeMap<String, ArmAnswer>),
}

/// What a driven login did besides deciding.
#[derive(Debug, Clone)]
pub struct Decision {
    pub output: Output,
    /// Key sets fetched for this login (0 when cached keys verified the token).
    pub key_fetches: u32,
    /// The ARM reads made, with their answers, in order.
    pub arm_reads: Vec<(ArmRequest, ArmAnswer)>,
}

/// The flow stops asking long before this; a bound keeps a bug from looping forever.
const MAX_STEPS: usize = 256;

/// Decides a login. `explore` keeps asking for facts after the first failure, so that every
/// check is evaluated (for explanations); a gateway leaves it off.
pub fn decide(
    ctx: LoginContext,
    keys: &KeySource<'_>,
    arm: &ArmSource<'_>,
    explore: bool,
) -> Decision {
    let mut flow = LoginFlow::new(ctx);
    if explore {
        flow = flow.explore();
    }
    // The attempt of the cached keys given to the flow; `None`: the cache was cold, so the
    // first request for keys is the (only) fetch, as go-oidc does on first use.
    let mut seen: Option<u64> = None;
    if let KeySource::Live(cache) = keys {
        if let Some(f) = cache.fresh() {
            seen = Some(f.attempt);
            flow = flow.with_cached_keys(f.keys);
        }
    }
    let mut key_fetches = 0;
    let mut arm_reads = Vec::new();
    for _ in 0..MAX_STEPS {
        match flow.next() {
            Step::Done(out) => {
                return Decision {
                    output: *out,
                    key_fetches,
                    arm_reads,
                }
            }
            Step::NeedKeys => {
                let fetched = match keys {
                    KeySource::Fixed(k) => k.clone(),
                    KeySource::Live(cache) => {
                        key_fetches += 1;
                        match seen {
                            Some(s) => cache.refetch(s).map(|f| f.keys),
                            None => cache.current().map(|f| f.keys),
                        }
                    }
                };
                flow.provide_keys(fetched);
            }
            Step::NeedArm(reqs) => {
                for r in reqs {
                    let answer = match arm {
                        ArmSource::Live(client) => client.read(&r),
                        ArmSource::Snapshot(map) => map
                            .get(&r.path.to_lowercase())
                            .or_else(|| map.get(&r.path))
                            .or_else(|| {
                                map.iter()
                                    .find(|(k, _)| k.eq_ignore_ascii_case(&r.path))
                                    .map(|(_, v)| v)
                            })
                            .cloned()
                            .unwrap_or(ArmAnswer::NotFound),
                    };
                    flow.provide_arm(&r.path, answer.clone());
                    arm_reads.push((r, answer));
                }
            }
        }
    }
    Decision {
        output: Output {
            allowed: false,
            status: 500,
            error: Some("internal error: the login flow did not settle".into()),
            auth: None,
            checks: Vec::new(),
            claims: None,
            arm_requests: Vec::new(),
            profile: "vault".into(),
            decode_only: false,
        },
        key_fetches,
        arm_reads,
    }
}
