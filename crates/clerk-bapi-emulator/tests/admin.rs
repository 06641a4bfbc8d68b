//! The admin HTTP API (`/__emulator/…`) that out-of-process tests (the JS helper) use.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn info_matches_the_handle() {
    let emu = start().await;
    let r = admin(emu.url(), Method::GET, "/info", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "application/json");
    let info = r.json();
    assert_eq!(info, emu.info_json());
    assert_eq!(info["url"], emu.url());
    let inst = &info["instances"][0];
    assert_eq!(inst["secretKey"], emu.secret_key().as_str());
    assert!(inst["publicKeyPem"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(inst["kid"].as_str().unwrap().starts_with("ins_"));
    let names: Vec<&str> = info["machines"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["trpc", "webhook", "worker"]);
    let trpc_id = info["machines"][0]["id"].as_str().unwrap();
    assert_eq!(info["machines"][1]["scopedMachines"], json!([trpc_id]));
    assert!(info["machines"][1]["secretKey"].as_str().unwrap().starts_with("ak_"));
    emu.shutdown().await;
}

#[tokio::test]
async fn faults_over_http() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let r = admin(url, Method::PUT, "/faults/jwks", Some(json!({"type": "status", "status": 503, "retryAfter": 3, "times": 1}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["route"], "jwks");
    assert_eq!(admin(url, Method::GET, "/faults", None).await.json()["faults"]["jwks"]["times"], 1);
    let res = get(url, "/v1/jwks", Some(&sk)).await;
    assert_eq!((res.status, res.headers["retry-after"].to_str().unwrap()), (StatusCode::SERVICE_UNAVAILABLE, "3"));
    assert_eq!(get(url, "/v1/jwks", Some(&sk)).await.status, StatusCode::OK);
    // snake_case works too, POST works like PUT.
    let r = admin(url, Method::POST, "/faults/m2m_verify", Some(json!({"type": "slow_drip", "chunk_bytes": 1, "interval_ms": 1}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(admin(url, Method::DELETE, "/faults/m2m_verify", None).await.status, StatusCode::OK);
    admin(url, Method::PUT, "/faults/machines", Some(json!({"type": "drop"}))).await;
    admin(url, Method::PUT, "/faults/api_key_verify", Some(json!({"type": "hang"}))).await;
    assert_eq!(emu.faults().len(), 2);
    assert_eq!(admin(url, Method::DELETE, "/faults", None).await.status, StatusCode::OK);
    assert!(emu.faults().is_empty());
    // Errors: unknown route → 404, bad fault → 400, all in Clerk's format.
    let r = admin(url, Method::PUT, "/faults/nope", Some(json!({"type": "hang"}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["errors"][0]["long_message"].as_str().unwrap().contains("m2m_create"));
    for bad in [json!({"type": "warp"}), json!({"type": "status"}), json!({"type": "status", "status": 1000}), json!([1])] {
        let r = admin(url, Method::PUT, "/faults/jwks", Some(bad.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.error_code(), "admin_request_invalid");
    }
    assert_eq!(call(url, Method::PUT, "/__emulator/faults/jwks", None, Some("{")).await.status, StatusCode::BAD_REQUEST);
    // Admin calls are not counted.
    assert_eq!(emu.counters()["other"], 0);
    assert_eq!(emu.count(clerk_bapi_emulator::Route::Jwks), 2);
    emu.shutdown().await;
}

#[tokio::test]
async fn counters_requests_and_clock_over_http() {
    let emu = start().await;
    let url = emu.url();
    get(url, "/v1/jwks", None).await;
    get(url, "/nope", None).await;
    let c = admin(url, Method::GET, "/counters", None).await.json();
    assert_eq!((c["jwks"].as_u64(), c["other"].as_u64(), c["m2m_create"].as_u64()), (Some(1), Some(1), Some(0)));
    let reset = admin(url, Method::DELETE, "/counters", None).await.json();
    assert_eq!(reset["jwks"], 0);
    let reqs = admin(url, Method::GET, "/requests", None).await.json();
    let list = reqs["requests"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["path"], "/v1/jwks");
    assert_eq!(list[0]["authorizationPresent"], false);
    assert_eq!(list[0]["userAgent"], UA);
    assert_eq!(admin(url, Method::DELETE, "/requests", None).await.json()["requests"], json!([]));
    assert!(emu.requests().is_empty());

    let clock = admin(url, Method::PUT, "/clock", Some(json!({"offsetMs": 60_000}))).await.json();
    assert_eq!(clock["offsetMs"], 60_000);
    assert_eq!(emu.clock_offset_ms(), 60_000);
    let clock = admin(url, Method::PUT, "/clock", Some(json!({"advance_ms": -1000}))).await.json();
    assert_eq!(clock["offsetMs"], 59_000);
    assert!(admin(url, Method::GET, "/clock", None).await.json()["nowMs"].as_i64().unwrap() > 0);
    assert_eq!(admin(url, Method::PUT, "/clock", Some(json!({}))).await.status, StatusCode::BAD_REQUEST);
    emu.shutdown().await;
}

#[tokio::test]
async fn keys_settings_machines_seeds_and_signing_over_http() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let old_kid = emu.instance(0).unwrap().kid.unwrap();
    let key = admin(url, Method::POST, "/instances/0/keys", None).await.json();
    let new_kid = key["kid"].as_str().unwrap().to_owned();
    assert!(key["publicKeyPem"].as_str().unwrap().contains("BEGIN PUBLIC KEY"));
    assert_eq!(key["jwk"]["kid"], new_kid.as_str());
    let chosen = admin(url, Method::POST, &format!("/instances/{}/keys", emu.instance(0).unwrap().id), Some(json!({"kid": "ins_chosen"}))).await;
    assert_eq!(chosen.json()["kid"], "ins_chosen");
    assert_eq!(admin(url, Method::POST, "/instances/0/keys", Some(json!({"kid": "ins_chosen"}))).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(url, "/v1/jwks", Some(&sk)).await.json()["keys"].as_array().unwrap().len(), 3);
    assert_eq!(admin(url, Method::DELETE, &format!("/instances/0/keys/{old_kid}"), None).await.status, StatusCode::OK);
    assert_eq!(admin(url, Method::DELETE, &format!("/instances/0/keys/{old_kid}"), None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(admin(url, Method::POST, "/instances/7/keys", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(admin(url, Method::POST, "/instances/ins_nope/keys", None).await.status, StatusCode::NOT_FOUND);

    let s = admin(url, Method::PUT, "/instances/0/settings", Some(json!({"rejectInactiveTokens": true}))).await.json();
    assert_eq!(s["rejectInactiveTokens"], true);
    assert!(emu.instance(0).unwrap().reject_inactive_tokens);

    let m = admin(url, Method::POST, "/instances/0/machines", Some(json!({"name": "reports", "scopedTo": ["trpc"], "defaultTokenTtl": 30}))).await;
    assert_eq!(m.status, StatusCode::OK);
    let m = m.json();
    assert_eq!(m["scopedMachines"], json!([emu.machine("trpc").unwrap().id]));
    assert_eq!(m["defaultTokenTtl"], 30);
    mint(url, m["secretKey"].as_str().unwrap(), json!({})).await;
    assert_eq!(admin(url, Method::POST, "/instances/0/machines", Some(json!({"name": "x", "scopedTo": ["ghost"]}))).await.status, StatusCode::BAD_REQUEST);

    let oat = admin(url, Method::POST, "/instances/0/oauth_tokens", Some(json!({"subject": "user_1", "scopes": ["a"], "expiresInSeconds": 60}))).await.json();
    assert!(oat["secret"].as_str().unwrap().starts_with("oat_"));
    assert_eq!(post(url, "/oauth_applications/access_tokens/verify", Some(&sk), &json!({"access_token": oat["secret"]})).await.json()["id"], oat["id"]);
    let ak = admin(url, Method::POST, "/instances/0/api_keys", Some(json!({"subject": "user_1", "name": "k"}))).await.json();
    assert_eq!(post(url, "/api_keys/verify", Some(&sk), &json!({"secret": ak["secret"]})).await.json()["name"], "k");
    assert_eq!(admin(url, Method::POST, "/instances/0/api_keys", Some(json!({"name": "no subject"}))).await.status, StatusCode::BAD_REQUEST);

    let signed = admin(url, Method::POST, "/instances/0/sign", Some(json!({"header": {"alg": "RS256", "kid": "ins_chosen", "typ": "JWT"}, "payload": {"sub": "mch_x"}}))).await.json();
    let token = signed["token"].as_str().unwrap();
    let jwks = get(url, "/v1/jwks", Some(&sk)).await.json();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == "ins_chosen").unwrap().clone()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(), &v).unwrap();
    assert_eq!(data.claims["sub"], "mch_x");
    assert_eq!(admin(url, Method::POST, "/instances/0/sign", Some(json!({"header": {}}))).await.status, StatusCode::BAD_REQUEST);
    // Import a key the test holds, under the instance's current kid: it replaces that key.
    use aws_lc_rs::encoding::AsDer;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pem = spki::der::pem::encode_string("PRIVATE KEY", spki::der::pem::LineEnding::LF, pair.as_der().unwrap().as_ref()).unwrap();
    let imported = admin(url, Method::POST, "/instances/0/keys", Some(json!({"kid": "ins_chosen", "privateKeyPem": pem}))).await;
    assert_eq!(imported.status, StatusCode::OK);
    let jwks = get(url, "/v1/jwks", Some(&sk)).await.json();
    let served: Vec<&serde_json::Value> = jwks["keys"].as_array().unwrap().iter().filter(|k| k["kid"] == "ins_chosen").collect();
    assert_eq!(served.len(), 1);
    assert_eq!(served[0]["n"], imported.json()["jwk"]["n"]);
    assert_eq!(emu.instance(0).unwrap().kid.as_deref(), Some("ins_chosen"));
    assert_eq!(admin(url, Method::POST, "/instances/0/keys", Some(json!({"privateKeyPem": pem}))).await.status, StatusCode::BAD_REQUEST);
    let bad = admin(url, Method::POST, "/instances/0/keys", Some(json!({"kid": "k", "privateKeyPem": "nope"}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(!bad.json().to_string().contains("nope"));
    assert!(emu.import_signing_key(0, " ", &pem).is_err());
    assert!(emu.import_signing_key(9, "k", &pem).is_err());
    // Unknown admin path / method.
    assert_eq!(admin(url, Method::GET, "/nothing", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(admin(url, Method::PATCH, "/info", None).await.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(emu.counters()["other"], 0);
    emu.shutdown().await;
}
