//! `--state FILE`: what an emulator made at run time survives a restart (on another port), and a
//! file that is not an emulator's state stops the start, untouched.

mod common;

use clerk_bapi_emulator::{Emulator, EmulatorError, MachineConfig};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::process::{Command, Stdio};

#[tokio::test]
async fn machines_scopes_keys_and_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("emulator-state.json");
    let first = Emulator::builder().state_file(&file).start().await.unwrap();
    assert!(file.exists(), "created at start");
    let url = first.url().to_owned();
    let sk = first.secret_key();
    let reports = first.create_machine(0, MachineConfig::new("reports").scoped_to(&["trpc"])).unwrap();
    let opaque = mint(&url, &reports.secret_key, json!({"seconds_until_expiration": 3600})).await;
    let jwt = mint(&url, &reports.secret_key, json!({"token_format": "jwt", "seconds_until_expiration": 3600})).await;
    let revoked = mint(&url, &reports.secret_key, json!({})).await;
    post(&url, &format!("/m2m_tokens/{}/revoke", revoked["id"].as_str().unwrap()), Some(&sk), &json!({"revocation_reason": "old"})).await;
    let rotated = post(&url, &format!("/v1/machines/{}/secret_key/rotate", reports.id), Some(&sk), &json!({"previous_token_ttl": 600})).await.json();
    let before = first.info_json();
    first.shutdown().await;

    let second = Emulator::builder().state_file(&file).start().await.unwrap();
    let url = second.url().to_owned();
    assert_ne!(url, before["url"].as_str().unwrap(), "another port");
    assert_eq!(second.secret_key(), sk);
    let after = second.info_json();
    assert_eq!(after["instances"][0]["keys"], before["instances"][0]["keys"]);
    assert_eq!(after["machines"].as_array().unwrap().len(), 4);
    let again = second.machine("reports").unwrap();
    assert_eq!((again.id.as_str(), again.secret_key.as_str()), (reports.id.as_str(), rotated["secret"].as_str().unwrap()));
    assert_eq!(again.scoped_machines, vec![second.machine("trpc").unwrap().id]);
    // The old key's grace period survived too.
    mint(&url, &reports.secret_key, json!({})).await;
    let trpc_key = second.machine("trpc").unwrap().secret_key;
    let v = post(&url, "/m2m_tokens/verify", Some(&trpc_key), &json!({"token": opaque["token"]})).await;
    assert_eq!((v.status, v.json()["id"].clone()), (StatusCode::OK, opaque["id"].clone()));
    let v = post(&url, "/m2m_tokens/verify", Some(&trpc_key), &json!({"token": jwt["token"]})).await;
    assert_eq!(v.status, StatusCode::OK, "a JWT of the old run verifies against the restored key");
    let v = post(&url, "/m2m_tokens/verify", Some(&sk), &json!({"token": revoked["token"]})).await.json();
    assert_eq!((v["revoked"].clone(), v["revocation_reason"].clone()), (json!(true), json!("old")));
    // JWTs minted now carry this run's issuer.
    let fresh = mint(&url, &trpc_key, json!({"token_format": "jwt"})).await;
    let payload = fresh["token"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(claims["iss"].as_str().unwrap().starts_with(&url));
    assert_eq!(after["stateFile"]["path"], file.display().to_string());
    second.shutdown().await;
    // Owner-only: it holds secret keys.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test]
async fn a_foreign_or_corrupt_file_stops_the_start_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    for (content, says) in [
        ("{\"name\":\"my-app\",\"dependencies\":{}}\n", "is not an emulator state file"),
        ("{\"format\":\"clerk-bapi-emulator/state\",\"version\":1,\"instances\":[", "is not JSON"),
        ("{\"format\":\"clerk-bapi-emulator/state\",\"version\":1,\"savedAtMs\":0,\"instances\":[{\"id\":\"ins_1\",\"secretKey\":\"sk_test_1\",\"keys\":[{\"kid\":\"k\",\"privateKeyPem\":\"x\"}]}]}", "keys[0]"),
    ] {
        let file = dir.path().join("state.json");
        std::fs::write(&file, content).unwrap();
        let err = Emulator::builder().state_file(&file).start().await.unwrap_err();
        assert!(matches!(err, EmulatorError::StateFile { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains(says) && message.contains("does not overwrite"), "{message}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), content);
    }
}

#[tokio::test]
async fn the_binary_keeps_state_across_restarts_and_refuses_a_foreign_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.json");
    let run = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clerk-bapi-emulator")).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.as_mut().unwrap()), &mut line).unwrap();
        (child, serde_json::from_str::<serde_json::Value>(&line).unwrap())
    };
    let path = file.to_str().unwrap();
    let (mut first, info) = run(&["--state", path]);
    assert!(info["dashboardUrl"].as_str().unwrap().ends_with("/__emulator/ui"));
    let url = info["url"].as_str().unwrap();
    let sk = info["instances"][0]["secretKey"].as_str().unwrap();
    let r = admin(url, Method::POST, "/instances/0/machines", Some(json!({"name": "billing", "scopedTo": ["trpc"]}))).await;
    assert_eq!(r.status, StatusCode::OK);
    drop(first.stdin.take());
    assert!(first.wait().unwrap().success());
    let (mut second, again) = run(&["--state", path]);
    assert_eq!(again["instances"][0]["secretKey"], sk);
    assert!(again["machines"].as_array().unwrap().iter().any(|m| m["name"] == "billing"));
    drop(second.stdin.take());
    assert!(second.wait().unwrap().success());

    std::fs::write(&file, "hello").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_clerk-bapi-emulator")).args(["--state", path]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not JSON") && stderr.contains("does not overwrite"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello");
}
