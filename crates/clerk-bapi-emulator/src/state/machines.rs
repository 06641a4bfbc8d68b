//! Machines (`/v1/machines…`): creation, listing, scopes and secret keys, in Clerk's JSON shapes
//! (`object: "machine"`, nested scoped machines without their own scopes or secret).

use super::{Instance, Limits, Machine};
use crate::errors::ApiError;
use crate::ids;
use serde_json::{json, Value};

/// Default `default_token_ttl` (seconds) of a machine created without one.
pub const DEFAULT_TOKEN_TTL: u64 = 3600;
/// Longest accepted TTL, 10 years in seconds (keeps ms arithmetic far from overflow).
pub const MAX_TTL_SECONDS: f64 = 315_360_000.0;
/// Longest machine name.
pub const MAX_NAME_LEN: usize = 255;

/// `GET /v1/machines` query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMachines {
    /// Case-insensitive substring of the name or id.
    pub query: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

impl Instance {
    fn machine_json(&self, m: &Machine, with_secret: bool) -> Value {
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
        if name.trim().is_empty() {
            return Err(ApiError::param_missing("name"));
        }
        if name.chars().count() > MAX_NAME_LEN {
            return Err(ApiError::param_value_invalid("name", &format!("must be at most {MAX_NAME_LEN} characters.")));
        }
        let ttl = match default_token_ttl {
            None => DEFAULT_TOKEN_TTL,
            Some(t) if (1.0..=MAX_TTL_SECONDS).contains(&t) && t.fract() == 0.0 => t as u64,
            Some(_) => return Err(ApiError::param_value_invalid("default_token_ttl", &format!("must be an integer between 1 and {MAX_TTL_SECONDS}."))),
        };
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
        };
        let json = self.machine_json(&machine, true);
        self.machines.push(machine);
        Ok(json)
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
