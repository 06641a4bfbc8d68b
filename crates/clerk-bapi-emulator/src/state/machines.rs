//! Machines (`/v1/machines…`): creation, listing, update, deletion, scopes and secret keys (with
//! rotation), in Clerk's JSON shapes (`object: "machine"`, nested scoped machines without their
//! own scopes or secret).

use super::{Instance, Limits, Machine, PreviousSecret};
use crate::config::MachineConfig;
use crate::errors::{ApiError, EmulatorError};
use crate::ids;
use serde_json::{json, Value};

/// Default `default_token_ttl` (seconds) of a machine created without one.
pub const DEFAULT_TOKEN_TTL: u64 = 3600;
/// Longest accepted TTL, 10 years in seconds (keeps ms arithmetic far from overflow).
pub const MAX_TTL_SECONDS: f64 = 315_360_000.0;
/// Longest machine name.
pub const MAX_NAME_LEN: usize = 255;
/// Longest grace period of a rotated machine secret key (`previous_token_ttl`): 8 hours, Clerk's
/// documented maximum.
pub const MAX_PREVIOUS_TOKEN_TTL: f64 = 28_800.0;

/// `PATCH /v1/machines/{id}` body: what changes (absent = unchanged).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateMachine {
    pub name: Option<String>,
    pub default_token_ttl: Option<f64>,
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::param_missing("name"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(ApiError::param_value_invalid("name", &format!("must be at most {MAX_NAME_LEN} characters.")));
    }
    Ok(())
}

fn check_ttl(default_token_ttl: f64) -> Result<u64, ApiError> {
    if (1.0..=MAX_TTL_SECONDS).contains(&default_token_ttl) && default_token_ttl.fract() == 0.0 {
        Ok(default_token_ttl as u64)
    } else {
        Err(ApiError::param_value_invalid("default_token_ttl", &format!("must be an integer between 1 and {MAX_TTL_SECONDS}.")))
    }
}

/// `GET /v1/machines` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMachines {
    /// Case-insensitive substring of the name or id.
    pub query: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

impl Instance {
    pub(crate) fn machine_json(&self, m: &Machine, with_secret: bool) -> Value {
        let nested: Vec<Value> = m
            .scoped_machines
            .iter()
            .filter_map(|id| self.machine(id))
            .map(|s| {
                json!({
                    "object": "machine", "id": s.id, "name": s.name, "instance_id": self.id,
                    "created_at": s.created_at, "updated_at": s.updated_at, "scoped_machines": [],
                    "default_token_ttl": s.default_token_ttl,
                })
            })
            .collect();
        let mut v = json!({
            "object": "machine", "id": m.id, "name": m.name, "instance_id": self.id,
            "created_at": m.created_at, "updated_at": m.updated_at, "scoped_machines": nested,
            "default_token_ttl": m.default_token_ttl,
        });
        if let (true, Some(obj)) = (with_secret, v.as_object_mut()) {
            obj.insert("secret_key".into(), Value::String(m.secret_key.clone()));
        }
        v
    }

    /// `POST /v1/machines`: validates, creates, returns the machine JSON including `secret_key`.
    pub fn create_machine(&mut self, name: &str, scoped: &[String], default_token_ttl: Option<f64>, now: i64, limits: &Limits) -> Result<Value, ApiError> {
        check_name(name)?;
        let ttl = default_token_ttl.map(check_ttl).transpose()?.unwrap_or(DEFAULT_TOKEN_TTL);
        let mut scopes: Vec<String> = Vec::new();
        for id in scoped {
            if self.machine(id).is_none() {
                return Err(ApiError::param_value_invalid("scoped_machines", "must contain ids of existing machines of this instance."));
            }
            if !scopes.contains(id) {
                scopes.push(id.clone());
            }
        }
        if scopes.len() > limits.max_scopes_per_machine {
            return Err(ApiError::param_value_invalid("scoped_machines", &format!("must contain at most {} machines.", limits.max_scopes_per_machine)));
        }
        if self.machines.len() >= limits.max_machines_per_instance {
            return Err(ApiError::param_value_invalid("name", &format!("cannot be created: the emulator holds at most {} machines per instance.", limits.max_machines_per_instance)));
        }
        let (id, secret_key) = match &self.seed {
            Some(seed) => {
                let nth = self.machines.iter().filter(|m| m.name == name).count();
                seed.machine_identity(&self.id, name, nth)
            }
            None => (ids::id("mch_"), ids::secret("ak_")),
        };
        let machine = Machine {
            id,
            name: name.to_owned(),
            secret_key,
            created_at: now,
            updated_at: now,
            scoped_machines: scopes,
            default_token_ttl: ttl,
            previous_secret: None,
        };
        let json = self.machine_json(&machine, true);
        self.machines.push(machine);
        Ok(json)
    }

    /// Start-up machines: all created first, then scopes resolved by name (so order does not
    /// matter).
    pub(crate) fn create_configured_machines(&mut self, machines: &[MachineConfig], now: i64, limits: &Limits) -> Result<(), EmulatorError> {
        let invalid = |m: &MachineConfig, e: ApiError| EmulatorError::InvalidConfig(format!("machine {:?}: {}", m.name, e.long_message));
        for m in machines {
            self.create_machine(&m.name, &[], m.default_token_ttl.map(|t| t as f64), now, limits).map_err(|e| invalid(m, e))?;
        }
        for m in machines {
            let from = self.machine_by_name(&m.name).map(|x| x.id.clone()).unwrap_or_default();
            for to_name in &m.scoped_to {
                let to = self.machine_by_name(to_name).map(|x| x.id.clone()).unwrap_or_default();
                self.add_scope(&from, &to, now, limits).map_err(|e| invalid(m, e))?;
            }
        }
        Ok(())
    }

    /// `PATCH /v1/machines/{id}`: renames and/or changes the default TTL; answers the machine
    /// without its secret key.
    pub fn update_machine(&mut self, id: &str, update: &UpdateMachine, now: i64) -> Result<Value, ApiError> {
        if let Some(name) = &update.name {
            check_name(name)?;
        }
        let ttl = update.default_token_ttl.map(check_ttl).transpose()?;
        let m = self.machines.iter_mut().find(|m| m.id == id).ok_or_else(|| ApiError::not_found("Machine"))?;
        if let Some(name) = &update.name {
            m.name = name.clone();
        }
        if let Some(ttl) = ttl {
            m.default_token_ttl = ttl;
        }
        m.updated_at = now;
        self.get_machine(id)
    }

    /// `DELETE /v1/machines/{id}`: removes the machine, every scope that names it and the tokens
    /// it minted; answers Clerk's deleted-object shape.
    pub fn delete_machine(&mut self, id: &str, now: i64) -> Result<Value, ApiError> {
        let before = self.machines.len();
        self.machines.retain(|m| m.id != id);
        if self.machines.len() == before {
            return Err(ApiError::not_found("Machine"));
        }
        for m in &mut self.machines {
            if m.scoped_machines.iter().any(|s| s == id) {
                m.scoped_machines.retain(|s| s != id);
                m.updated_at = now;
            }
        }
        self.remove_m2m_tokens_of(id);
        Ok(json!({ "object": "machine", "id": id, "deleted": true }))
    }

    /// `POST /v1/machines/{id}/secret_key/rotate` body `{previous_token_ttl}`: a new secret key;
    /// the old one keeps working `previous_token_ttl` seconds (0 = stops at once, at most 8 h).
    pub fn rotate_machine_secret(&mut self, id: &str, previous_token_ttl: f64, now: i64) -> Result<Value, ApiError> {
        if !(previous_token_ttl.is_finite() && (0.0..=MAX_PREVIOUS_TOKEN_TTL).contains(&previous_token_ttl) && previous_token_ttl.fract() == 0.0) {
            return Err(ApiError::param_value_invalid("previous_token_ttl", &format!("must be an integer between 0 and {MAX_PREVIOUS_TOKEN_TTL}.")));
        }
        let m = self.machines.iter_mut().find(|m| m.id == id).ok_or_else(|| ApiError::not_found("Machine"))?;
        let grace_ms = (previous_token_ttl as i64).saturating_mul(1000);
        let old = std::mem::replace(&mut m.secret_key, ids::secret("ak_"));
        m.previous_secret = (grace_ms > 0).then(|| PreviousSecret { secret: old, expires_at: now.saturating_add(grace_ms) });
        m.updated_at = now;
        Ok(json!({ "object": "machine_secret_key", "secret": m.secret_key }))
    }

    /// `GET /v1/machines`: newest first, paginated as `{data, total_count}`.
    pub fn list_machines(&self, q: &ListMachines) -> Value {
        let needle = q.query.as_deref().map(str::to_lowercase);
        let matching: Vec<&Machine> = self
            .machines
            .iter()
            .rev()
            .filter(|m| needle.as_deref().is_none_or(|n| m.name.to_lowercase().contains(n) || m.id.to_lowercase().contains(n)))
            .collect();
        let data: Vec<Value> = matching.iter().skip(q.offset).take(q.limit).map(|m| self.machine_json(m, false)).collect();
        json!({ "data": data, "total_count": matching.len() })
    }

    /// `GET /v1/machines/{id}` (no secret key).
    pub fn get_machine(&self, id: &str) -> Result<Value, ApiError> {
        self.machine(id).map(|m| self.machine_json(m, false)).ok_or_else(|| ApiError::not_found("Machine"))
    }

    /// `GET /v1/machines/{id}/secret_key`.
    pub fn machine_secret(&self, id: &str) -> Result<Value, ApiError> {
        let m = self.machine(id).ok_or_else(|| ApiError::not_found("Machine"))?;
        Ok(json!({ "object": "machine_secret_key", "secret": m.secret_key }))
    }

    /// `POST /v1/machines/{id}/scopes`: lets `id` call `to`. Idempotent.
    pub fn add_scope(&mut self, id: &str, to: &str, now: i64, limits: &Limits) -> Result<Value, ApiError> {
        if self.machine(id).is_none() {
            return Err(ApiError::not_found("Machine"));
        }
        if id == to {
            return Err(ApiError::param_value_invalid("to_machine_id", "must differ from the machine itself."));
        }
        if self.machine(to).is_none() {
            return Err(ApiError::param_value_invalid("to_machine_id", "must be the id of an existing machine of this instance."));
        }
        let max = limits.max_scopes_per_machine;
        let m = self.machines.iter_mut().find(|m| m.id == id).ok_or_else(|| ApiError::not_found("Machine"))?;
        if !m.scoped_machines.iter().any(|s| s == to) {
            if m.scoped_machines.len() >= max {
                return Err(ApiError::param_value_invalid("to_machine_id", &format!("cannot be added: a machine has at most {max} scopes.")));
            }
            m.scoped_machines.push(to.to_owned());
            m.updated_at = now;
        }
        Ok(json!({ "object": "machine_scope", "from_machine_id": id, "to_machine_id": to, "created_at": now }))
    }

    /// `DELETE /v1/machines/{id}/scopes/{other}`.
    pub fn delete_scope(&mut self, id: &str, other: &str, now: i64) -> Result<Value, ApiError> {
        let m = self.machines.iter_mut().find(|m| m.id == id).ok_or_else(|| ApiError::not_found("Machine"))?;
        let before = m.scoped_machines.len();
        m.scoped_machines.retain(|s| s != other);
        if m.scoped_machines.len() == before {
            return Err(ApiError::not_found("Machine scope"));
        }
        m.updated_at = now;
        Ok(json!({ "object": "machine_scope", "from_machine_id": id, "to_machine_id": other, "deleted": true }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::instance;
    use super::*;

    #[test]
    fn create_shape_and_defaults() {
        let mut inst = instance();
        let limits = Limits::default();
        let a = inst.machines[0].id.clone();
        let v = inst.create_machine("svc", std::slice::from_ref(&a), None, 1234, &limits).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["object", "id", "name", "instance_id", "created_at", "updated_at", "scoped_machines", "default_token_ttl", "secret_key"]);
        assert_eq!(v["object"], "machine");
        assert!(v["id"].as_str().unwrap().starts_with("mch_"));
        assert!(v["secret_key"].as_str().unwrap().starts_with("ak_"));
        assert_eq!(v["default_token_ttl"], DEFAULT_TOKEN_TTL);
        assert_eq!(v["created_at"], 1234);
        assert_eq!(v["instance_id"], "ins_test");
        assert_eq!(v["scoped_machines"][0]["id"], a.as_str());
        assert_eq!(v["scoped_machines"][0]["scoped_machines"], json!([]));
        assert!(v["scoped_machines"][0].get("secret_key").is_none());
    }

    #[test]
    fn create_validation() {
        let mut inst = instance();
        let limits = Limits::default();
        assert_eq!(inst.create_machine("  ", &[], None, 0, &limits).unwrap_err().code, "form_param_missing");
        assert!(inst.create_machine(&"x".repeat(MAX_NAME_LEN), &[], None, 0, &limits).is_ok());
        assert!(inst.create_machine(&"x".repeat(MAX_NAME_LEN + 1), &[], None, 0, &limits).is_err());
        for bad in [0.0, 0.5, -1.0, f64::NAN, f64::INFINITY, MAX_TTL_SECONDS + 1.0, 1.5] {
            assert!(inst.create_machine("t", &[], Some(bad), 0, &limits).is_err(), "{bad}");
        }
        assert_eq!(inst.create_machine("t", &[], Some(1.0), 0, &limits).unwrap()["default_token_ttl"], 1);
        assert!(inst.create_machine("t", &["mch_unknown".into()], None, 0, &limits).is_err());
        // Duplicate scope ids collapse.
        let a = inst.machines[0].id.clone();
        let v = inst.create_machine("t", &[a.clone(), a], None, 0, &limits).unwrap();
        assert_eq!(v["scoped_machines"].as_array().unwrap().len(), 1);
        let small = Limits { max_machines_per_instance: inst.machines.len(), ..Limits::default() };
        assert!(inst.create_machine("full", &[], None, 0, &small).is_err());
        let few_scopes = Limits { max_scopes_per_machine: 0, ..Limits::default() };
        let a = inst.machines[0].id.clone();
        assert!(inst.create_machine("t", &[a], None, 0, &few_scopes).is_err());
    }

    #[test]
    fn list_get_secret() {
        let inst = instance();
        let all = inst.list_machines(&ListMachines { query: None, limit: 10, offset: 0 });
        assert_eq!(all["total_count"], 3);
        assert_eq!(all["data"][0]["name"], "c"); // newest first
        assert!(all["data"][0].get("secret_key").is_none());
        let page = inst.list_machines(&ListMachines { query: None, limit: 1, offset: 1 });
        assert_eq!(page["data"].as_array().unwrap().len(), 1);
        assert_eq!(page["data"][0]["name"], "b");
        assert_eq!(page["total_count"], 3);
        let by_id = inst.machines[1].id.to_uppercase();
        let q = inst.list_machines(&ListMachines { query: Some(by_id), limit: 10, offset: 0 });
        assert_eq!(q["total_count"], 1);
        let none = inst.list_machines(&ListMachines { query: Some("no such machine".into()), limit: 10, offset: 0 });
        assert_eq!(none["total_count"], 0);
        let past = inst.list_machines(&ListMachines { query: None, limit: 10, offset: 99 });
        assert_eq!(past["data"], json!([]));
        let id = inst.machines[1].id.clone();
        assert_eq!(inst.get_machine(&id).unwrap()["name"], "b");
        assert_eq!(inst.get_machine("mch_x").unwrap_err().status.as_u16(), 404);
        let s = inst.machine_secret(&id).unwrap();
        assert_eq!(s["object"], "machine_secret_key");
        assert_eq!(s["secret"], inst.machines[1].secret_key.as_str());
        assert!(inst.machine_secret("mch_x").is_err());
    }

    #[test]
    fn update_delete_and_rotate() {
        let mut inst = instance();
        let (a, b, c) = (inst.machines[0].id.clone(), inst.machines[1].id.clone(), inst.machines[2].id.clone());
        let upd = |name: Option<&str>, ttl: Option<f64>| UpdateMachine { name: name.map(str::to_owned), default_token_ttl: ttl };
        let v = inst.update_machine(&c, &upd(Some("renamed"), Some(90.0)), 50).unwrap();
        assert_eq!((v["name"].as_str(), v["default_token_ttl"].as_u64(), v["updated_at"].as_i64()), (Some("renamed"), Some(90), Some(50)));
        assert!(v.get("secret_key").is_none());
        assert_eq!(inst.update_machine(&c, &upd(None, None), 60).unwrap()["name"], "renamed");
        assert_eq!(inst.update_machine(&c, &upd(Some(" "), None), 0).unwrap_err().code, "form_param_missing");
        assert_eq!(inst.update_machine(&c, &upd(None, Some(0.0)), 0).unwrap_err().code, "form_param_value_invalid");
        assert_eq!(inst.update_machine("mch_x", &upd(Some("x"), None), 0).unwrap_err().status.as_u16(), 404);
        assert_eq!(inst.machine(&c).unwrap().default_token_ttl, 90, "a refused update changes nothing");

        // Rotation: the new key works at once, the old one for the grace period only.
        let old = inst.machines[1].secret_key.clone();
        let r = inst.rotate_machine_secret(&b, 60.0, 1_000).unwrap();
        let new = r["secret"].as_str().unwrap().to_owned();
        assert_eq!(r["object"], "machine_secret_key");
        assert!(new.starts_with("ak_") && new != old);
        let m = inst.machine(&b).unwrap();
        assert!(m.accepts(&new, 1_000) && m.accepts(&old, 60_999) && !m.accepts(&old, 61_000));
        assert!(!format!("{m:?}").contains(&old[3..]), "Debug redacts the previous key");
        inst.rotate_machine_secret(&b, 0.0, 2_000).unwrap();
        assert!(!inst.machine(&b).unwrap().accepts(&new, 2_000), "0 = the old key stops at once");
        for bad in [-1.0, 0.5, MAX_PREVIOUS_TOKEN_TTL + 1.0, f64::NAN] {
            assert_eq!(inst.rotate_machine_secret(&b, bad, 0).unwrap_err().code, "form_param_value_invalid", "{bad}");
        }
        assert_eq!(inst.rotate_machine_secret("mch_x", 0.0, 0).unwrap_err().status.as_u16(), 404);

        // Deleting a machine removes it from every scope list.
        assert_eq!(inst.machine(&b).unwrap().scoped_machines, vec![a.clone()]);
        assert_eq!(inst.delete_machine(&a, 70).unwrap(), json!({"object": "machine", "id": a, "deleted": true}));
        assert!(inst.machine(&a).is_none());
        assert!(inst.machine(&b).unwrap().scoped_machines.is_empty());
        assert_eq!(inst.delete_machine(&a, 70).unwrap_err().status.as_u16(), 404);
    }

    #[test]
    fn scopes_add_and_delete() {
        let mut inst = instance();
        let limits = Limits::default();
        let (a, c) = (inst.machines[0].id.clone(), inst.machines[2].id.clone());
        let v = inst.add_scope(&c, &a, 7, &limits).unwrap();
        assert_eq!(v, json!({"object": "machine_scope", "from_machine_id": c, "to_machine_id": a, "created_at": 7}));
        inst.add_scope(&c, &a, 8, &limits).unwrap();
        assert_eq!(inst.machine(&c).unwrap().scoped_machines, vec![a.clone()]);
        assert_eq!(inst.add_scope("mch_x", &a, 0, &limits).unwrap_err().status.as_u16(), 404);
        assert_eq!(inst.add_scope(&c, "mch_x", 0, &limits).unwrap_err().status.as_u16(), 400);
        assert_eq!(inst.add_scope(&c, &c, 0, &limits).unwrap_err().status.as_u16(), 400);
        let b = inst.machines[1].id.clone();
        let one = Limits { max_scopes_per_machine: 1, ..Limits::default() };
        assert!(inst.add_scope(&c, &b, 0, &one).is_err());
        let d = inst.delete_scope(&c, &a, 9).unwrap();
        assert_eq!(d["deleted"], true);
        assert!(inst.delete_scope(&c, &a, 9).is_err());
        assert!(inst.delete_scope("mch_x", &a, 9).is_err());
    }
}
