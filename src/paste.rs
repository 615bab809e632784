//! What users paste: `az vm show` / `az vmss show` / `az identity show|list` output, IMDS
//! instance metadata, and the `vault write auth/azure/login …` command that matches a login.
//!
//! These turn clipboard contents into the `evaluate` contract's members, so that every
//! front end (page, CLI, bindings) reads them the same way (`spec/azure-identity-facts.md`,
//! "ARM shapes" and "Instance Metadata Service").

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::resources::{self, ResourceId};

/// Parses one or more JSON documents pasted one after another.
fn documents(text: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    for (i, doc) in stream.enumerate() {
        out.push(doc.map_err(|e| format!("document {}: not valid JSON: {e}", i + 1))?);
    }
    if out.is_empty() {
        return Err("nothing pasted".into());
    }
    Ok(out)
}

/// Builds the `arm` snapshot from pasted ARM / Azure CLI output: single resources (mapped
/// by their `id`), lists (`az identity list`, `{"value": [...]}` — identities also fill the
/// per-resource-group list Vault reads for app-id matching), or an existing snapshot map
/// (path → body). Several documents may be pasted one after another.
pub fn arm_from_pasted(text: &str) -> Result<BTreeMap<String, Value>, String> {
    let mut snapshot = BTreeMap::new();
    let mut lists: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for doc in documents(text)? {
        let items: Vec<Value> = match doc {
            Value::Array(items) => items,
            Value::Object(ref o)
                if o.get("value").is_some_and(Value::is_array) && o.get("id").is_none() =>
            {
                o.get("value")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            }
            Value::Object(ref o)
                if o.get("id").is_none()
                    && !o.is_empty()
                    && o.keys().all(|k| k.starts_with('/')) =>
            {
                for (k, v) in o {
                    snapshot.insert(k.clone(), v.clone());
                }
                continue;
            }
            other => vec![other],
        };
        for item in items {
            let Some(id) = item.get("id").and_then(Value::as_str) else {
                return Err("a pasted resource has no \"id\" (expected `az vm show -o json`, `az vmss show`, `az identity show` or `az identity list` output)".into());
            };
            let parsed = ResourceId::parse(id).map_err(|e| format!("{id}: {e}"))?;
            let path = parsed.path();
            if parsed
                .provider
                .eq_ignore_ascii_case("Microsoft.ManagedIdentity")
                && parsed
                    .resource_type
                    .eq_ignore_ascii_case("userAssignedIdentities")
            {
                let list =
                    resources::identity_list_path(&parsed.subscription_id, &parsed.resource_group);
                let entry = lists.entry(list).or_default();
                if !entry.iter().any(|e| e.get("id") == item.get("id")) {
                    entry.push(identity_for_list(&item));
                }
            }
            snapshot.insert(path, normalise(item));
        }
    }
    for (path, items) in lists {
        snapshot
            .entry(path)
            .or_insert_with(|| json!({ "value": items }));
    }
    Ok(snapshot)
}

/// `az identity show` prints `principalId` / `clientId` at the top level; ARM nests them
/// under `properties`. Accept both.
fn normalise(mut item: Value) -> Value {
    if let Value::Object(o) = &mut item {
        if !o.contains_key("properties")
            && (o.contains_key("principalId") || o.contains_key("clientId"))
        {
            let mut props = Map::new();
            for k in ["principalId", "clientId", "tenantId"] {
                if let Some(v) = o.get(k) {
                    props.insert(k.to_string(), v.clone());
                }
            }
            o.insert("properties".into(), Value::Object(props));
        }
    }
    item
}

fn identity_for_list(item: &Value) -> Value {
    normalise(item.clone())
}

/// The login fields Vault's own client (`vault login -method=azure`) sends, from the IMDS
/// instance metadata (`/metadata/instance`): subscription, resource group, VM name and
/// scale-set name.
pub fn login_from_imds(text: &str) -> Result<Value, String> {
    let doc: Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("not valid JSON: {e}"))?;
    let compute = doc.get("compute").unwrap_or(&doc);
    let s = |k: &str| {
        compute
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    if s("subscriptionId").is_empty() && s("resourceGroupName").is_empty() {
        return Err("no compute.subscriptionId / compute.resourceGroupName: expected the IMDS instance metadata (GET /metadata/instance?api-version=2021-02-01)".into());
    }
    let mut login = json!({
        "subscription_id": s("subscriptionId"),
        "resource_group_name": s("resourceGroupName"),
        "vm_name": s("name"),
    });
    if !s("vmScaleSetName").is_empty() {
        login["vmss_name"] = json!(s("vmScaleSetName"));
    }
    Ok(login)
}

/// The `vault write auth/<mount>/login …` command for a login, with the JWT redacted.
pub fn vault_login_command(login: &Value, mount: &str) -> String {
    let mut parts = vec![format!(
        "vault write auth/{}/login",
        mount.trim_matches('/')
    )];
    for k in [
        "role",
        "jwt",
        "subscription_id",
        "resource_group_name",
        "vm_name",
        "vmss_name",
        "resource_id",
    ] {
        let v = login.get(k).and_then(Value::as_str).unwrap_or("");
        if v.is_empty() {
            continue;
        }
        let v = if k == "jwt" {
            "\"$JWT\"".to_string()
        } else {
            shell_quote(v)
        };
        parts.push(format!("{k}={v}"));
    }
    parts.join(" \\\n    ")
}

fn shell_quote(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
    {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn az_outputs_map_by_id() {
        let vm = r#"{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", "location": "eastus", "identity": {"principalId": "p"}}"#;
        let ids = r#"[{"id": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a", "clientId": "c", "principalId": "p2"}]"#;
        let snap = arm_from_pasted(&format!("{vm}\n{ids}")).unwrap();
        assert!(snap.contains_key(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
        ));
        let list = &snap["/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities"];
        assert_eq!(list["value"][0]["properties"]["clientId"], "c");
        assert!(arm_from_pasted("{}").is_err());
        assert!(arm_from_pasted("nope").is_err());
    }

    #[test]
    fn imds_metadata_fills_login() {
        let l = login_from_imds(r#"{"compute": {"subscriptionId": "s", "resourceGroupName": "rg", "name": "api_1a2b3c4d", "vmScaleSetName": "api"}}"#).unwrap();
        assert_eq!(l["vmss_name"], "api");
        assert!(login_from_imds("{}").is_err());
    }

    #[test]
    fn command_redacts_jwt() {
        let c = vault_login_command(
            &json!({"role": "web", "jwt": "eyJsecret", "vm_name": "a b"}),
            "azure",
        );
        assert!(c.contains("jwt=\"$JWT\""));
        assert!(!c.contains("eyJsecret"));
        assert!(c.contains("vm_name='a b'"));
    }
}
