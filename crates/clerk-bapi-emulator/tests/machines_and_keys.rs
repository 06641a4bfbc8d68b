//! `/v1/machines…`, OAuth access-token verify and API-key verify over real HTTP.

mod common;

use clerk_bapi_emulator::{ApiKeySeed, MachineConfig, OAuthTokenSeed, Route};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn machines_endpoints() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let trpc = emu.machine("trpc").unwrap();

    let list = get(url, "/v1/machines", Some(&sk)).await;
    assert_eq!(list.status, StatusCode::OK);
    let list = list.json();
    assert_eq!(list["total_count"], 3);
    assert!(list["data"].as_array().unwrap().iter().all(|m| m["object"] == "machine" && m.get("secret_key").is_none()));
    assert_eq!(get(url, "/v1/machines?limit=1&offset=2", Some(&sk)).await.json()["data"][0]["name"], "trpc");
    assert_eq!(get(url, &format!("/v1/machines?query={}", trpc.id), Some(&sk)).await.json()["total_count"], 1);
    assert_eq!(get(url, "/v1/machines?limit=0", Some(&sk)).await.status, StatusCode::BAD_REQUEST);

    let r = post(url, "/v1/machines", Some(&sk), &json!({"name": "billing", "scoped_machines": [trpc.id], "default_token_ttl": 120})).await;
    assert_eq!(r.status, StatusCode::OK);
    let billing = r.json();
    assert!(billing["id"].as_str().unwrap().starts_with("mch_"));
    assert!(billing["secret_key"].as_str().unwrap().starts_with("ak_"));
    assert_eq!(billing["default_token_ttl"], 120);
    assert_eq!(billing["scoped_machines"][0]["id"], trpc.id.as_str());
    let id = billing["id"].as_str().unwrap();
    // The new machine's key works at once.
    let t = mint(url, billing["secret_key"].as_str().unwrap(), json!({})).await;
    assert_eq!(t["scopes"], json!([trpc.id]));

    let got = get(url, &format!("/v1/machines/{id}"), Some(&sk)).await.json();
    assert_eq!(got["name"], "billing");
    assert!(got.get("secret_key").is_none());
    let secret = get(url, &format!("/v1/machines/{id}/secret_key"), Some(&sk)).await.json();
    assert_eq!(secret, json!({"object": "machine_secret_key", "secret": billing["secret_key"]}));

    let worker = emu.machine("worker").unwrap();
    let scope = post(url, &format!("/v1/machines/{id}/scopes"), Some(&sk), &json!({"to_machine_id": worker.id})).await;
    assert_eq!(scope.status, StatusCode::OK);
    assert_eq!(scope.json()["object"], "machine_scope");
    assert_eq!(emu.machine("billing").unwrap().scoped_machines, vec![trpc.id.clone(), worker.id.clone()]);
    let del = call(url, Method::DELETE, &format!("/v1/machines/{id}/scopes/{}", worker.id), Some(&sk), None).await;
    assert_eq!(del.json()["deleted"], true);

    for (method, path, body, status) in [
        (Method::GET, "/v1/machines/mch_nope".to_owned(), None, StatusCode::NOT_FOUND),
        (Method::GET, "/v1/machines/mch_nope/secret_key".to_owned(), None, StatusCode::NOT_FOUND),
        (Method::POST, "/v1/machines".to_owned(), Some("{}"), StatusCode::BAD_REQUEST),
        (Method::POST, "/v1/machines".to_owned(), Some(r#"{"name":"x","scoped_machines":"mch_1"}"#), StatusCode::BAD_REQUEST),
        (Method::POST, "/v1/machines".to_owned(), Some(r#"{"name":"x","scoped_machines":["mch_unknown"]}"#), StatusCode::BAD_REQUEST),
        (Method::POST, "/v1/machines".to_owned(), Some(r#"{"name":"x","default_token_ttl":0}"#), StatusCode::BAD_REQUEST),
        (Method::POST, format!("/v1/machines/{id}/scopes"), Some("{}"), StatusCode::BAD_REQUEST),
        (Method::POST, "/v1/machines/mch_nope/scopes".to_owned(), Some(&format!(r#"{{"to_machine_id":"{}"}}"#, trpc.id)), StatusCode::NOT_FOUND),
        (Method::DELETE, format!("/v1/machines/{id}/scopes/mch_nope"), None, StatusCode::NOT_FOUND),
        (Method::PATCH, "/v1/machines".to_owned(), None, StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let r = call(url, method.clone(), &path, Some(&sk), body).await;
        assert_eq!(r.status, status, "{method} {path}");
        assert_eq!(r.content_type(), "application/json");
    }
    // Instance secret key only.
    let r = get(url, "/v1/machines", Some(&trpc.secret_key)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "clerk_key_invalid");
    assert_eq!(get(url, "/v1/machines", None).await.status, StatusCode::UNAUTHORIZED);
    assert!(emu.count(Route::Machines) >= 20);

    // Run-time machines through the Rust API, scoped by name.
    let m = emu.create_machine(0, MachineConfig::new("late").scoped_to(&["trpc"])).unwrap();
    assert_eq!(m.scoped_machines, vec![trpc.id.clone()]);
    assert!(emu.create_machine(0, MachineConfig::new("bad").scoped_to(&["nobody"])).is_err());
    assert!(emu.create_machine(5, MachineConfig::new("x")).is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn oauth_access_token_verify() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let seeded = emu
        .seed_oauth_token(0, OAuthTokenSeed { subject: "user_1".into(), client_id: Some("client_1".into()), scopes: vec!["read".into()], aud: Some(vec!["https://api".into()]), expires_in_seconds: Some(60.0), revoked: false })
        .unwrap();
    let path = "/oauth_applications/access_tokens/verify";
    let r = post(url, path, Some(&sk), &json!({"access_token": seeded.secret})).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["object"], "clerk_idp_oauth_access_token");
    assert_eq!(v["id"], seeded.id.as_str());
    assert_eq!((v["client_id"].as_str(), v["type"].as_str(), v["subject"].as_str()), (Some("client_1"), Some("oauth_token"), Some("user_1")));
    assert_eq!(v["scopes"], json!(["read"]));
    assert_eq!(v["aud"], json!(["https://api"]));
    assert_eq!(v["expired"], false);
    assert_eq!(post(url, path, Some(&sk), &json!({"access_token": "oat_unknown"})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post(url, path, Some(&sk), &json!({})).await.status, StatusCode::BAD_REQUEST);
    let machine_key = emu.machine("trpc").unwrap().secret_key;
    let r = post(url, path, Some(&machine_key), &json!({"access_token": seeded.secret})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "clerk_key_invalid");
    emu.advance_clock_ms(60_000);
    assert_eq!(post(url, path, Some(&sk), &json!({"access_token": seeded.secret})).await.json()["expired"], true);
    emu.set_reject_inactive_tokens(0, true).unwrap();
    assert_eq!(post(url, path, Some(&sk), &json!({"access_token": seeded.secret})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(emu.count(Route::OauthVerify), 6);
    emu.shutdown().await;
}

#[tokio::test]
async fn api_key_verify() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let key = emu.seed_api_key(0, ApiKeySeed { subject: "user_9".into(), name: Some("ci".into()), scopes: vec!["write".into()], ..Default::default() }).unwrap();
    assert!(key.secret.starts_with("ak_"));
    let r = post(url, "/api_keys/verify", Some(&sk), &json!({"secret": key.secret})).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["object"], "api_key");
    assert_eq!((v["name"].as_str(), v["subject"].as_str()), (Some("ci"), Some("user_9")));
    assert!(v["last_used_at"].is_i64());
    // A machine secret key is not an API key, and cannot call this endpoint either.
    let machine_key = emu.machine("trpc").unwrap().secret_key;
    assert_eq!(post(url, "/api_keys/verify", Some(&sk), &json!({"secret": machine_key})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post(url, "/api_keys/verify", Some(&machine_key), &json!({"secret": key.secret})).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(post(url, "/api_keys/verify", None, &json!({"secret": key.secret})).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(post(url, "/api_keys/verify", Some(&sk), &json!({"secret": 1})).await.status, StatusCode::BAD_REQUEST);
    let revoked = emu.seed_api_key(0, ApiKeySeed { subject: "org_1".into(), revoked: true, ..Default::default() }).unwrap();
    assert_eq!(post(url, "/api_keys/verify", Some(&sk), &json!({"secret": revoked.secret})).await.json()["revoked"], true);
    assert!(emu.seed_api_key(3, ApiKeySeed { subject: "u".into(), ..Default::default() }).is_err());
    assert!(emu.seed_api_key(0, ApiKeySeed::default()).is_err());
    emu.shutdown().await;
}

/// `seed`: a restarted emulator serves the same instance, keys and machines (run-time machines
/// included, by name), while tokens stay unique across restarts.
#[tokio::test]
async fn seeded_identities_survive_restarts() {
    use clerk_bapi_emulator::{Emulator, InstanceConfig};
    let start = |seed: &'static str| async move { Emulator::builder().seed(seed).instance(InstanceConfig::with_default_machines()).instance(InstanceConfig::new().machine("solo", &[])).start().await.unwrap() };
    let (a, b, other) = (start("dev").await, start("dev").await, start("other").await);
    let identity = |e: &clerk_bapi_emulator::EmulatorHandle| {
        e.instances().iter().map(|i| (i.id.clone(), i.secret_key.clone(), i.kid.clone(), i.public_key_pem.clone(), i.machines.iter().map(|m| (m.name.clone(), m.id.clone(), m.secret_key.clone(), m.scoped_machines.clone())).collect::<Vec<_>>())).collect::<Vec<_>>()
    };
    assert_eq!(identity(&a), identity(&b));
    assert_ne!(identity(&a)[0].0, identity(&a)[1].0);
    let (ia, io) = (identity(&a), identity(&other));
    for (x, y) in ia.iter().zip(&io) {
        assert_ne!((&x.0, &x.1, &x.3), (&y.0, &y.1, &y.3));
    }
    // JWKS serves the same key.
    let jwks = |e: &clerk_bapi_emulator::EmulatorHandle| {
        let (url, sk) = (e.url().to_owned(), e.secret_key());
        async move { get(&url, "/v1/jwks", Some(&sk)).await.json() }
    };
    assert_eq!(jwks(&a).await, jwks(&b).await);
    // Machines created at run time are seeded too (by name and occurrence).
    let (ma, mb) = (a.create_machine(0, MachineConfig::new("late")).unwrap(), b.create_machine(0, MachineConfig::new("late")).unwrap());
    assert_eq!((&ma.id, &ma.secret_key), (&mb.id, &mb.secret_key));
    let again = a.create_machine(0, MachineConfig::new("late")).unwrap();
    assert_ne!(again.id, ma.id);
    // Tokens are not.
    let webhook = a.machine("webhook").unwrap().secret_key;
    let (ta, tb) = (mint(a.url(), &webhook, json!({})).await, mint(b.url(), &webhook, json!({})).await);
    assert_ne!(ta["id"], tb["id"]);
    assert_ne!(ta["token"], tb["token"]);
    for e in [a, b, other] {
        e.shutdown().await;
    }
}

/// `PATCH`/`DELETE /v1/machines/{id}` and `POST /v1/machines/{id}/secret_key/rotate` in Clerk's
/// shapes (the JS suite runs `@clerk/backend`'s own `machines` client against them too).
#[tokio::test]
async fn machine_update_delete_and_secret_key_rotation() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let trpc = emu.machine("trpc").unwrap();
    let worker = emu.machine("worker").unwrap();

    let r = call(url, Method::PATCH, &format!("/v1/machines/{}", worker.id), Some(&sk), Some(r#"{"name":"jobs","default_token_ttl":90}"#)).await;
    assert_eq!(r.status, StatusCode::OK);
    let m = r.json();
    assert_eq!((m["object"].as_str(), m["name"].as_str(), m["default_token_ttl"].as_u64()), (Some("machine"), Some("jobs"), Some(90)));
    assert!(m.get("secret_key").is_none());
    assert_eq!(m["scoped_machines"][0]["id"], trpc.id.as_str());
    assert!(emu.machine("jobs").is_some());
    for (body, code) in [(r#"{"name":""}"#, "form_param_missing"), (r#"{"default_token_ttl":0}"#, "form_param_value_invalid"), (r#"{"name":5}"#, "form_param_format_invalid")] {
        let r = call(url, Method::PATCH, &format!("/v1/machines/{}", worker.id), Some(&sk), Some(body)).await;
        assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, code.to_owned()), "{body}");
    }

    // Rotation: the new key mints at once; the old one keeps working previous_token_ttl seconds.
    let old = worker.secret_key.clone();
    let r = post(url, &format!("/v1/machines/{}/secret_key/rotate", worker.id), Some(&sk), &json!({"previous_token_ttl": 60})).await;
    assert_eq!(r.status, StatusCode::OK);
    let rotated = r.json();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_eq!(rotated, json!({"object": "machine_secret_key", "secret": new}));
    assert_eq!(get(url, &format!("/v1/machines/{}/secret_key", worker.id), Some(&sk)).await.json()["secret"], new.as_str());
    mint(url, &new, json!({})).await;
    mint(url, &old, json!({})).await;
    emu.advance_clock_ms(60_000);
    let r = post(url, "/m2m_tokens", Some(&old), &json!({})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "machine_secret_key_invalid".to_owned()));
    mint(url, &new, json!({})).await;
    let r = post(url, &format!("/v1/machines/{}/secret_key/rotate", worker.id), Some(&sk), &json!({})).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::BAD_REQUEST, "form_param_missing".to_owned()));
    let r = post(url, &format!("/v1/machines/{}/secret_key/rotate", worker.id), Some(&sk), &json!({"previous_token_ttl": 28_801})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Delete: Clerk's deleted object; gone from lists, scopes and authentication.
    let t = mint(url, &emu.machine("webhook").unwrap().secret_key, json!({})).await;
    let r = call(url, Method::DELETE, &format!("/v1/machines/{}", trpc.id), Some(&sk), None).await;
    assert_eq!(r.json(), json!({"object": "machine", "id": trpc.id, "deleted": true}));
    assert_eq!(get(url, &format!("/v1/machines/{}", trpc.id), Some(&sk)).await.status, StatusCode::NOT_FOUND);
    assert!(emu.machine("webhook").unwrap().scoped_machines.is_empty());
    assert_eq!(post(url, "/m2m_tokens", Some(&trpc.secret_key), &json!({})).await.status, StatusCode::UNAUTHORIZED);
    // The webhook's token was for trpc: still the webhook's, verifiable by the instance.
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&sk), &json!({"token": t["token"]})).await.status, StatusCode::OK);
    for (method, path) in [(Method::PATCH, "/v1/machines/mch_nope"), (Method::DELETE, "/v1/machines/mch_nope"), (Method::POST, "/v1/machines/mch_nope/secret_key/rotate")] {
        let r = call(url, method.clone(), path, Some(&sk), Some(r#"{"previous_token_ttl":0}"#)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Instance secret key only.
    let r = call(url, Method::DELETE, &format!("/v1/machines/{}", worker.id), Some(&new), None).await;
    assert_eq!((r.status, r.error_code()), (StatusCode::UNAUTHORIZED, "clerk_key_invalid".to_owned()));
    emu.shutdown().await;
}
