//! Azure resources: resource ids, `xms_mirid` / `xms_az_rid` claim matching, and what
//! Azure Resource Manager answers (identities, locations, errors).
//!
//! See `spec/vault-azure-login.md` §3.4 and `spec/azure-identity-facts.md`.

use serde::Serialize;
use serde_json::Value;

/// A parsed ARM resource id: `/subscriptions/{s}/resourceGroups/{rg}/providers/{ns}/{type}/{name}`
/// (nested types allowed: `.../{type}/{name}/{subtype}/{subname}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceId {
    pub subscription_id: String,
    pub resource_group: String,
    /// `Microsoft.Compute`
    pub provider: String,
    /// `virtualMachines`, or `virtualMachineScaleSets/virtualMachines` for nested types.
    pub resource_type: String,
    pub name: String,
}

impl ResourceId {
    /// Parses a resource id; segment names are case-insensitive, values kept as written.
    pub fn parse(id: &str) -> Result<ResourceId, String> {
        if id.is_empty() {
            return Err("invalid resource ID: id cannot be empty".into());
        }
        if !id.starts_with('/') {
            return Err(format!(
                "invalid resource ID: resource id '{id}' must start with '/'"
            ));
        }
        let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
        let bad = || format!("invalid resource ID: {id}");
        if parts.len() < 8 || parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        if !parts[0].eq_ignore_ascii_case("subscriptions")
            || !parts[2].eq_ignore_ascii_case("resourcegroups")
            || !parts[4].eq_ignore_ascii_case("providers")
        {
            return Err(bad());
        }
        let rest = &parts[6..];
        if !rest.len().is_multiple_of(2) {
            return Err(bad());
        }
        let types: Vec<&str> = rest.iter().step_by(2).copied().collect();
        Ok(ResourceId {
            subscription_id: parts[1].to_string(),
            resource_group: parts[3].to_string(),
            provider: parts[5].to_string(),
            resource_type: types.join("/"),
            name: rest[rest.len() - 1].to_string(),
        })
    }

    /// The id in canonical form (`resourceGroups` spelled as ARM does).
    pub fn path(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/{}/{}/{}",
            self.subscription_id, self.resource_group, self.provider, self.resource_type, self.name
        )
    }
}

/// The parts of an `xms_mirid` / `xms_az_rid`, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedIdentityPath {
    pub subscription_id: String,
    pub resource_group: String,
    pub provider: String,
    pub resource_type: String,
    pub name: String,
    /// What kind of workload the path names.
    pub kind: &'static str,
    /// For flexible scale-set instances (`{vmss}_{8 hex}`), the scale set's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_set: Option<String>,
}

/// Splits an `xms_mirid` or `xms_az_rid` claim.
pub fn split_claim(path: &str) -> Option<ManagedIdentityPath> {
    let id = ResourceId::parse(path).ok()?;
    let t = id.resource_type.to_ascii_lowercase();
    let p = id.provider.to_ascii_lowercase();
    let kind = match (p.as_str(), t.as_str()) {
        ("microsoft.compute", "virtualmachines") => "virtual machine",
        ("microsoft.compute", "virtualmachinescalesets") => "scale set (uniform orchestration)",
        ("microsoft.compute", "virtualmachinescalesets/virtualmachines") => "scale set instance",
        ("microsoft.managedidentity", "userassignedidentities") => "user-assigned identity",
        ("microsoft.web", "sites") => "App Service / Functions app",
        ("microsoft.hybridcompute", "machines") => "Arc-enabled machine",
        _ => "Azure resource",
    };
    let scale_set = if t == "virtualmachines" {
        flexible_scale_set(&id.name)
    } else if t == "virtualmachinescalesets" {
        Some(id.name.clone())
    } else {
        None
    };
    Some(ManagedIdentityPath {
        subscription_id: id.subscription_id,
        resource_group: id.resource_group,
        provider: id.provider,
        resource_type: id.resource_type,
        name: id.name,
        kind,
        scale_set,
    })
}

/// Flexible scale-set instances are named `{vmss}_{8 hex digits}`.
fn flexible_scale_set(name: &str) -> Option<String> {
    let (vmss, suffix) = name.rsplit_once('_')?;
    (suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_hexdigit()) && !vmss.is_empty())
        .then(|| vmss.to_string())
}

/// `strings.Contains(strings.ToLower(s), strings.ToLower(sub))`, Vault's claim matching
/// (`spec/vault-azure-login.md` §3.4). Azure resource paths are ASCII, where lower-casing
/// is byte by byte, so the common case compares in place: a login makes about six of these
/// comparisons, and lower-cased copies were about 2% of its allocations.
pub fn contains_fold(s: &str, sub: &str) -> bool {
    if s.is_ascii() && sub.is_ascii() {
        return find_ascii_fold(s.as_bytes(), sub.as_bytes(), 0).is_some();
    }
    s.to_lowercase().contains(&sub.to_lowercase())
}

/// The first `i >= from` where `needle` occurs in `hay`, ignoring ASCII case. Candidates
/// are found by the first byte alone (the patterns start with a `/` or a name), so the
/// full comparison runs only a few times.
fn find_ascii_fold(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let last = hay.len().checked_sub(needle.len())?;
    let Some((first, rest)) = needle.split_first() else {
        return (from <= last).then_some(from);
    };
    let first = first.to_ascii_lowercase();
    let candidates = hay.get(from..=last)?;
    candidates
        .iter()
        .enumerate()
        .filter(|(_, b)| b.to_ascii_lowercase() == first)
        .map(|(k, _)| from + k)
        .find(|&i| {
            hay.get(i + 1..i + needle.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(rest))
        })
}

/// Vault's claim matching: `pattern` as a case-insensitive substring of `xms_az_rid` (when
/// present) or of `xms_mirid`. `Err` is Vault's message for `field value`.
pub fn claim_match(
    az_rid: &str,
    mirid: &str,
    pattern: &str,
    field: &str,
    value: &str,
) -> Result<(), String> {
    if az_rid.is_empty() && mirid.is_empty() {
        return Err("xms_az_rid and xms_mirid claims are missing from token".into());
    }
    if !az_rid.is_empty() && contains_fold(az_rid, pattern) {
        return Ok(());
    }
    if !mirid.is_empty() && contains_fold(mirid, pattern) {
        return Ok(());
    }
    let mut lines = Vec::new();
    if !az_rid.is_empty() {
        lines.push(format!(
            "xms_az_rid token claim does not match {field} {value}"
        ));
    }
    lines.push(format!(
        "xms_mirid token claim does not match {field} {value}"
    ));
    Err(lines.join("\n"))
}

/// True when `pattern` matches only as a substring that does not end at a path-segment
/// boundary (`vm1` inside `/virtualMachines/vm10`): Vault's substring quirk, worth a word.
pub fn matches_only_by_substring(claim: &str, pattern: &str) -> bool {
    if claim.is_ascii() && pattern.is_ascii() {
        // The same walk over the same non-overlapping matches, on the bytes.
        let (c, p) = (claim.as_bytes(), pattern.as_bytes());
        if p.is_empty() {
            return false; // "" matches at the very end
        }
        let mut found = false;
        let mut at = 0;
        while let Some(i) = find_ascii_fold(c, p, at) {
            found = true;
            let end = i + p.len();
            if end == c.len() || c[end] == b'/' || p.ends_with(b"_") {
                return false;
            }
            at = end;
        }
        return found;
    }
    matches_only_by_substring_reference(claim, pattern)
}

/// [`matches_only_by_substring`] on lower-cased copies, as Vault's Go reads: the path for
/// non-ASCII text, and what the property tests hold the in-place ASCII path to.
#[doc(hidden)]
pub fn matches_only_by_substring_reference(claim: &str, pattern: &str) -> bool {
    let c = claim.to_lowercase();
    let p = pattern.to_lowercase();
    if !c.contains(&p) {
        return false;
    }
    !c.match_indices(&p).any(|(i, _)| {
        let end = i + p.len();
        end == c.len() || c[end..].starts_with('/') || p.ends_with('_')
    })
}

/// What ARM answered for one read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ArmAnswer {
    /// 200 with this body.
    Found { body: Value },
    /// 404.
    NotFound,
    /// Any other failure (HTTP status and error body, or a transport error with status 0).
    Failed {
        status: u16,
        code: String,
        message: String,
    },
}

impl ArmAnswer {
    /// Reads a snapshot value: a GET body, or `{"error": {"code", "message"}, "status": N}`
    /// for an ARM error.
    pub fn from_snapshot(v: &Value) -> ArmAnswer {
        ArmAnswer::error_of_snapshot(v).unwrap_or_else(|| ArmAnswer::Found { body: v.clone() })
    }

    /// [`ArmAnswer::from_snapshot`] taking the value: a found body is kept, not copied.
    pub fn from_snapshot_value(v: Value) -> ArmAnswer {
        ArmAnswer::error_of_snapshot(&v).unwrap_or(ArmAnswer::Found { body: v })
    }

    /// The answer a snapshot value describes when it is an ARM error.
    fn error_of_snapshot(v: &Value) -> Option<ArmAnswer> {
        if let Some(err) = v.get("error").filter(|e| e.is_object()) {
            let status = v
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(500);
            if status == 404 {
                return Some(ArmAnswer::NotFound);
            }
            return Some(ArmAnswer::Failed {
                status,
                code: err
                    .get("code")
                    .and_then(Value::as_str)
                    .unwrap_or("InternalServerError")
                    .to_string(),
                message: err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            });
        }
        None
    }
}

/// The error text azure-sdk-for-go's `ResponseError` prints, which Vault wraps
/// (`unable to retrieve virtual machine metadata: <this>`).
pub fn azure_error(
    arm_endpoint: &str,
    path: &str,
    status: u16,
    code: &str,
    message: &str,
) -> String {
    let rule = "-".repeat(80);
    let url = format!("{}{}", arm_endpoint.trim_end_matches('/'), path);
    if status == 0 {
        return format!("GET {url}: {message}");
    }
    let body = serde_json::json!({"error": {"code": code, "message": message}});
    let body = serde_json::to_string_pretty(&body).unwrap_or_default();
    format!(
        "GET {url}\n{rule}\nRESPONSE {status}: {}\nERROR CODE: {code}\n{rule}\n{body}\n{rule}\n",
        status_text(status)
    )
}

/// The Azure message for a 404 of `path`.
pub fn not_found_message(path: &str) -> (String, String) {
    match ResourceId::parse(path) {
        Ok(id) => (
            "ResourceNotFound".to_string(),
            format!(
                "The Resource '{}/{}/{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                id.provider, id.resource_type, id.name, id.resource_group
            ),
        ),
        Err(_) => (
            "ResourceGroupNotFound".to_string(),
            format!("Resource group for '{path}' could not be found."),
        ),
    }
}

fn status_text(status: u16) -> String {
    let text = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
    format!("{status} {text}").trim_end().to_string()
}

/// The `identity` member of a VM, scale set or generic resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub principal_id: Option<String>,
    /// User-assigned identities by resource id (sorted): their `principalId` if given.
    pub user_assigned: Vec<(String, Option<String>)>,
}

/// Reads `identity` from a GET body; `None` when the resource has no identity.
pub fn identity_of(body: &Value) -> Option<Identity> {
    let ident = body.get("identity").filter(|v| v.is_object())?;
    let principal_id = ident
        .get("principalId")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut user_assigned: Vec<(String, Option<String>)> = ident
        .get("userAssignedIdentities")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(id, v)| {
                    (
                        id.clone(),
                        v.get("principalId")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    user_assigned.sort();
    Some(Identity {
        principal_id,
        user_assigned,
    })
}

/// `location` of a GET body.
pub fn location_of(body: &Value) -> Option<String> {
    body.get("location")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `properties.principalId` of a user-assigned identity.
pub fn identity_principal_id(body: &Value) -> Option<String> {
    body.pointer("/properties/principalId")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `properties.clientId` of every identity in a list response (`{"value": [...]}`).
pub fn listed_client_ids(body: &Value) -> Vec<String> {
    body.get("value")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.pointer("/properties/clientId").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The ARM path that lists user-assigned identities in a resource group.
pub fn identity_list_path(subscription: &str, resource_group: &str) -> String {
    format!(
        "/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    )
}

pub fn vm_path(subscription: &str, resource_group: &str, vm: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Compute/virtualMachines/{vm}")
}

pub fn vmss_path(subscription: &str, resource_group: &str, vmss: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss}")
}

pub fn user_assigned_identity_path(subscription: &str, resource_group: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_ids() {
        let id = ResourceId::parse(
            "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/0",
        )
        .unwrap();
        assert_eq!(id.resource_type, "virtualMachineScaleSets/virtualMachines");
        assert_eq!(id.name, "0");
        assert!(ResourceId::parse("subscriptions/s").is_err());
        assert!(ResourceId::parse("/subscriptions/s/resourceGroups/rg").is_err());
    }

    #[test]
    fn claim_matching_is_a_substring() {
        let mirid =
            "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/vm10";
        assert!(claim_match("", mirid, "/virtualMachines/vm1", "vm_name", "vm1").is_ok());
        assert!(matches_only_by_substring(mirid, "/virtualMachines/vm1"));
        assert!(!matches_only_by_substring(mirid, "/virtualMachines/vm10"));
        assert_eq!(
            claim_match("x", mirid, "/virtualMachines/web", "vm_name", "web").unwrap_err(),
            "xms_az_rid token claim does not match vm_name web\nxms_mirid token claim does not match vm_name web"
        );
        assert_eq!(
            claim_match("", "", "/x", "vm_name", "x").unwrap_err(),
            "xms_az_rid and xms_mirid claims are missing from token"
        );
    }

    #[test]
    fn flexible_instances() {
        let p = split_claim("/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/web_1a2b3c4d").unwrap();
        assert_eq!(p.scale_set.as_deref(), Some("web"));
    }
}
