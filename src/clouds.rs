//! Azure clouds: names, issuers, key and ARM endpoints.
//!
//! See `spec/azure-identity-facts.md` ("Clouds") and `spec/vault-azure-login.md` §1: Vault
//! takes the expected issuer from the tenant's **v1** discovery document, so v2.0 tokens are
//! refused by issuer in the `vault` profile.

use serde::Serialize;

/// The Instance Metadata Service, the same in every cloud (reachable only from inside a VM).
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254";

/// One of the Azure clouds Vault's Azure auth method knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Cloud {
    AzurePublicCloud,
    AzureUSGovernmentCloud,
    AzureChinaCloud,
}

impl Cloud {
    /// Every cloud, in a stable order.
    pub const ALL: [Cloud; 3] = [
        Cloud::AzurePublicCloud,
        Cloud::AzureUSGovernmentCloud,
        Cloud::AzureChinaCloud,
    ];

    /// Parses `config.environment` as Vault does: case-insensitive, empty means public.
    /// The error is Vault's exact message, with the name upper-cased as Vault prints it.
    pub fn from_environment(name: &str) -> Result<Cloud, String> {
        let upper = name.trim().to_uppercase();
        match upper.as_str() {
            "" | "AZUREPUBLICCLOUD" => Ok(Cloud::AzurePublicCloud),
            "AZUREUSGOVERNMENTCLOUD" => Ok(Cloud::AzureUSGovernmentCloud),
            "AZURECHINACLOUD" => Ok(Cloud::AzureChinaCloud),
            _ => Err(format!(
                "err: no cloud configuration matching the name {}",
                crate::gocompat::quote(&name.to_uppercase())
            )),
        }
    }

    /// The name as Vault's `environment` field spells it.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::AzurePublicCloud => "AzurePublicCloud",
            Cloud::AzureUSGovernmentCloud => "AzureUSGovernmentCloud",
            Cloud::AzureChinaCloud => "AzureChinaCloud",
        }
    }

    /// The Microsoft Entra authority host, with a trailing slash.
    pub fn authority(self) -> &'static str {
        match self {
            Cloud::AzurePublicCloud => "https://login.microsoftonline.com/",
            Cloud::AzureUSGovernmentCloud => "https://login.microsoftonline.us/",
            Cloud::AzureChinaCloud => "https://login.chinacloudapi.cn/",
        }
    }

    /// The issuer of v1 tokens for `tenant` (what Vault expects).
    pub fn v1_issuer(self, tenant: &str) -> String {
        match self {
            Cloud::AzurePublicCloud | Cloud::AzureUSGovernmentCloud => {
                format!("https://sts.windows.net/{tenant}/")
            }
            Cloud::AzureChinaCloud => format!("https://sts.chinacloudapi.cn/{tenant}/"),
        }
    }

    /// The issuer of v2.0 tokens for `tenant`.
    pub fn v2_issuer(self, tenant: &str) -> String {
        match self {
            Cloud::AzurePublicCloud => format!("https://login.microsoftonline.com/{tenant}/v2.0"),
            Cloud::AzureUSGovernmentCloud => {
                format!("https://login.microsoftonline.us/{tenant}/v2.0")
            }
            Cloud::AzureChinaCloud => {
                format!("https://login.partner.microsoftonline.cn/{tenant}/v2.0")
            }
        }
    }

    /// The v1 OpenID discovery document of `tenant`.
    pub fn v1_discovery_url(self, tenant: &str) -> String {
        format!(
            "{}{tenant}/.well-known/openid-configuration",
            self.authority()
        )
    }

    /// The v1 key set (the `jwks_uri` the v1 discovery document names).
    pub fn v1_keys_url(self) -> String {
        format!("{}common/discovery/keys", self.authority())
    }

    /// The v2.0 key set of `tenant`.
    pub fn v2_keys_url(self, tenant: &str) -> String {
        format!("{}{tenant}/discovery/v2.0/keys", self.authority())
    }

    /// The Azure Resource Manager endpoint, with a trailing slash.
    pub fn arm_endpoint(self) -> &'static str {
        match self {
            Cloud::AzurePublicCloud => "https://management.azure.com/",
            Cloud::AzureUSGovernmentCloud => "https://management.usgovcloudapi.net/",
            Cloud::AzureChinaCloud => "https://management.chinacloudapi.cn/",
        }
    }
}

/// What an issuer string says about where a token came from, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerInfo {
    /// `"1.0"` or `"2.0"`.
    pub version: &'static str,
    /// The cloud, when the issuer host identifies one (v1 public and US Government share a host).
    pub clouds: Vec<Cloud>,
    /// The tenant id in the issuer path.
    pub tenant: String,
}

/// Recognises the Microsoft issuers of every cloud, v1 and v2.0.
pub fn classify_issuer(iss: &str) -> Option<IssuerInfo> {
    if let Some(rest) = iss.strip_prefix("https://sts.windows.net/") {
        return Some(IssuerInfo {
            version: "1.0",
            clouds: vec![Cloud::AzurePublicCloud, Cloud::AzureUSGovernmentCloud],
            tenant: rest.trim_end_matches('/').to_string(),
        });
    }
    if let Some(rest) = iss.strip_prefix("https://sts.chinacloudapi.cn/") {
        return Some(IssuerInfo {
            version: "1.0",
            clouds: vec![Cloud::AzureChinaCloud],
            tenant: rest.trim_end_matches('/').to_string(),
        });
    }
    for cloud in Cloud::ALL {
        let host = match cloud {
            Cloud::AzureChinaCloud => "https://login.partner.microsoftonline.cn/",
            other => other.authority(),
        };
        if let Some(rest) = iss.strip_prefix(host) {
            if let Some(tenant) = rest.strip_suffix("/v2.0") {
                return Some(IssuerInfo {
                    version: "2.0",
                    clouds: vec![cloud],
                    tenant: tenant.to_string(),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_are_case_insensitive() {
        assert_eq!(
            Cloud::from_environment("azurechinacloud"),
            Ok(Cloud::AzureChinaCloud)
        );
        assert_eq!(Cloud::from_environment(""), Ok(Cloud::AzurePublicCloud));
        assert_eq!(
            Cloud::from_environment("AzureGermanCloud"),
            Err("err: no cloud configuration matching the name \"AZUREGERMANCLOUD\"".into())
        );
    }

    #[test]
    fn issuers() {
        assert_eq!(
            Cloud::AzureUSGovernmentCloud.v1_issuer("t"),
            "https://sts.windows.net/t/"
        );
        let v2 = classify_issuer("https://login.microsoftonline.com/t/v2.0");
        assert_eq!(v2.map(|i| i.version), Some("2.0"));
    }
}
