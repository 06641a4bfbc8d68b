//! M2M token endpoints and JWKS over real HTTP: shapes, auth, validation, JWT verification with
//! jsonwebtoken against the served JWKS, rotation, clock offset, multi-instance scoping.

mod common;

use clerk_bapi_emulator::{Emulator, InstanceConfig, Route};
use common::*;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn jwk_for<'a>(jwks: &'a Value, kid: &str) -> &'a Value {
    jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap_or_else(|| panic!("kid {kid} not in {jwks}"))
}

/// Verifies `token` with jsonwebtoken using the JWK the emulator serves for its kid.
fn verify_with_jwks(token: &str, jwks: &Value) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk: Jwk = serde_json::from_value(jwk_for(jwks, header.kid.as_deref().unwrap()).clone()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(&jwk).unwrap(), &validation).unwrap().claims
}

#[tokio::test]
async fn jwks_shape_and_auth() {
    let emu = start().await;
    let url = emu.url();
    let inst = emu.instance(0).unwrap();
    let r = get(url, "/v1/jwks", Some(&inst.secret_key)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type(), "application/json");
    let jwks = r.json();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    let key = &jwks["keys"][0];
    let order: Vec<&str> = key.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(order, ["use", "kty", "kid", "alg", "n", "e"]);
    assert_eq!(key["kid"], inst.kid.clone().unwrap());
    assert_eq!((key["use"].as_str(), key["kty"].as_str(), key["alg"].as_str(), key["e"].as_str()), (Some("sig"), Some("RSA"), Some("RS256"), Some("AQAB")));
    assert!(inst.kid.as_deref().unwrap().starts_with("ins_"));

    let machine = emu.machine("trpc").unwrap();
    for key in [None, Some("sk_test_wrong"), Some(machine.secret_key.as_str())] {
        let r = get(url, "/v1/jwks", key).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(r.error_code(), "clerk_key_invalid");
        assert_eq!(r.content_type(), "application/json");
        assert_eq!(r.json()["clerk_trace_id"].as_str().unwrap().len(), 32);
    }
    assert_eq!(emu.count(Route::Jwks), 4);
    emu.shutdown().await;
}

#[tokio::test]
async fn opaque_create_list_revoke_verify() {
    let emu = start().await;
    let url = emu.url();
    let (trpc, webhook, worker) = (emu.machine("trpc").unwrap(), emu.machine("webhook").unwrap(), emu.machine("worker").unwrap());
    let sk = emu.secret_key();

    let created = mint(url, &webhook.secret_key, json!({"seconds_until_expiration": 3600, "claims": {"role": "svc"}, "token_format": "opaque"})).await;
    assert_eq!(created["object"], "machine_to_machine_token");
    assert_eq!(created["subject"], webhook.id.as_str());
    assert_eq!(created["scopes"], json!([trpc.id]));
    assert_eq!(created["claims"], json!({"role": "svc"}));
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(token.starts_with("mt_") && token.len() >= 35 && id.starts_with("mt_") && token != id);
    let created_at = created["created_at"].as_i64().unwrap();
    assert!((created_at - emu.now_ms()).abs() < 10_000, "timestamps are ms");
    assert_eq!(created["expiration"].as_i64().unwrap(), created_at + 3_600_000);

    // Verify: by the scoped machine (trpc), by the minter, by the instance; worker is out of scope.
    for key in [&trpc.secret_key, &webhook.secret_key, &sk] {
        let r = post(url, "/m2m_tokens/verify", Some(key), &json!({"token": token})).await;
        assert_eq!(r.status, StatusCode::OK);
        let v = r.json();
        assert_eq!(v["id"], id.as_str());
        assert!(v.get("token").is_none());
    }
    let r = post(url, "/m2m_tokens/verify", Some(&worker.secret_key), &json!({"token": token})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "resource_not_found");
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&sk), &json!({"token": "mt_unknown"})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&sk), &json!({"token": id})).await.status, StatusCode::NOT_FOUND);

    // List (machine key: own tokens; instance key with subject).
    mint(url, &webhook.secret_key, json!({})).await;
    let r = get(url, &format!("/m2m_tokens?subject={}&limit=10", webhook.id), Some(&webhook.secret_key)).await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    assert_eq!(list["total_count"], 2);
    assert!(list["m2m_tokens"].as_array().unwrap().iter().all(|t| t.get("token").is_none()));
    assert_eq!(get(url, &format!("/m2m_tokens?subject={}", webhook.id), Some(&sk)).await.json()["total_count"], 2);
    assert_eq!(get(url, &format!("/m2m_tokens?subject={}", webhook.id), Some(&trpc.secret_key)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(get(url, "/m2m_tokens?limit=1&offset=1", Some(&webhook.secret_key)).await.json()["m2m_tokens"].as_array().unwrap().len(), 1);
    for bad in ["?limit=0", "?limit=501", "?limit=x", "?offset=-1", "?revoked=yes", "?expired=1"] {
        let r = get(url, &format!("/m2m_tokens{bad}"), Some(&sk)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Revoke, then verify shows revoked:true (default) and list hides it unless revoked=true.
    let r = post(url, &format!("/m2m_tokens/{id}/revoke"), Some(&webhook.secret_key), &json!({"revocation_reason": "rotated"})).await;
    assert_eq!(r.status, StatusCode::OK);
    let revoked = r.json();
    assert_eq!((revoked["revoked"].as_bool(), revoked["revocation_reason"].as_str()), (Some(true), Some("rotated")));
    let v = post(url, "/m2m_tokens/verify", Some(&trpc.secret_key), &json!({"token": token})).await.json();
    assert_eq!(v["revoked"], true);
    assert_eq!(get(url, "/m2m_tokens", Some(&webhook.secret_key)).await.json()["total_count"], 1);
    assert_eq!(get(url, "/m2m_tokens?revoked=true", Some(&webhook.secret_key)).await.json()["total_count"], 2);
    assert_eq!(post(url, "/m2m_tokens/mt_nope/revoke", Some(&sk), &json!({"revocation_reason": null})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post(url, &format!("/m2m_tokens/{id}/revoke"), Some(&worker.secret_key), &json!({})).await.status, StatusCode::NOT_FOUND);

    // The per-instance switch turns inactive tokens into 404s.
    emu.set_reject_inactive_tokens(0, true).unwrap();
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&trpc.secret_key), &json!({"token": token})).await.status, StatusCode::NOT_FOUND);
    emu.shutdown().await;
}

#[tokio::test]
async fn create_auth_and_validation() {
    let emu = start().await;
    let url = emu.url();
    let machine = emu.machine("webhook").unwrap();
    let sk = emu.secret_key();
    let r = post(url, "/m2m_tokens", Some(&sk), &json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "machine_secret_key_invalid");
    assert_eq!(post(url, "/m2m_tokens", None, &json!({})).await.error_code(), "machine_secret_key_invalid");
    assert_eq!(post(url, "/m2m_tokens", Some("ak_wrong"), &json!({})).await.status, StatusCode::UNAUTHORIZED);
    // An API key is not a machine credential even though it starts with ak_.
    let api_key = emu.seed_api_key(0, clerk_bapi_emulator::ApiKeySeed { subject: "user_1".into(), ..Default::default() }).unwrap();
    assert_eq!(post(url, "/m2m_tokens", Some(&api_key.secret), &json!({})).await.status, StatusCode::UNAUTHORIZED);

    let k = Some(machine.secret_key.as_str());
    // Empty body = all defaults (opaque, never expires).
    let r = call(url, Method::POST, "/m2m_tokens", k, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["expiration"], Value::Null);
    for (body, code) in [
        ("{", "malformed_request_body"),
        ("[1]", "malformed_request_body"),
        ("not json", "malformed_request_body"),
        (r#"{"seconds_until_expiration":"60"}"#, "form_param_format_invalid"),
        (r#"{"seconds_until_expiration":0}"#, "form_param_value_invalid"),
        (r#"{"claims":"x"}"#, "form_param_format_invalid"),
        (r#"{"token_format":"paseto"}"#, "form_param_value_invalid"),
        (r#"{"token_format":1}"#, "form_param_format_invalid"),
        (r#"{"seconds_until_expiration":60,"min_remaining_ttl_seconds":60}"#, "form_param_value_invalid"),
        (r#"{"min_remaining_ttl_seconds":-1}"#, "form_param_value_invalid"),
    ] {
        let r = call(url, Method::POST, "/m2m_tokens", k, Some(body)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.error_code(), code, "{body}");
        assert_eq!(r.content_type(), "application/json");
    }
    // verify/revoke bodies.
    for (path, body, status) in [
        ("/m2m_tokens/verify", "{}", StatusCode::BAD_REQUEST),
        ("/m2m_tokens/verify", r#"{"token":5}"#, StatusCode::BAD_REQUEST),
        ("/m2m_tokens/verify", "{oops", StatusCode::BAD_REQUEST),
        ("/m2m_tokens/x/revoke", r#"{"revocation_reason":7}"#, StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(call(url, Method::POST, path, Some(&sk), Some(body)).await.status, status, "{path} {body}");
    }
    // Oversized request body → 413 in Clerk's format.
    let huge = format!(r#"{{"token":"{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let r = call(url, Method::POST, "/m2m_tokens/verify", Some(&sk), Some(&huge)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.error_code(), "request_body_too_large");
    emu.shutdown().await;
}

#[tokio::test]
async fn min_remaining_ttl_reuse_over_http() {
    let emu = start().await;
    let url = emu.url();
    let k = emu.machine("webhook").unwrap().secret_key;
    let body = json!({"seconds_until_expiration": 600, "claims": null, "min_remaining_ttl_seconds": 300, "token_format": "opaque"});
    let a = mint(url, &k, body.clone()).await;
    let b = mint(url, &k, body.clone()).await;
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["token"], b["token"]);
    // 301 s later only 299 s are left: a new token.
    emu.advance_clock_ms(301_000);
    let c = mint(url, &k, body).await;
    assert_ne!(c["id"], a["id"]);
    emu.shutdown().await;
}

#[tokio::test]
async fn jwt_tokens_verify_with_jsonwebtoken_and_emulator() {
    let emu = start().await;
    let url = emu.url();
    let (trpc, webhook) = (emu.machine("trpc").unwrap(), emu.machine("webhook").unwrap());
    let sk = emu.secret_key();
    let created = mint(url, &webhook.secret_key, json!({"seconds_until_expiration": 120, "claims": {"role": "svc", "sub": "forged"}, "token_format": "jwt"})).await;
    let jwt = created["token"].as_str().unwrap().to_owned();
    let header = jsonwebtoken::decode_header(&jwt).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let inst = emu.instance(0).unwrap();
    assert_eq!(header.kid, inst.kid);
    let jwks = get(url, "/v1/jwks", Some(&sk)).await.json();
    let claims = verify_with_jwks(&jwt, &jwks);
    assert_eq!(claims["sub"], webhook.id.as_str());
    assert_eq!(claims["aud"], json!([trpc.id]));
    assert_eq!(claims["scopes"], trpc.id.as_str());
    assert_eq!(claims["jti"], created["id"]);
    assert_eq!(claims["iss"], inst.issuer.as_str());
    assert_eq!(claims["role"], "svc");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120);
    assert_eq!(claims["nbf"].as_i64().unwrap(), claims["iat"].as_i64().unwrap() - 5);
    // The exact header bytes (key order) the reference's cat check sees.
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap();
    assert_eq!(String::from_utf8(raw).unwrap(), format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{}","cat":"cl_B7d4PD333AAA"}}"#, inst.kid.unwrap()));
    // The PEM the start-up line prints verifies the token as well.
    let pem_key = DecodingKey::from_rsa_pem(inst.public_key_pem.unwrap().as_bytes()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_aud = false;
    assert!(jsonwebtoken::decode::<Value>(&jwt, &pem_key, &v).is_ok());

    // The emulator's own verify endpoint accepts it, and 404s once expired (clock offset).
    let r = post(url, "/m2m_tokens/verify", Some(&trpc.secret_key), &json!({"token": jwt})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["id"], created["id"]);
    emu.set_clock_offset_ms(121_000);
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&sk), &json!({"token": jwt})).await.status, StatusCode::NOT_FOUND);
    emu.set_clock_offset_ms(0);
    // Tampered → 404. One character in the middle of the signature changes (the last ones may
    // carry only padding bits, and "AA" there can leave the signature as it was).
    let sig_start = jwt.rfind('.').unwrap() + 1;
    let i = sig_start + (jwt.len() - sig_start) / 2;
    let flipped = if &jwt[i..=i] == "A" { "B" } else { "A" };
    let tampered = format!("{}{}{}", &jwt[..i], flipped, &jwt[i + 1..]);
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&sk), &json!({"token": tampered})).await.status, StatusCode::NOT_FOUND);
    emu.shutdown().await;
}

#[tokio::test]
async fn key_rotation_and_retirement() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    let webhook = emu.machine("webhook").unwrap();
    let old_kid = emu.instance(0).unwrap().kid.unwrap();
    let old_jwt = mint(url, &webhook.secret_key, json!({"token_format": "jwt", "seconds_until_expiration": 600})).await["token"].as_str().unwrap().to_owned();

    let new_key = emu.rotate_key(0).await.unwrap();
    assert_ne!(new_key.kid, old_kid);
    let jwks = get(url, "/v1/jwks", Some(&sk)).await.json();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, [old_kid.as_str(), new_key.kid.as_str()]);
    let new_jwt = mint(url, &webhook.secret_key, json!({"token_format": "jwt", "seconds_until_expiration": 600})).await["token"].as_str().unwrap().to_owned();
    assert_eq!(jsonwebtoken::decode_header(&new_jwt).unwrap().kid.as_deref(), Some(new_key.kid.as_str()));
    verify_with_jwks(&old_jwt, &jwks);
    verify_with_jwks(&new_jwt, &jwks);
    assert_eq!(emu.instance(0).unwrap().kid.as_deref(), Some(new_key.kid.as_str()));

    emu.retire_key(0, &old_kid).unwrap();
    assert!(emu.retire_key(0, &old_kid).is_err());
    let jwks = get(url, "/v1/jwks", Some(&sk)).await.json();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], new_key.kid.as_str());
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&sk), &json!({"token": old_jwt})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&sk), &json!({"token": new_jwt})).await.status, StatusCode::OK);

    // A chosen kid; duplicates are refused; retiring every key empties JWKS and JWT minting fails.
    emu.add_signing_key(0, "ins_chosen").await.unwrap();
    assert!(emu.add_signing_key(0, "ins_chosen").await.is_err());
    emu.retire_key(0, "ins_chosen").unwrap();
    emu.retire_key(0, &new_key.kid).unwrap();
    assert_eq!(get(url, "/v1/jwks", Some(&sk)).await.json(), json!({"keys": []}));
    let r = post(url, "/m2m_tokens", Some(&webhook.secret_key), &json!({"token_format": "jwt"})).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(emu.rotate_key(9).await.is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn opaque_expiry_follows_the_clock_offset() {
    let emu = start().await;
    let url = emu.url();
    let (trpc, webhook) = (emu.machine("trpc").unwrap(), emu.machine("webhook").unwrap());
    let t = mint(url, &webhook.secret_key, json!({"seconds_until_expiration": 60})).await;
    let body = json!({"token": t["token"]});
    let verify = || post(url, "/m2m_tokens/verify", Some(&trpc.secret_key), &body);
    assert_eq!(verify().await.json()["expired"], false);
    emu.advance_clock_ms(60_000);
    let v = verify().await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.json()["expired"], true);
    assert_eq!(get(url, "/m2m_tokens", Some(&webhook.secret_key)).await.json()["total_count"], 0);
    assert_eq!(get(url, "/m2m_tokens?expired=true", Some(&webhook.secret_key)).await.json()["total_count"], 1);
    emu.set_clock_offset_ms(-1);
    assert_eq!(emu.clock_offset_ms(), -1);
    emu.shutdown().await;
}

#[tokio::test]
async fn instances_are_isolated_even_with_a_shared_kid() {
    let emu = Emulator::builder()
        .instance(InstanceConfig::new().kid("ins_shared").machine("a", &[]))
        .instance(InstanceConfig::new().kid("ins_shared").machine("a", &[]))
        .start()
        .await
        .unwrap();
    let url = emu.url();
    let (i0, i1) = (emu.instance(0).unwrap(), emu.instance(1).unwrap());
    assert_eq!(i0.kid, i1.kid);
    assert_ne!(i0.secret_key, i1.secret_key);
    let j0 = get(url, "/v1/jwks", Some(&i0.secret_key)).await.json();
    let j1 = get(url, "/v1/jwks", Some(&i1.secret_key)).await.json();
    assert_eq!(j0["keys"][0]["kid"], j1["keys"][0]["kid"]);
    assert_ne!(j0["keys"][0]["n"], j1["keys"][0]["n"]);
    // A JWT of instance 0 does not verify against instance 1's JWKS, nor at instance 1's BAPI.
    let a0 = emu.machine_in(0, "a").unwrap();
    let jwt = mint(url, &a0.secret_key, json!({"token_format": "jwt", "seconds_until_expiration": 60})).await["token"].as_str().unwrap().to_owned();
    let jwk: Jwk = serde_json::from_value(j1["keys"][0].clone()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_aud = false;
    assert!(jsonwebtoken::decode::<Value>(&jwt, &DecodingKey::from_jwk(&jwk).unwrap(), &v).is_err());
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&i1.secret_key), &json!({"token": jwt})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&i0.secret_key), &json!({"token": jwt})).await.status, StatusCode::OK);
    // Opaque tokens are per instance too.
    let opaque = mint(url, &a0.secret_key, json!({})).await;
    assert_eq!(post(url, "/m2m_tokens/verify", Some(&i1.secret_key), &json!({"token": opaque["token"]})).await.status, StatusCode::NOT_FOUND);
    assert!(emu.instance(2).is_none());
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let emu = start().await;
    let url = emu.url();
    let sk = emu.secret_key();
    for (method, path, status) in [
        (Method::GET, "/v1/nope", StatusCode::NOT_FOUND),
        (Method::GET, "/v1/m2m_tokens", StatusCode::NOT_FOUND), // no /v1 on m2m paths
        (Method::DELETE, "/m2m_tokens", StatusCode::METHOD_NOT_ALLOWED),
        (Method::GET, "/m2m_tokens/verify", StatusCode::METHOD_NOT_ALLOWED),
        (Method::POST, "/v1/jwks", StatusCode::METHOD_NOT_ALLOWED),
        (Method::PUT, "/api_keys/verify", StatusCode::METHOD_NOT_ALLOWED),
    ] {
        let r = call(url, method.clone(), path, Some(&sk), None).await;
        assert_eq!(r.status, status, "{method} {path}");
        assert_eq!(r.content_type(), "application/json");
        assert!(r.json()["clerk_trace_id"].is_string());
    }
    assert_eq!(emu.counters()["other"], 6);
    emu.shutdown().await;
}
