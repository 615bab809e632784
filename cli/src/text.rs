//! Human renderings of outputs: a check table with the verdict and hints.

use aadauth::{Outcome, Output};

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

/// The verdict line(s): what Vault answers.
pub fn render_verdict(out: &Output, color: bool) -> String {
    let st = Style { on: color };
    let mut s = String::new();
    if out.allowed {
        s.push_str(&st.paint("1;32", "ALLOWED"));
        s.push_str(" (200)");
        if out.decode_only {
            s.push_str(" — decode only: the signature was not checked");
        }
        s.push('\n');
        if let Some(a) = &out.auth {
            s.push_str(&format!(
                "  display_name {}  policies [{}]  ttl {}s  max_ttl {}s\n",
                a.display_name,
                a.policies.join(", "),
                a.ttl,
                a.max_ttl
            ));
        }
    } else {
        s.push_str(&st.paint("1;31", "REFUSED"));
        s.push_str(&format!(" ({})\n", out.status));
        if let Some(e) = &out.error {
            for line in e.lines() {
                s.push_str(&format!("  {line}\n"));
            }
        }
        if let Some(c) = out.failed_check() {
            if let Some(h) = &c.hint {
                s.push_str(&format!("  {} {h}\n", st.paint("1;33", "hint:")));
            }
        }
    }
    s
}

/// Every check, then the verdict.
pub fn render_output(out: &Output, color: bool) -> String {
    let st = Style { on: color };
    let width = out.checks.iter().map(|c| c.id.len()).max().unwrap_or(10);
    let mut s = String::new();
    for c in &out.checks {
        let (label, code) = match c.outcome {
            Outcome::Pass => ("pass", "32"),
            Outcome::Fail => ("FAIL", "1;31"),
            Outcome::Skip => ("skip", "2"),
            Outcome::NotReached => ("----", "2"),
        };
        let detail = c.detail.replace('\n', " / ");
        s.push_str(&format!(
            "{} {:width$}  {}\n",
            st.paint(code, &format!("{label:4}")),
            c.id,
            detail
        ));
        if c.outcome == Outcome::Fail {
            if let Some(h) = &c.hint {
                s.push_str(&format!(
                    "     {:width$}  {} {h}\n",
                    "",
                    st.paint("1;33", "hint:")
                ));
            }
        }
    }
    s.push('\n');
    s.push_str(&render_verdict(out, color));
    s
}

/// A decoded token for people.
pub fn render_decoded(d: &aadauth::Decoded) -> String {
    let mut s = String::new();
    let a = &d.azure;
    s.push_str(&format!(
        "header  {}\n",
        serde_json::to_string(&d.header).unwrap_or_default()
    ));
    if let Some(v) = &a.version {
        s.push_str(&format!("version {v}\n"));
    }
    if let Some(i) = &a.issuer {
        s.push_str(&format!(
            "issuer  {} ({} {}, tenant {})\n",
            i.issuer,
            i.clouds.join("/"),
            if i.version.is_empty() {
                "unknown issuer"
            } else {
                &i.version
            },
            i.tenant
        ));
    }
    if let Some(k) = &a.principal_kind {
        s.push_str(&format!("kind    {k}\n"));
    }
    for (name, p) in [("xms_mirid", &a.xms_mirid), ("xms_az_rid", &a.xms_az_rid)] {
        if let Some(p) = p {
            s.push_str(&format!(
                "{name:10} {} {} — subscription {}, resource group {}, provider {}/{}\n",
                p.kind, p.name, p.subscription_id, p.resource_group, p.provider, p.resource_type
            ));
        }
    }
    s.push_str("claims\n");
    if let Some(obj) = d.claims.as_object() {
        for (k, v) in obj {
            let mut line = format!("  {k:12} {v}");
            if let Some(t) = a.times.get(k) {
                line.push_str(&format!(
                    "  = {} {}",
                    t.utc,
                    t.relative.clone().unwrap_or_default()
                ));
            }
            if let Some(m) = a.claims.get(k) {
                line.push_str(&format!("  — {m}"));
            }
            s.push_str(&line);
            s.push('\n');
        }
    }
    for w in &a.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}
