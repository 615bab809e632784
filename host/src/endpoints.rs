//! Base URLs of every service the adapters talk to.
//!
//! Defaults come from [`aadauth::Cloud`] (authority, ARM) and the two constants below
//! (IMDS, Vault); each can be overridden by a struct field or an environment variable, so
//! that tests point everything at a local stand-in. No other module knows a host name.

use aadauth::Cloud;

/// The Instance Metadata Service, reachable only from inside an Azure VM.
pub const DEFAULT_IMDS_ENDPOINT: &str = "http://169.254.169.254";

/// What the `vault` CLI uses when `VAULT_ADDR` is not set.
pub const DEFAULT_VAULT_ADDR: &str = "https://127.0.0.1:8200";

/// Overrides the Microsoft Entra authority host (`https://login.microsoftonline.com/`).
pub const ENV_AUTHORITY_HOST: &str = "AADAUTH_AUTHORITY_HOST";
/// Overrides the Azure Resource Manager endpoint (`https://management.azure.com/`).
pub const ENV_ARM_ENDPOINT: &str = "AADAUTH_ARM_ENDPOINT";
/// Overrides the IMDS base URL (`http://169.254.169.254`).
pub const ENV_IMDS_ENDPOINT: &str = "AADAUTH_IMDS_ENDPOINT";
/// Vault's address, as the `vault` CLI reads it.
pub const ENV_VAULT_ADDR: &str = "VAULT_ADDR";

/// Where the adapters send their requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The cloud whose resource names (the ARM audience) are used.
    pub cloud: Cloud,
    /// The authority host, with a trailing slash.
    pub authority: String,
    /// The ARM base URL, with a trailing slash.
    pub arm: String,
    /// The IMDS base URL, without a trailing slash.
    pub imds: String,
}

impl Endpoints {
    /// The cloud's public endpoints.
    pub fn for_cloud(cloud: Cloud) -> Endpoints {
        Endpoints {
            cloud,
            authority: cloud.authority().to_string(),
            arm: cloud.arm_endpoint().to_string(),
            imds: DEFAULT_IMDS_ENDPOINT.to_string(),
        }
    }

    /// The cloud's endpoints, with `AADAUTH_AUTHORITY_HOST`, `AADAUTH_ARM_ENDPOINT` and
    /// `AADAUTH_IMDS_ENDPOINT` applied when set.
    pub fn from_env(cloud: Cloud) -> Endpoints {
        let get = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut e = Endpoints::for_cloud(cloud);
        if let Some(v) = get(ENV_AUTHORITY_HOST) {
            e.authority = v;
        }
        if let Some(v) = get(ENV_ARM_ENDPOINT) {
            e.arm = v;
        }
        if let Some(v) = get(ENV_IMDS_ENDPOINT) {
            e.imds = v;
        }
        e.normalised()
    }

    /// Trailing slashes as documented on the fields.
    pub fn normalised(mut self) -> Endpoints {
        self.authority = with_slash(&self.authority);
        self.arm = with_slash(&self.arm);
        self.imds = self.imds.trim_end_matches('/').to_string();
        self
    }

    /// The tenant's v1 OpenID discovery document (the one Vault reads).
    pub fn discovery_url(&self, tenant: &str) -> String {
        format!(
            "{}{tenant}/.well-known/openid-configuration",
            with_slash(&self.authority)
        )
    }

    /// The v1 token endpoint (client credentials with `resource`).
    pub fn token_url_v1(&self, tenant: &str) -> String {
        format!("{}{tenant}/oauth2/token", with_slash(&self.authority))
    }

    /// The v2.0 token endpoint (client credentials with `scope`).
    pub fn token_url_v2(&self, tenant: &str) -> String {
        format!("{}{tenant}/oauth2/v2.0/token", with_slash(&self.authority))
    }

    /// The audience of ARM tokens: the cloud's ARM endpoint, whatever base URL is used.
    pub fn arm_resource(&self) -> &'static str {
        self.cloud.arm_endpoint()
    }

    /// `{arm}{path}` for a resource path (`/subscriptions/…`), percent-encoding what a URL
    /// may not hold literally.
    pub fn arm_url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.arm.trim_end_matches('/'),
            crate::http::encode_path(path)
        )
    }
}

/// Vault's address: the argument, else `VAULT_ADDR`, else the `vault` CLI's default.
pub fn vault_addr(arg: Option<&str>) -> String {
    arg.map(str::to_string)
        .or_else(|| {
            std::env::var(ENV_VAULT_ADDR)
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_VAULT_ADDR.to_string())
        .trim_end_matches('/')
        .to_string()
}

fn with_slash(s: &str) -> String {
    format!("{}/", s.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let mut e = Endpoints::for_cloud(Cloud::AzureChinaCloud);
        assert_eq!(
            e.discovery_url("t"),
            "https://login.chinacloudapi.cn/t/.well-known/openid-configuration"
        );
        e.arm = "http://127.0.0.1:9".into();
        let e = e.normalised();
        assert_eq!(e.arm, "http://127.0.0.1:9/");
        assert_eq!(e.arm_resource(), "https://management.chinacloudapi.cn/");
        assert_eq!(
            e.arm_url("/subscriptions/s/resourceGroups/ресурсы/x y"),
            "http://127.0.0.1:9/subscriptions/s/resourceGroups/%D1%80%D0%B5%D1%81%D1%83%D1%80%D1%81%D1%8B/x%20y"
        );
        assert_eq!(
            e.token_url_v1("t"),
            "https://login.chinacloudapi.cn/t/oauth2/token"
        );
    }
}
