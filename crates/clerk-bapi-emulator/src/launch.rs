//! What a command line can ask of an emulator — shared by the `clerk-bapi-emulator` binary and
//! `npx clerk-m2m-native emulator` (the napi addon), so both accept the same things and print
//! the same environment lines.

use crate::builder::EmulatorBuilder;
use crate::config::{InstanceConfig, MachineConfig, MAX_INSTANCES};
use crate::errors::EmulatorError;
use crate::handle::EmulatorHandle;
use crate::state::InstanceInfo;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::str::FromStr;

/// Start-up options of a command-line emulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchOptions {
    /// Address to listen on (default 127.0.0.1).
    pub host: IpAddr,
    /// Port (0 = any free port).
    pub port: u16,
    /// Instances, 1..=64; each gets the machines.
    pub instances: usize,
    /// Empty: the default machines (`trpc`, `webhook` → trpc, `worker` → trpc).
    pub machines: Vec<MachineConfig>,
    pub reject_inactive_tokens: bool,
    /// Stable identities across restarts ([`EmulatorBuilder::seed`]).
    pub seed: Option<String>,
    /// Machines, scopes, keys and tokens kept in this file across restarts
    /// ([`EmulatorBuilder::state_file`]).
    pub state: Option<PathBuf>,
    /// Host names the dashboard and admin API answer besides IP addresses and `localhost`.
    pub allowed_hosts: Vec<String>,
}

impl Default for LaunchOptions {
    fn default() -> LaunchOptions {
        LaunchOptions { host: IpAddr::V4(Ipv4Addr::LOCALHOST), port: 0, instances: 1, machines: Vec::new(), reject_inactive_tokens: false, seed: None, state: None, allowed_hosts: Vec::new() }
    }
}

impl LaunchOptions {
    /// The builder these options describe; an error names the offending option.
    pub fn builder(&self) -> Result<EmulatorBuilder, EmulatorError> {
        if !(1..=MAX_INSTANCES).contains(&self.instances) {
            return Err(EmulatorError::InvalidConfig(format!("--instances must be 1..={MAX_INSTANCES}")));
        }
        if self.seed.as_deref().is_some_and(str::is_empty) {
            return Err(EmulatorError::InvalidConfig("--seed must not be empty".into()));
        }
        if self.state.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err(EmulatorError::InvalidConfig("--state must name a file".into()));
        }
        if let Some(bad) = self.allowed_hosts.iter().find(|h| h.is_empty() || h.contains(|c: char| c == ':' || c == '/' || c.is_whitespace())) {
            return Err(EmulatorError::InvalidConfig(format!("--allow-host {bad:?}: give a host name without port or scheme")));
        }
        let mut builder = crate::builder::Emulator::builder().host(self.host).port(self.port);
        if let Some(seed) = &self.seed {
            builder = builder.seed(seed);
        }
        if let Some(path) = &self.state {
            builder = builder.state_file(path);
        }
        for host in &self.allowed_hosts {
            builder = builder.allow_host(host);
        }
        for _ in 0..self.instances {
            let mut config = if self.machines.is_empty() { InstanceConfig::with_default_machines() } else { InstanceConfig::new() };
            for m in &self.machines {
                config = config.machine_config(m.clone());
            }
            builder = builder.instance(config.reject_inactive_tokens(self.reject_inactive_tokens));
        }
        Ok(builder)
    }
}

/// `NAME` or `NAME:A,B` (machine NAME may call machines A and B), as `--machine` takes it.
impl FromStr for MachineConfig {
    type Err = String;

    fn from_str(spec: &str) -> Result<MachineConfig, String> {
        let (name, scopes) = spec.split_once(':').unwrap_or((spec, ""));
        if name.is_empty() {
            return Err(format!("--machine {spec:?}: empty machine name"));
        }
        let scopes: Vec<&str> = scopes.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        Ok(MachineConfig::new(name).scoped_to(&scopes))
    }
}

/// The part of a machine name that goes into `CLERK_…_<SERVICE>` variables: the console
/// layer's rule (letters, digits, `-`, `_`, at most 64; upper-cased, `-` → `_`).
fn service_env_name(name: &str) -> Option<String> {
    let usable = !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    usable.then(|| name.to_ascii_uppercase().replace('-', "_"))
}

/// `.env` lines for an instance (also valid `sh` assignments): `CLERK_API_URL`,
/// `CLERK_SECRET_KEY`, `CLERK_JWT_KEY` (the PEM on one line, `\n`-escaped inside double quotes,
/// which dotenv, Node's `--env-file` and this package's key parser all read), and per machine
/// `CLERK_MACHINE_SECRET_KEY_<SERVICE>` and `CLERK_M2M_MACHINE_ID_<SERVICE>`.
pub fn env_lines(url: &str, instance: &InstanceInfo) -> String {
    let mut out = format!("# Clerk Backend API emulator, instance {} (local development only)\n", instance.id);
    out.push_str(&format!("# dashboard: {url}{}\n", crate::app::DASHBOARD_PATH));
    out.push_str(&format!("CLERK_API_URL={url}\n"));
    out.push_str(&format!("CLERK_SECRET_KEY={}\n", instance.secret_key));
    if let Some(pem) = &instance.public_key_pem {
        out.push_str(&format!("CLERK_JWT_KEY=\"{}\"\n", pem.trim_end().replace('\n', "\\n")));
    }
    for m in &instance.machines {
        match service_env_name(&m.name) {
            Some(service) => {
                out.push_str(&format!("CLERK_MACHINE_SECRET_KEY_{service}={}\n", m.secret_key));
                out.push_str(&format!("CLERK_M2M_MACHINE_ID_{service}={}\n", m.id));
            }
            None => out.push_str(&format!("# machine {:?} ({}): its name cannot be part of a variable name\n", m.name, m.id)),
        }
    }
    out
}

impl EmulatorHandle {
    /// `.env` lines for instance 0 (see [`env_lines`]).
    pub fn env_lines(&self) -> String {
        self.instance(0).map(|i| env_lines(self.url(), &i)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MachineInfo;

    #[test]
    fn machine_specs() {
        assert_eq!("a".parse::<MachineConfig>().unwrap(), MachineConfig::new("a"));
        assert_eq!("b:a, c".parse::<MachineConfig>().unwrap(), MachineConfig::new("b").scoped_to(&["a", "c"]));
        assert_eq!("b:".parse::<MachineConfig>().unwrap(), MachineConfig::new("b"));
        assert!(":a".parse::<MachineConfig>().is_err());
        assert!("".parse::<MachineConfig>().is_err());
    }

    #[test]
    fn builder_checks_ranges() {
        assert!(LaunchOptions::default().builder().is_ok());
        for instances in [0, MAX_INSTANCES + 1] {
            let err = LaunchOptions { instances, ..LaunchOptions::default() }.builder().unwrap_err();
            assert!(err.to_string().contains("--instances"), "{err}");
        }
        assert!(LaunchOptions { seed: Some(String::new()), ..LaunchOptions::default() }.builder().is_err());
        assert!(LaunchOptions { state: Some(PathBuf::new()), ..LaunchOptions::default() }.builder().is_err());
        for bad in ["", "a:1", "http://a", "a b"] {
            assert!(LaunchOptions { allowed_hosts: vec![bad.into()], ..LaunchOptions::default() }.builder().is_err(), "{bad}");
        }
        assert!(LaunchOptions { allowed_hosts: vec!["emulator".into()], ..LaunchOptions::default() }.builder().is_ok());
    }

    #[test]
    fn env_lines_name_every_machine() {
        let machine = |name: &str, id: &str| MachineInfo { id: id.into(), name: name.into(), secret_key: format!("ak_{id}"), instance_id: "ins_1".into(), scoped_machines: vec![], default_token_ttl: 3600, previous_secret_key_expires_at: None };
        let instance = InstanceInfo {
            index: 0,
            id: "ins_1".into(),
            secret_key: "sk_test_x".into(),
            publishable_key: "pk_test_x".into(),
            issuer: "http://e/instances/ins_1".into(),
            kid: Some("ins_1".into()),
            public_key_pem: Some("-----BEGIN PUBLIC KEY-----\nMIIB\nAQAB\n-----END PUBLIC KEY-----\n".into()),
            keys: vec![],
            reject_inactive_tokens: false,
            machines: vec![machine("billing-worker", "mch_1"), machine("two words", "mch_2")],
        };
        let text = env_lines("http://127.0.0.1:4010", &instance);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "# dashboard: http://127.0.0.1:4010/__emulator/ui");
        assert_eq!(
            lines[2..],
            [
                "CLERK_API_URL=http://127.0.0.1:4010",
                "CLERK_SECRET_KEY=sk_test_x",
                r#"CLERK_JWT_KEY="-----BEGIN PUBLIC KEY-----\nMIIB\nAQAB\n-----END PUBLIC KEY-----""#,
                "CLERK_MACHINE_SECRET_KEY_BILLING_WORKER=ak_mch_1",
                "CLERK_M2M_MACHINE_ID_BILLING_WORKER=mch_1",
                r#"# machine "two words" (mch_2): its name cannot be part of a variable name"#,
            ]
        );
        assert!(lines[0].starts_with('#'));
    }
}
