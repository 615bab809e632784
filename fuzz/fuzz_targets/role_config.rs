//! Role and config parsing (write bodies and `vault read` output), with the write checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(role) = aadauth::Role::from_json(&v, "fuzz") {
            let _ = role.write_error();
            let _ = role.has_resource_bindings();
        }
        let _ = aadauth::Config::from_json(&v);
    }
    let text = String::from_utf8_lossy(data);
    let _ = aadauth::paste::arm_from_pasted(&text);
    let _ = aadauth::paste::login_from_imds(&text);
});
