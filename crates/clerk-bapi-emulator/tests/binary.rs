//! The `clerk-bapi-emulator` binary: one JSON line on stdout, serves, exits 0 on stdin EOF or
//! SIGTERM.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clerk-bapi-emulator"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    (child, info)
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < within, "the emulator did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn prints_one_line_serves_and_exits_on_stdin_eof() {
    let (mut child, info) = spawn(&[]);
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"));
    let inst = &info["instances"][0];
    for field in ["id", "secretKey", "kid", "publicKeyPem"] {
        assert!(inst[field].is_string(), "{field}");
    }
    let machines = info["machines"].as_array().unwrap();
    let names: Vec<&str> = machines.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["trpc", "webhook", "worker"]);
    let trpc = machines[0]["id"].as_str().unwrap();
    assert_eq!(machines[0]["scopedMachines"], json!([]));
    assert_eq!(machines[1]["scopedMachines"], json!([trpc]));
    assert_eq!(machines[2]["scopedMachines"], json!([trpc]));
    // It serves.
    let jwks = get(url, "/v1/jwks", inst["secretKey"].as_str()).await;
    assert_eq!(jwks.status, StatusCode::OK);
    let t = mint(url, machines[1]["secretKey"].as_str().unwrap(), json!({})).await;
    assert_eq!(t["scopes"], json!([trpc]));
    // Nothing else on stdout; closing stdin stops it with status 0.
    drop(child.stdin.take());
    assert!(wait_exit(&mut child, Duration::from_secs(5)).success());
    let mut rest = String::new();
    child.stdout.take().unwrap().read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "");
}

#[cfg(unix)]
#[tokio::test]
async fn custom_machines_instances_and_sigterm() {
    let (mut child, info) = spawn(&["--instances", "2", "--machine", "api", "--machine", "cron:api", "--reject-inactive-tokens", "--port", "0"]);
    assert_eq!(info["instances"].as_array().unwrap().len(), 2);
    assert_eq!(info["instances"][1]["machines"].as_array().unwrap().len(), 2);
    assert_eq!(info["instances"][0]["rejectInactiveTokens"], true);
    let names: Vec<&str> = info["machines"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["api", "cron"]);
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(wait_exit(&mut child, Duration::from_secs(5)).success());
}

#[test]
fn bad_arguments_exit_2_with_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_clerk-bapi-emulator")).args(["--bogus"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage"));
    assert!(out.stdout.is_empty());
    let out = Command::new(env!("CARGO_BIN_EXE_clerk-bapi-emulator")).args(["--machine", "a:ghost"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = Command::new(env!("CARGO_BIN_EXE_clerk-bapi-emulator")).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--machine"));
}

/// `--env`: `.env` lines for instance 0 that work against the running emulator; with `--seed`
/// the same lines after a restart (but the port).
#[tokio::test]
async fn env_lines_with_seed() {
    let run = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clerk-bapi-emulator")).args(["--seed", "ci", "--env"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut vars = std::collections::BTreeMap::new();
        while !vars.contains_key("CLERK_M2M_MACHINE_ID_WORKER") {
            let mut line = String::new();
            assert!(reader.read_line(&mut line).unwrap() > 0, "stdout ended early");
            if let Some((k, v)) = line.trim_end().split_once('=') {
                assert!(!k.starts_with('#'));
                vars.insert(k.to_owned(), v.to_owned());
            }
        }
        (child, vars)
    };
    let (mut first, vars) = run();
    let url = vars["CLERK_API_URL"].clone();
    assert_eq!(get(&url, "/v1/jwks", Some(&vars["CLERK_SECRET_KEY"])).await.status, StatusCode::OK);
    let t = mint(&url, &vars["CLERK_MACHINE_SECRET_KEY_WEBHOOK"], json!({})).await;
    assert_eq!(t["subject"], vars["CLERK_M2M_MACHINE_ID_WEBHOOK"].as_str());
    assert_eq!(t["scopes"], json!([vars["CLERK_M2M_MACHINE_ID_TRPC"]]));
    let pem = vars["CLERK_JWT_KEY"].clone();
    assert!(pem.starts_with("\"-----BEGIN PUBLIC KEY-----\\n") && pem.ends_with("-----END PUBLIC KEY-----\""), "{pem}");
    drop(first.stdin.take());
    assert!(wait_exit(&mut first, Duration::from_secs(5)).success());

    let (mut second, again) = run();
    let without_url = |v: &std::collections::BTreeMap<String, String>| v.iter().filter(|(k, _)| *k != "CLERK_API_URL").map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>();
    assert_eq!(without_url(&vars), without_url(&again));
    drop(second.stdin.take());
    assert!(wait_exit(&mut second, Duration::from_secs(5)).success());
}
