//! The commands that talk to the network, through `aadauth-host`:
//! `login` (what `vault login -method=azure` does), `explain` (`evaluate` with live keys,
//! ARM facts and tokens) and `keys` (the tenant's discovery document and key set).
//!
//! Exit status: 0 allowed / success, 1 refused or a service failed, 2 usage or input error.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use aadauth::{Cloud, EvaluateInput, KeyFetchError};
use aadauth_host::driver::{decide, ArmSource, KeySource};
use aadauth_host::{
    vault, ArmClient, Endpoints, HttpClient, ImdsClient, KeyCache, Selector, VaultClient,
};
use serde_json::{json, Value};

/// Options of one command: `--name value` pairs and bare `--flag`s; anything else is a
/// usage error.
struct Args {
    values: BTreeMap<String, String>,
    flags: BTreeSet<String>,
}

impl Args {
    fn parse(
        cmd: &str,
        args: &[String],
        with_values: &[&str],
        flags: &[&str],
    ) -> Result<Args, String> {
        let mut values = BTreeMap::new();
        let mut set = BTreeSet::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if with_values.contains(&a.as_str()) {
                let v = it
                    .next()
                    .ok_or_else(|| format!("{cmd}: {a} needs a value"))?;
                values.insert(a.clone(), v.clone());
            } else if flags.contains(&a.as_str()) {
                set.insert(a.clone());
            } else {
                return Err(format!(
                    "{cmd}: unexpected argument {a:?} (run `aadauth help` for the options)"
                ));
            }
        }
        Ok(Args { values, flags: set })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    fn has(&self, flag: &str) -> bool {
        self.flags.contains(flag)
    }

    /// At most one of `--client-id`, `--object-id`, `--resource-id`.
    fn selector(&self, cmd: &str) -> Result<Selector, String> {
        let given: Vec<Selector> = [
            self.get("--client-id")
                .map(|v| Selector::ClientId(v.into())),
            self.get("--object-id")
                .map(|v| Selector::ObjectId(v.into())),
            self.get("--resource-id")
                .map(|v| Selector::ResourceId(v.into())),
        ]
        .into_iter()
        .flatten()
        .collect();
        match given.len() {
            0 => Ok(Selector::Default),
            1 => Ok(given.into_iter().next().unwrap_or_default()),
            _ => Err(format!(
                "{cmd}: give at most one of --client-id, --object-id, --resource-id"
            )),
        }
    }

    fn format(&self, default: &'static str) -> Result<&str, String> {
        let f = self.get("--format").unwrap_or(default);
        if matches!(f, "json" | "text") {
            Ok(f)
        } else {
            Err(format!("--format must be json or text, not {f:?}"))
        }
    }
}

fn cloud_arg(name: Option<&str>) -> Result<Cloud, String> {
    Cloud::from_environment(name.unwrap_or("")).map_err(|e| format!("--environment: {e}"))
}

/// `aadauth login`.
pub fn login(args: &[String]) -> Result<u8, String> {
    let a = Args::parse(
        "login",
        args,
        &[
            "--role",
            "--mount",
            "--resource",
            "--vault-addr",
            "--client-id",
            "--object-id",
            "--resource-id",
            "--format",
            "--environment",
        ],
        &["--dry-run"],
    )?;
    let role = a
        .get("--role")
        .filter(|r| !r.is_empty())
        .ok_or("login needs --role ROLE (the Vault role to log in with)")?;
    let mount = a.get("--mount").unwrap_or("azure");
    let format = a.format("text")?;
    let selector = a.selector("login")?;
    let endpoints = Endpoints::from_env(cloud_arg(a.get("--environment"))?);
    let resource = a
        .get("--resource")
        .unwrap_or(endpoints.cloud.arm_endpoint());
    let vault = VaultClient::from_env(a.get("--vault-addr")).map_err(|e| e.message)?;

    let imds = ImdsClient::from_env(&endpoints);
    let token = match imds.token(resource, &selector) {
        Ok(t) => t,
        Err(e) => return service_failure(&e.message),
    };
    let (metadata, _) = match imds.instance_metadata() {
        Ok(m) => m,
        Err(e) => return service_failure(&e.message),
    };
    let fields = aadauth::paste::login_from_imds(&metadata)
        .map_err(|e| format!("instance metadata: {e}"))?;
    let s = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    // The fields `vault login -method=azure` sends, vmss_name even when empty.
    let body = json!({
        "role": role,
        "jwt": token.access_token,
        "subscription_id": s("subscription_id"),
        "resource_group_name": s("resource_group_name"),
        "vm_name": s("vm_name"),
        "vmss_name": s("vmss_name"),
    });

    if a.has("--dry-run") {
        crate::print_json(&vault.preview(mount, &body))?;
        return Ok(0);
    }
    let answer = match vault.login(mount, &body) {
        Ok(r) => r,
        Err(e) => return service_failure(&e.message),
    };
    if !answer.ok() {
        eprintln!(
            "aadauth: Vault refused the login (HTTP {}).\n{}",
            answer.status,
            vault::describe_refusal(&vault.login_url(mount), &answer)
        );
        return Ok(1);
    }
    if format == "json" {
        crate::print_json(&answer.body)?;
    } else {
        outln!("{}", answer.client_token().unwrap_or_default());
    }
    Ok(0)
}

fn service_failure(message: &str) -> Result<u8, String> {
    eprintln!("aadauth: {message}");
    Ok(1)
}

fn read_json(what: &str, src: &str) -> Result<Value, String> {
    let bytes = crate::read_source(src)?;
    aadauth::contract::parse_input(&bytes).map_err(|e| format!("{what} {src}: {}", e.message))
}

fn read_text(src: &str) -> Result<String, String> {
    Ok(String::from_utf8_lossy(&crate::read_source(src)?).into_owned())
}

/// `aadauth explain`.
pub fn explain(args: &[String]) -> Result<u8, String> {
    let a = Args::parse(
        "explain",
        args,
        &[
            "--config",
            "--role",
            "--login",
            "--token",
            "--keys",
            "--arm",
            "--now",
            "--format",
            "--remote-addr",
            "--client-id",
            "--object-id",
            "--resource-id",
        ],
        &[],
    )?;
    let format = a.format("text")?;
    let need = |k: &str| {
        a.get(k)
            .ok_or_else(|| format!("explain needs {k} FILE (run `aadauth help`)"))
    };
    let config = read_json("--config", need("--config")?)?;
    let role = read_json("--role", need("--role")?)?;
    let mut login = read_json("--login", need("--login")?)?;
    if !login.is_object() {
        return Err("--login: expected a JSON object (the body of auth/azure/login)".into());
    }
    let now: i64 = match a.get("--now") {
        Some(n) => n
            .parse()
            .map_err(|_| format!("--now must be Unix seconds, not {n:?}"))?,
        None => crate::system_now(),
    };

    let mut input = json!({ "config": config, "login": Value::Null, "now": now });
    match role.get("roles") {
        Some(Value::Object(_)) if role.get("data").is_none() => {
            input["roles"] = role["roles"].clone()
        }
        _ => input["role"] = role,
    }
    if let Some(addr) = a.get("--remote-addr") {
        input["remote_addr"] = json!(addr);
    }
    if let Some(src) = a.get("--keys") {
        let text = read_text(src)?;
        input["keys"] = serde_json::from_str(&text).unwrap_or(Value::String(text));
    }
    if let Some(src) = a.get("--arm") {
        let snapshot = aadauth::paste::arm_from_pasted(&read_text(src)?)
            .map_err(|e| format!("--arm {src}: {e}"))?;
        input["arm"] = serde_json::to_value(snapshot).map_err(|e| e.to_string())?;
    }

    // Endpoints of the configured cloud (an unknown environment fails the login anyway).
    let environment = input["config"]
        .get("environment")
        .or_else(|| input["config"].pointer("/data/environment"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let endpoints = Endpoints::from_env(
        Cloud::from_environment(environment).unwrap_or(Cloud::AzurePublicCloud),
    );

    let mut token_source = None;
    match a.get("--token") {
        Some("imds") => {
            let parsed_config =
                aadauth::Config::from_json(&input["config"]).map_err(|e| e.to_string())?;
            let resource = if parsed_config.resource.is_empty() {
                endpoints.cloud.arm_endpoint().to_string()
            } else {
                parsed_config.resource
            };
            let imds = ImdsClient::from_env(&endpoints);
            match imds.token(&resource, &a.selector("explain")?) {
                Ok(t) => login["jwt"] = json!(t.access_token),
                Err(e) => return Err(format!("--token imds: {e}")),
            }
            token_source = Some(format!("managed identity token for {resource}"));
        }
        Some(src) => {
            let text = read_text(src)?;
            let jwt = aadauth::extract_jwt(&text).map_err(|e| format!("--token {src}: {e}"))?;
            login["jwt"] = json!(jwt);
        }
        None => {}
    }
    input["login"] = login;

    let parsed = EvaluateInput::from_json(&input).map_err(|e| e.to_string())?;
    let tenant = parsed.context.config.tenant_id.clone();
    let cache = KeyCache::new(HttpClient::new(), &endpoints, &tenant);
    let keys = if a.get("--keys").is_some() {
        KeySource::Fixed(parsed.keys.clone())
    } else if tenant.is_empty() {
        KeySource::Fixed(Err(KeyFetchError(
            "config.tenant_id is empty: there is no key set to discover".into(),
        )))
    } else {
        KeySource::Live(&cache)
    };
    let arm_client = ArmClient::from_config(&parsed.context.config, &endpoints);
    let arm = if a.get("--arm").is_some() {
        ArmSource::Snapshot(&parsed.arm)
    } else {
        ArmSource::Live(&arm_client)
    };
    let decision = decide(parsed.context.clone(), &keys, &arm, true);
    let out = &decision.output;

    if format == "json" {
        crate::print_json(out)?;
    } else {
        let mut sources = String::new();
        if let Some(t) = token_source {
            sources.push_str(&format!("token  {t}\n"));
        }
        match &keys {
            KeySource::Live(cache) => match cache.fresh() {
                Some(f) => {
                    sources.push_str(&format!(
                        "keys   {} keys from {} (discovered at {})\n",
                        f.keys.keys.len(),
                        f.discovery.jwks_uri,
                        f.discovery.url
                    ));
                    let expected = endpoints.cloud.v1_issuer(&tenant);
                    if !f.discovery.issuer.is_empty() && f.discovery.issuer != expected {
                        sources.push_str(&format!(
                            "       note: the discovery document names issuer {}, aadauth checks {expected}\n",
                            f.discovery.issuer
                        ));
                    }
                }
                None => sources.push_str(&format!(
                    "keys   not fetched from {}\n",
                    cache.discovery_url()
                )),
            },
            KeySource::Fixed(_) => sources.push_str("keys   given (--keys)\n"),
        }
        match &arm {
            ArmSource::Live(c) => sources.push_str(&format!(
                "ARM    {} read(s) from {} as {}\n",
                decision.arm_reads.len(),
                c.endpoints().arm,
                c.tokens.credential.describe()
            )),
            ArmSource::Snapshot(_) => sources.push_str("ARM    given (--arm)\n"),
        }
        out!(
            "{sources}\n{}",
            crate::text::render_output(out, crate::color_wanted())
        );
    }
    Ok(if out.allowed { 0 } else { 1 })
}

/// `aadauth keys`.
pub fn keys(args: &[String]) -> Result<u8, String> {
    let a = Args::parse(
        "keys",
        args,
        &["--tenant", "--environment", "--format"],
        &[],
    )?;
    let format = a.format("text")?;
    let tenant = a.get("--tenant").unwrap_or("common");
    let endpoints = Endpoints::from_env(cloud_arg(a.get("--environment"))?);
    let cache = KeyCache::new(HttpClient::new(), &endpoints, tenant);
    let fetched = match cache.current() {
        Ok(f) => f,
        Err(e) => return service_failure(&format!("tenant {tenant}: {}", e.0)),
    };
    let info = fetched.keys.info();
    if format == "json" {
        crate::print_json(&json!({
            "tenant": tenant,
            "environment": endpoints.cloud.name(),
            "discovery_url": fetched.discovery.url,
            "issuer": fetched.discovery.issuer,
            "jwks_uri": fetched.discovery.jwks_uri,
            "keys": info,
        }))?;
        return Ok(0);
    }
    outln!("tenant     {tenant} ({})", endpoints.cloud.name());
    outln!("discovery  {}", fetched.discovery.url);
    outln!("issuer     {}", fetched.discovery.issuer);
    outln!("jwks_uri   {}", fetched.discovery.jwks_uri);
    outln!("keys       {}", info.len());
    for k in &info {
        let kind = match k.bits {
            Some(b) => format!("{} {b}-bit", k.kty),
            None => k.kty.clone(),
        };
        let usable = if k.usable {
            "usable".to_string()
        } else {
            format!("unusable: {}", k.reason.clone().unwrap_or_default())
        };
        outln!(
            "  {:44} {:14} {usable}",
            k.kid.clone().unwrap_or_else(|| "(no kid)".into()),
            kind
        );
    }
    Ok(0)
}
