//! What users paste, turned into `evaluate` input members by the core
//! ([`aadauth::paste`], [`aadauth::extract_jwt`]), for the role tester page:
//!
//! - `armFromPasted(text)`: `az vm show` / `az vmss show` / `az identity show|list` output
//!   (one or many documents) → the `arm` snapshot.
//! - `loginFromImds(text)`: the IMDS instance metadata → login fields.
//! - `vaultLoginCommand(login, mount?)`: the `vault write auth/<mount>/login …` command, JWT
//!   redacted.
//! - `extractJwt(text)`: the JWT in a raw token, `Bearer …`, an `Authorization:` line or the
//!   IMDS token response.
//! - `keysUrl(environment)`: the key endpoint Vault reads for a `config.environment`.
//!
//! As in the rest of the crate, the `*_text` functions are what the exports run and work
//! natively; failures are [`ApiError`]s (`input_invalid`, or `token_undecodable` for
//! `extractJwt`).

use aadauth::Cloud;
use wasm_bindgen::prelude::*;

use crate::{
    js_json_text, js_optional_string_arg, js_parse_json, parse_document, to_json, ApiError,
    ErrorCode, OptionalString,
};

/// `armFromPasted`: the `arm` snapshot (resource path → ARM body) as JSON text.
pub fn arm_from_pasted_text(text: &str) -> Result<String, ApiError> {
    let snapshot = aadauth::paste::arm_from_pasted(text).map_err(|e| ApiError::input("arm", e))?;
    to_json(&snapshot)
}

/// `loginFromImds`: the login fields Vault's client sends, as JSON text.
pub fn login_from_imds_text(text: &str) -> Result<String, ApiError> {
    let login = aadauth::paste::login_from_imds(text).map_err(|e| ApiError::input("imds", e))?;
    to_json(&login)
}

/// `vaultLoginCommand`: the command for a login given as JSON text. An empty mount means
/// `azure`.
pub fn vault_login_command_text(login: &[u8], mount: &str) -> Result<String, ApiError> {
    let doc = parse_document(login, "login")?;
    if !doc.is_object() {
        return Err(ApiError::input("login", "expected a JSON object"));
    }
    let mount = if mount.trim().trim_matches('/').is_empty() {
        "azure"
    } else {
        mount.trim()
    };
    Ok(aadauth::paste::vault_login_command(&doc, mount))
}

/// `extractJwt`: the JWT text.
pub fn extract_jwt_text(text: &str) -> Result<String, ApiError> {
    aadauth::extract_jwt(text).map_err(|e| ApiError {
        code: ErrorCode::TokenUndecodable,
        field: "jwt".into(),
        message: format!("jwt: {e}"),
    })
}

/// `keysUrl`: the v1 key set URL of the cloud `config.environment` names (Vault's message
/// when it names none).
pub fn keys_url_text(environment: &str) -> Result<String, ApiError> {
    Cloud::from_environment(environment)
        .map(Cloud::v1_keys_url)
        .map_err(|e| ApiError::input("config.environment", e))
}

fn js_string(value: &JsValue, field: &str) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| ApiError::input(field, "expected a string").into())
}

/// Builds the `arm` member of the `evaluate` input from pasted ARM / Azure CLI output:
/// `az vm show -o json`, `az vmss show`, `az identity show`, `az identity list` (identities
/// also fill the per-resource-group list Vault reads for app-id matching), or an existing
/// snapshot. Several JSON documents may be pasted one after another.
///
/// Throws an `AadauthError` with `code: "input_invalid"` and `field: "arm"` when the text
/// is not JSON or a resource has no parsable `id`.
#[wasm_bindgen(
    js_name = armFromPasted,
    unchecked_return_type = "{ [path: string]: ArmResponse }"
)]
pub fn arm_from_pasted(
    #[wasm_bindgen(
        unchecked_param_type = "string",
        param_description = "the pasted output, one or more JSON documents"
    )]
    text: JsValue,
) -> Result<JsValue, JsValue> {
    let text = js_string(&text, "arm")?;
    let out = arm_from_pasted_text(&text)?;
    js_parse_json(&out)
}

/// The login fields Vault's own client (`vault login -method=azure`) sends, from the
/// Instance Metadata Service's answer to `GET /metadata/instance`: `subscription_id`,
/// `resource_group_name`, `vm_name` and, in a scale set, `vmss_name`.
///
/// Throws an `AadauthError` with `code: "input_invalid"` and `field: "imds"` when the text
/// is not the instance metadata.
#[wasm_bindgen(js_name = loginFromImds, unchecked_return_type = "LoginInput")]
pub fn login_from_imds(
    #[wasm_bindgen(
        unchecked_param_type = "string",
        param_description = "the IMDS instance metadata JSON"
    )]
    text: JsValue,
) -> Result<JsValue, JsValue> {
    let text = js_string(&text, "imds")?;
    let out = login_from_imds_text(&text)?;
    js_parse_json(&out)
}

/// The `vault write auth/<mount>/login …` command for a login, one field per line, with the
/// JWT replaced by `"$JWT"`.
///
/// Throws an `AadauthError` with `code: "input_invalid"` and `field: "login"` when the
/// login is not a JSON object.
#[wasm_bindgen(js_name = vaultLoginCommand)]
pub fn vault_login_command(
    #[wasm_bindgen(
        unchecked_param_type = "LoginInput | string",
        param_description = "the login, as an object or as JSON text"
    )]
    login: JsValue,
    #[wasm_bindgen(param_description = "the auth method's mount path (default `azure`)")]
    mount: Option<OptionalString>,
) -> Result<String, JsValue> {
    let text = js_json_text(&login, "login")?;
    let mount = js_optional_string_arg(mount.as_ref().map(AsRef::as_ref), "mount")?;
    Ok(vault_login_command_text(
        text.as_bytes(),
        mount.as_deref().unwrap_or(""),
    )?)
}

/// The JWT in what users paste: a raw token, `Bearer <jwt>`, an `Authorization:` header
/// line, or the IMDS token response (`{"access_token": …}`). Decodes nothing.
///
/// Throws an `AadauthError` with `code: "token_undecodable"` and `field: "jwt"` when pasted
/// JSON is invalid or has no `access_token`.
#[wasm_bindgen(js_name = extractJwt)]
pub fn extract_jwt(
    #[wasm_bindgen(
        unchecked_param_type = "string",
        param_description = "the pasted token text"
    )]
    text: JsValue,
) -> Result<String, JsValue> {
    let text = js_string(&text, "jwt")?;
    Ok(extract_jwt_text(&text)?)
}

/// The key set URL (`…/common/discovery/keys`) Vault reads for a `config.environment`
/// (`AzurePublicCloud` when empty; case-insensitive).
///
/// Throws an `AadauthError` with `code: "input_invalid"` and `field: "config.environment"`
/// (Vault's message) for an unknown cloud.
#[wasm_bindgen(js_name = keysUrl)]
pub fn keys_url(
    #[wasm_bindgen(param_description = "config.environment, e.g. `AzureChinaCloud`")]
    environment: Option<OptionalString>,
) -> Result<String, JsValue> {
    let environment = js_optional_string_arg(
        environment.as_ref().map(AsRef::as_ref),
        "config.environment",
    )?;
    Ok(keys_url_text(environment.as_deref().unwrap_or(""))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_the_core() {
        let vm = r#"{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm", "location": "eastus", "identity": {"principalId": "p"}}"#;
        let arm: serde_json::Value =
            serde_json::from_str(&arm_from_pasted_text(vm).unwrap()).unwrap();
        assert_eq!(
            arm["/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"]
                ["location"],
            "eastus"
        );
        let e = arm_from_pasted_text("nope").unwrap_err();
        assert_eq!((e.code, e.field.as_str()), (ErrorCode::InputInvalid, "arm"));
        assert!(e.message.starts_with("arm: "));

        let login: serde_json::Value = serde_json::from_str(
            &login_from_imds_text(
                r#"{"compute": {"subscriptionId": "s", "resourceGroupName": "rg", "name": "vm"}}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(login["vm_name"], "vm");
        assert_eq!(login_from_imds_text("{}").unwrap_err().field, "imds");

        let c = vault_login_command_text(br#"{"role": "web", "jwt": "eyJsecret"}"#, "").unwrap();
        assert!(c.starts_with("vault write auth/azure/login"));
        assert!(!c.contains("eyJsecret"));
        let c = vault_login_command_text(br#"{"role": "web"}"#, "azure-prod/").unwrap();
        assert!(c.starts_with("vault write auth/azure-prod/login"));
        assert_eq!(
            vault_login_command_text(b"[1]", "").unwrap_err().field,
            "login"
        );

        assert_eq!(extract_jwt_text("Bearer a.b.c").unwrap(), "a.b.c");
        assert_eq!(
            extract_jwt_text(r#"{"access_token": "a.b.c"}"#).unwrap(),
            "a.b.c"
        );
        let e = extract_jwt_text("{").unwrap_err();
        assert_eq!(e.code, ErrorCode::TokenUndecodable);

        assert_eq!(
            keys_url_text("").unwrap(),
            "https://login.microsoftonline.com/common/discovery/keys"
        );
        assert_eq!(
            keys_url_text("azurechinacloud").unwrap(),
            "https://login.chinacloudapi.cn/common/discovery/keys"
        );
        assert_eq!(
            keys_url_text("AzureGermanCloud").unwrap_err().message,
            "config.environment: err: no cloud configuration matching the name \"AZUREGERMANCLOUD\""
        );
    }
}
