//! `clerk-bapi-emulator`: runs the emulator as a process. Prints exactly one JSON line on stdout
//! once listening (`{"url", "instances":[{id, secretKey, kid, publicKeyPem, …}], "machines":[…]}`,
//! camelCase), then serves until stdin closes (the parent died or closed the pipe), SIGTERM or
//! SIGINT, and exits 0.

use clerk_bapi_emulator::{Emulator, InstanceConfig, MachineConfig};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "Usage: clerk-bapi-emulator [options]

Local emulator of the Clerk Backend API endpoints used for machine auth.
Prints one JSON line ({url, instances, machines}) on stdout when listening.

Options:
  --port N                  port on 127.0.0.1 (default 0 = any free port)
  --instances N             number of instances (default 1, at most 64); every instance gets the machines
  --machine NAME[:A,B]      create machine NAME allowed to call machines A and B (repeatable);
                            default: trpc, webhook:trpc, worker:trpc
  --reject-inactive-tokens  verify endpoints answer 404 for revoked/expired tokens (default: 200 with flags)
  --no-stdin-watch          keep running when stdin closes (default: exit on stdin EOF)
  -h, --help                show this help
";

/// Parsed command line.
#[derive(Debug, PartialEq)]
struct Options {
    port: u16,
    instances: usize,
    machines: Vec<MachineConfig>,
    reject_inactive_tokens: bool,
    watch_stdin: bool,
}

fn parse_machine(spec: &str) -> Result<MachineConfig, String> {
    let (name, scopes) = spec.split_once(':').unwrap_or((spec, ""));
    if name.is_empty() {
        return Err(format!("--machine {spec:?}: empty machine name"));
    }
    let scopes: Vec<&str> = scopes.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    Ok(MachineConfig::new(name).scoped_to(&scopes))
}

/// `Ok(None)` = help requested.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options { port: 0, instances: 1, machines: Vec::new(), reject_inactive_tokens: false, watch_stdin: true };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => o.port = value("--port")?.parse().map_err(|_| "--port must be 0..=65535".to_owned())?,
            "--instances" => {
                o.instances = value("--instances")?.parse().map_err(|_| "--instances must be a number".to_owned())?;
                if !(1..=64).contains(&o.instances) {
                    return Err("--instances must be 1..=64".into());
                }
            }
            "--machine" => o.machines.push(parse_machine(&value("--machine")?)?),
            "--reject-inactive-tokens" => o.reject_inactive_tokens = true,
            "--no-stdin-watch" => o.watch_stdin = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(o))
}

/// Something that ends the process: stdin EOF (if watched), SIGTERM or SIGINT. Everything is
/// registered *before* the start-up line is printed, so a parent that signals right after reading
/// it is never missed.
struct StopSignals {
    stdin_closed: tokio::sync::oneshot::Receiver<()>,
    /// Held (never sent) when stdin is not watched, so `stdin_closed` stays pending.
    _unwatched: Option<tokio::sync::oneshot::Sender<()>>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn register(watch_stdin: bool) -> StopSignals {
        let (tx, stdin_closed) = tokio::sync::oneshot::channel();
        let unwatched = if watch_stdin {
            // A detached OS thread: a blocked read must not keep the runtime from shutting down
            // (tokio's own stdin would). Input is ignored; only EOF or an error matters.
            std::thread::spawn(move || {
                use std::io::Read;
                let mut stdin = std::io::stdin();
                let mut buf = [0u8; 1024];
                while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
                let _ = tx.send(());
            });
            None
        } else {
            Some(tx)
        };
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            StopSignals { stdin_closed, _unwatched: unwatched, terminate: signal(SignalKind::terminate()).ok(), interrupt: signal(SignalKind::interrupt()).ok() }
        }
        #[cfg(not(unix))]
        StopSignals { stdin_closed, _unwatched: unwatched }
    }

    async fn wait(mut self) {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = &mut self.stdin_closed => {}
                _ = recv(&mut self.terminate) => {}
                _ = recv(&mut self.interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        tokio::select! {
            _ = &mut self.stdin_closed => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("clerk-bapi-emulator: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = Emulator::builder().port(options.port);
    for _ in 0..options.instances {
        let mut config = if options.machines.is_empty() { InstanceConfig::with_default_machines() } else { InstanceConfig::new() };
        for m in &options.machines {
            config = config.machine_config(m.clone());
        }
        builder = builder.instance(config.reject_inactive_tokens(options.reject_inactive_tokens));
    }
    let emulator = match builder.start().await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("clerk-bapi-emulator: {e}");
            return ExitCode::from(1);
        }
    };
    let stop = StopSignals::register(options.watch_stdin);
    let line = emulator.info_json().to_string();
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}").and_then(|_| stdout.flush()).is_err() {
        eprintln!("clerk-bapi-emulator: could not write to stdout");
    }
    drop(stdout);
    stop.wait().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn defaults() {
        let o = parse(&[]).unwrap().unwrap();
        assert_eq!(o, Options { port: 0, instances: 1, machines: vec![], reject_inactive_tokens: false, watch_stdin: true });
    }

    #[test]
    fn all_flags() {
        let o = parse(&["--port", "4010", "--instances=2", "--machine", "a", "--machine", "b:a, c", "--reject-inactive-tokens", "--no-stdin-watch"]).unwrap().unwrap();
        assert_eq!(o.port, 4010);
        assert_eq!(o.instances, 2);
        assert_eq!(o.machines, vec![MachineConfig::new("a"), MachineConfig::new("b").scoped_to(&["a", "c"])]);
        assert!(o.reject_inactive_tokens);
        assert!(!o.watch_stdin);
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn errors() {
        for bad in [&["--port"][..], &["--port", "70000"], &["--instances", "0"], &["--instances", "65"], &["--instances", "x"], &["--machine", ":a"], &["--bogus"]] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
