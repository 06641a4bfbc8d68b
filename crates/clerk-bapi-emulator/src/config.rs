//! Start-up configuration: which instances and machines an emulator begins with, and the
//! consistency checks run before any key is generated.

use crate::errors::EmulatorError;
use crate::ids;
use std::fmt;

/// Most instances one emulator will host.
pub const MAX_INSTANCES: usize = 64;

/// A machine to create at start-up. Scopes name other machines of the same instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineConfig {
    pub name: String,
    /// Names of the machines this one may call (its tokens' scopes).
    pub scoped_to: Vec<String>,
    /// Seconds; default 3600.
    pub default_token_ttl: Option<u64>,
}

impl MachineConfig {
    pub fn new(name: impl Into<String>) -> MachineConfig {
        MachineConfig { name: name.into(), scoped_to: Vec::new(), default_token_ttl: None }
    }

    pub fn scoped_to(mut self, names: &[&str]) -> MachineConfig {
        self.scoped_to = names.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    pub fn default_token_ttl(mut self, seconds: u64) -> MachineConfig {
        self.default_token_ttl = Some(seconds);
        self
    }
}

/// An instance to create at start-up. Unset fields are generated (`ins_…`, `sk_test_…`; the
/// kid defaults to the instance id, as Clerk's does).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct InstanceConfig {
    pub id: Option<String>,
    pub secret_key: Option<String>,
    /// Kid of the first signing key. Two instances may share a kid (per-instance JWKS tests).
    pub kid: Option<String>,
    /// `iss` of minted JWTs; default `{url}/instances/{id}`.
    pub issuer: Option<String>,
    pub machines: Vec<MachineConfig>,
    /// Verify endpoints answer 404 (instead of 200 with flags) for revoked/expired tokens.
    pub reject_inactive_tokens: bool,
}

impl fmt::Debug for InstanceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceConfig")
            .field("id", &self.id)
            .field("secret_key", &self.secret_key.as_deref().map(ids::redact))
            .field("kid", &self.kid)
            .field("machines", &self.machines)
            .field("reject_inactive_tokens", &self.reject_inactive_tokens)
            .finish_non_exhaustive()
    }
}

impl InstanceConfig {
    pub fn new() -> InstanceConfig {
        InstanceConfig::default()
    }

    /// `trpc`, `webhook` (scoped to trpc) and `worker` (scoped to trpc): the binary's defaults.
    pub fn with_default_machines() -> InstanceConfig {
        InstanceConfig::new().machine("trpc", &[]).machine("webhook", &["trpc"]).machine("worker", &["trpc"])
    }

    pub fn id(mut self, id: impl Into<String>) -> InstanceConfig {
        self.id = Some(id.into());
        self
    }

    pub fn secret_key(mut self, key: impl Into<String>) -> InstanceConfig {
        self.secret_key = Some(key.into());
        self
    }

    pub fn kid(mut self, kid: impl Into<String>) -> InstanceConfig {
        self.kid = Some(kid.into());
        self
    }

    pub fn issuer(mut self, issuer: impl Into<String>) -> InstanceConfig {
        self.issuer = Some(issuer.into());
        self
    }

    /// Adds a machine `name` allowed to call the machines named in `scoped_to`.
    pub fn machine(mut self, name: &str, scoped_to: &[&str]) -> InstanceConfig {
        self.machines.push(MachineConfig::new(name).scoped_to(scoped_to));
        self
    }

    pub fn machine_config(mut self, machine: MachineConfig) -> InstanceConfig {
        self.machines.push(machine);
        self
    }

    pub fn reject_inactive_tokens(mut self, reject: bool) -> InstanceConfig {
        self.reject_inactive_tokens = reject;
        self
    }
}

/// Checks ids, keys and machine names before any key is generated.
pub(crate) fn validate(configs: &[InstanceConfig]) -> Result<(), EmulatorError> {
    let bad = |m: String| Err(EmulatorError::InvalidConfig(m));
    if configs.len() > MAX_INSTANCES {
        return bad(format!("at most {MAX_INSTANCES} instances"));
    }
    for (i, c) in configs.iter().enumerate() {
        for (field, value) in [("id", &c.id), ("secret_key", &c.secret_key), ("kid", &c.kid)] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return bad(format!("instance {i}: {field} must not be empty"));
            }
        }
        for other in configs.iter().skip(i + 1) {
            if c.id.is_some() && c.id == other.id {
                return bad(format!("instance {i}: duplicate id"));
            }
            if c.secret_key.is_some() && c.secret_key == other.secret_key {
                return bad(format!("instance {i}: duplicate secret key"));
            }
        }
        for (j, m) in c.machines.iter().enumerate() {
            if c.machines.iter().skip(j + 1).any(|o| o.name == m.name) {
                return bad(format!("instance {i}: duplicate machine name {:?}", m.name));
            }
            if let Some(unknown) = m.scoped_to.iter().find(|s| !c.machines.iter().any(|o| &o.name == *s)) {
                return bad(format!("instance {i}: machine {:?} is scoped to unknown machine {unknown:?}", m.name));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_rejects_inconsistent_configs() {
        assert!(validate(&[InstanceConfig::with_default_machines()]).is_ok());
        assert!(validate(&vec![InstanceConfig::new(); MAX_INSTANCES + 1]).is_err());
        assert!(validate(&[InstanceConfig::new().id("ins_a"), InstanceConfig::new().id("ins_a")]).is_err());
        assert!(validate(&[InstanceConfig::new().secret_key("sk_a"), InstanceConfig::new().secret_key("sk_a")]).is_err());
        assert!(validate(&[InstanceConfig::new().kid("ins_same"), InstanceConfig::new().kid("ins_same")]).is_ok());
        assert!(validate(&[InstanceConfig::new().kid(" ")]).is_err());
        assert!(validate(&[InstanceConfig::new().machine("a", &[]).machine("a", &[])]).is_err());
        assert!(validate(&[InstanceConfig::new().machine("a", &["b"])]).is_err());
        assert!(validate(&[InstanceConfig::new().machine("a", &["b"]).machine("b", &["a"])]).is_ok());
    }

    #[test]
    fn config_debug_redacts_secret_key() {
        let c = InstanceConfig::new().secret_key("sk_test_supersecret");
        assert!(!format!("{c:?}").contains("supersecret"));
    }
}
