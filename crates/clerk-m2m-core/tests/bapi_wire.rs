//! Wire format of every Backend API call and `handleClerkAPIError`'s error mapping, against
//! the emulator over real sockets (its request log shows what was sent).

mod common;

use clerk_bapi_emulator::{ApiKeySeed, OAuthTokenSeed, RecordedRequest};
use clerk_m2m_core::bapi::{
    self, create_m2m_token, fetch_jwks, list_m2m_tokens, map_machine_error, revoke_m2m_token, verify_api_key, verify_m2m_opaque,
    verify_m2m_opaque_with_key, verify_oauth_opaque, CreateM2mTokenParams, ListM2mTokensParams, RevokeM2mTokenParams,
};
use clerk_m2m_core::TokenType;
use clerk_m2m_core::{MachineErrorCode, Reason};
use clerk_m2m_core::http::{CLERK_API_VERSION, USER_AGENT};
use clerk_m2m_core::Secret;
use common::{config, emulator, run};
use serde_json::{json, Value};

fn last(emu: &clerk_bapi_emulator::EmulatorHandle) -> RecordedRequest {
    emu.requests().pop().expect("the emulator recorded no request")
}

fn body_text(r: &RecordedRequest) -> String {
    serde_json::to_string(r.body.as_ref().expect("no JSON body")).unwrap()
}

fn assert_common_headers(r: &RecordedRequest) {
    assert_eq!(r.clerk_api_version.as_deref(), Some(CLERK_API_VERSION));
    assert_eq!(r.user_agent.as_deref(), Some(USER_AGENT));
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
}

fn prefix(s: &str) -> String {
    s.chars().take(7).collect()
}

#[test]
fn m2m_create_verify_revoke_list_wire_format() {
    run(async {
        let emu = emulator().await;
        let webhook = emu.machine("webhook").unwrap();
        let trpc = emu.machine("trpc").unwrap();
        let mut cfg = config(&emu, 3000);
        cfg.machine_secret_key = Some(Secret::new(webhook.secret_key.clone()));

        // create: defaults → exact body, key order, nulls; machine key as credential.
        let created = create_m2m_token(&cfg, &CreateM2mTokenParams::default()).await.unwrap();
        let r = last(&emu);
        assert_common_headers(&r);
        assert_eq!((r.method.as_str(), r.path.as_str(), r.query.as_deref()), ("POST", "/m2m_tokens", None));
        assert_eq!(body_text(&r), r#"{"seconds_until_expiration":null,"claims":null,"token_format":"opaque"}"#);
        assert_eq!((r.authorization_scheme.as_deref(), r.authorization_prefix.clone()), (Some("Bearer"), Some(prefix(&webhook.secret_key))));
        assert_eq!(created["object"], "machine_to_machine_token");
        assert_eq!(created["subject"], webhook.id.as_str());
        let token = created["token"].as_str().unwrap().to_owned();
        let id = created["id"].as_str().unwrap().to_owned();

        // create: every parameter, and a per-call key that wins over the config's keys.
        let per_call = CreateM2mTokenParams {
            machine_secret_key: Some(Secret::new(webhook.secret_key.clone())),
            seconds_until_expiration: Some(3600.0),
            claims: Some(json!({"camelCase": {"nested_key": [1, 2]}})),
            min_remaining_ttl_seconds: Some(0.0),
            token_format: Some("jwt".into()),
        };
        let mut other = cfg.clone();
        other.machine_secret_key = Some(Secret::new("ak_wrong_machine_key"));
        let jwt = create_m2m_token(&other, &per_call).await.unwrap();
        let r = last(&emu);
        assert_eq!(body_text(&r), r#"{"seconds_until_expiration":3600,"claims":{"camelCase":{"nested_key":[1,2]}},"min_remaining_ttl_seconds":0,"token_format":"jwt"}"#);
        assert_eq!(r.authorization_prefix, Some(prefix(&webhook.secret_key)));
        assert_eq!(jwt["token"].as_str().unwrap().split('.').count(), 3);

        // verify: machine key of the receiving machine; body exactly {"token"}; no /v1.
        let mut trpc_cfg = config(&emu, 3000);
        trpc_cfg.machine_secret_key = Some(Secret::new(trpc.secret_key.clone()));
        let verified = verify_m2m_opaque(&trpc_cfg, &token).await.unwrap();
        let r = last(&emu);
        assert_common_headers(&r);
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/m2m_tokens/verify"));
        assert_eq!(body_text(&r), serde_json::to_string(&json!({ "token": token })).unwrap());
        assert_eq!(r.authorization_prefix, Some(prefix(&trpc.secret_key)));
        assert_eq!(verified["id"], id.as_str());
        assert_eq!(verified["revoked"], false);
        assert!(verified.get("token").is_none_or(Value::is_null), "verify must not echo the secret");

        // verify: no machine key → the instance secret key.
        let sk_only = config(&emu, 3000);
        verify_m2m_opaque(&sk_only, &token).await.unwrap();
        assert_eq!(last(&emu).authorization_prefix, Some(prefix(&emu.secret_key())));

        // verify: per-call key wins.
        verify_m2m_opaque_with_key(&sk_only, &token, Some(&Secret::new(trpc.secret_key.clone()))).await.unwrap();
        assert_eq!(last(&emu).authorization_prefix, Some(prefix(&trpc.secret_key)));

        // verify: no key at all → request still sent, no Authorization header; 401 → secret-key-invalid.
        let mut none = config(&emu, 3000);
        none.secret_key = None;
        let e = verify_m2m_opaque(&none, &token).await.unwrap_err();
        let r = last(&emu);
        assert!(!r.authorization_present);
        assert_eq!(e.status, Some(401));
        let m = map_machine_error(TokenType::M2MToken, &e, "Machine token not found");
        assert_eq!((m.code, m.message.as_str(), m.status), (MachineErrorCode::InvalidSecretKey, "The provided Machine Secret Key is invalid.", Some(401)));

        // list: query with falsy values omitted.
        let listed = list_m2m_tokens(
            &cfg,
            &ListM2mTokensParams { subject: Some(webhook.id.clone()), revoked: Some(false), expired: Some(true), limit: Some(0.0), offset: Some(1.0), machine_secret_key: None },
        )
        .await
        .unwrap();
        let r = last(&emu);
        assert_common_headers(&r);
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/m2m_tokens"));
        assert_eq!(r.query.as_deref(), Some(format!("subject={}&expired=true&offset=1", webhook.id).as_str()));
        assert_eq!(r.body_length, 0);
        assert!(listed["m2m_tokens"].is_array() && listed["total_count"].is_number(), "{listed}");

        // revoke: exact body with null default, then with a reason; the id travels encoded.
        let revoked = revoke_m2m_token(&cfg, &RevokeM2mTokenParams { m2m_token_id: id.clone(), revocation_reason: None, machine_secret_key: None }).await.unwrap();
        let r = last(&emu);
        assert_common_headers(&r);
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", format!("/m2m_tokens/{id}/revoke").as_str()));
        assert_eq!(body_text(&r), r#"{"revocation_reason":null}"#);
        assert_eq!(revoked["revoked"], true);
        let e = revoke_m2m_token(&cfg, &RevokeM2mTokenParams { m2m_token_id: "mt_x?y#z/w".into(), revocation_reason: Some("gone".into()), machine_secret_key: None }).await.unwrap_err();
        let r = last(&emu);
        assert_eq!(r.path, "/m2m_tokens/mt_x%3Fy%23z%2Fw/revoke");
        assert_eq!(r.query, None);
        assert_eq!(body_text(&r), r#"{"revocation_reason":"gone"}"#);
        assert_eq!(e.status, Some(404));

        // A revoked token still verifies with 200 + revoked:true (parity: the data says so).
        let v = verify_m2m_opaque(&trpc_cfg, &token).await.unwrap();
        assert_eq!(v["revoked"], true);
        emu.shutdown().await;
    });
}

#[test]
fn opaque_verify_errors_map_exactly_as_the_references_handle_clerk_api_error() {
    run(async {
        let emu = emulator().await;
        let cfg = config(&emu, 3000);

        // 404: unknown token.
        let e = verify_m2m_opaque(&cfg, "mt_unknown").await.unwrap_err();
        assert_eq!((e.status, e.status_text.as_str(), e.kind), (Some(404), "Not Found", None));
        assert_eq!(e.errors[0].code, "resource_not_found");
        assert!(!e.clerk_trace_id.is_empty(), "the emulator sends clerk_trace_id");
        let m = map_machine_error(TokenType::M2MToken, &e, "Machine token not found");
        assert_eq!((m.code, m.message.as_str(), m.status, m.action.as_deref()), (MachineErrorCode::TokenInvalid, "Machine token not found", Some(404), None));
        assert_eq!(m.full_message(), "Machine token not found (code=token-invalid, status=404)");

        // 401: wrong instance key → the API's first message.
        let mut bad = cfg.clone();
        bad.secret_key = Some(Secret::new("sk_test_CANARY_wrong_key"));
        let e = verify_m2m_opaque(&bad, "mt_x").await.unwrap_err();
        let m = map_machine_error(TokenType::M2MToken, &e, "Machine token not found");
        assert_eq!((m.code, m.message.as_str(), m.status), (MachineErrorCode::InvalidSecretKey, "Secret Key invalid", Some(401)));
        assert!(!format!("{e:?}{m:?}").contains("CANARY"));

        // OAuth and API keys: seeded tokens verify; unknown ones give their not-found messages.
        let oat = emu.seed_oauth_token(0, OAuthTokenSeed { subject: "user_1".into(), scopes: vec!["read".into()], ..Default::default() }).unwrap();
        let v = verify_oauth_opaque(&cfg, &oat.secret).await.unwrap();
        let r = last(&emu);
        assert_eq!((r.path.as_str(), body_text(&r)), ("/oauth_applications/access_tokens/verify", serde_json::to_string(&json!({"access_token": oat.secret})).unwrap()));
        assert_eq!(r.authorization_prefix, Some(prefix(&emu.secret_key())));
        assert_eq!(v["subject"], "user_1");
        let e = verify_oauth_opaque(&cfg, "oat_unknown").await.unwrap_err();
        assert_eq!(map_machine_error(TokenType::OAuthToken, &e, "OAuth token not found").message, "OAuth token not found");

        let ak = emu.seed_api_key(0, ApiKeySeed { subject: "user_1".into(), ..Default::default() }).unwrap();
        let mut with_machine = cfg.clone();
        with_machine.machine_secret_key = Some(Secret::new(emu.machine("trpc").unwrap().secret_key));
        let v = verify_api_key(&with_machine, &ak.secret).await.unwrap();
        let r = last(&emu);
        assert_eq!((r.path.as_str(), body_text(&r)), ("/api_keys/verify", serde_json::to_string(&json!({"secret": ak.secret})).unwrap()));
        assert_eq!(r.authorization_prefix, Some(prefix(&emu.secret_key())), "API keys use the secret key, never the machine key");
        assert_eq!(v["subject"], "user_1");
        let e = verify_api_key(&cfg, "ak_unknown").await.unwrap_err();
        let m = map_machine_error(TokenType::ApiKey, &e, "API key not found");
        assert_eq!((m.code, m.message.as_str()), (MachineErrorCode::TokenInvalid, "API key not found"));

        // No secret key for oat_/ak_: refused locally, nothing sent.
        let before = emu.requests().len();
        let mut none = cfg.clone();
        none.secret_key = None;
        let e = verify_api_key(&none, "ak_x").await.unwrap_err();
        assert_eq!((e.status, e.kind), (None, Some(bapi::KIND_MISSING_SECRET_KEY)));
        assert_eq!(emu.requests().len(), before);
        emu.shutdown().await;
    });
}

#[test]
fn jwks_fetch_wire_format_and_error_messages() {
    run(async {
        let emu = emulator().await;
        let cfg = config(&emu, 3000);
        let doc = fetch_jwks(&cfg).await.unwrap();
        let r = last(&emu);
        assert_common_headers(&r);
        assert_eq!((r.method.as_str(), r.path.as_str(), r.body_length), ("GET", "/v1/jwks", 0));
        assert_eq!(r.authorization_prefix, Some(prefix(&emu.secret_key())));
        assert_eq!(doc["keys"][0]["kid"], emu.instance(0).unwrap().kid.unwrap().as_str());

        // Never the machine key, even when one is configured.
        let mut with_machine = cfg.clone();
        with_machine.machine_secret_key = Some(Secret::new(emu.machine("trpc").unwrap().secret_key));
        fetch_jwks(&with_machine).await.unwrap();
        assert_eq!(last(&emu).authorization_prefix, Some(prefix(&emu.secret_key())));

        // 401 clerk_key_invalid → that entry's message, secret-key-invalid, exactly one request.
        emu.reset_counters();
        let mut bad = cfg.clone();
        bad.secret_key = Some(Secret::new("sk_test_CANARY_wrong"));
        let e = fetch_jwks(&bad).await.unwrap_err();
        assert_eq!((e.reason, e.message.as_str(), e.action.as_deref()), (Reason::InvalidSecretKey, "Secret Key invalid", Some("Contact support@clerk.com")));
        assert_eq!(emu.count(clerk_bapi_emulator::Route::Jwks), 1, "4xx is never retried");

        // apiVersion and a path prefix both land in the URL.
        let mut v2 = cfg.clone();
        v2.api_version = "v2".into();
        let e = fetch_jwks(&v2).await.unwrap_err();
        assert_eq!(last(&emu).path, "/v2/jwks");
        assert_eq!(e.reason, Reason::RemoteJwkFailedToLoad);
        assert_eq!(e.message, format!("Error loading Clerk JWKS from {}/v2/jwks with code=404", emu.url()));
        let mut prefixed = cfg.clone();
        prefixed.api_url = url::Url::parse(&format!("{}/proxy/", emu.url())).unwrap();
        let e = fetch_jwks(&prefixed).await.unwrap_err();
        assert_eq!(last(&emu).path, "/proxy/v1/jwks");
        assert_eq!(e.message, format!("Error loading Clerk JWKS from {}/proxy/v1/jwks with code=404", emu.url()));
        emu.shutdown().await;
    });
}
