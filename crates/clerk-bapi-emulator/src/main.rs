//! `clerk-bapi-emulator`: runs the emulator as a process. Prints exactly one JSON line on stdout
//! once listening (`{"url", "instances":[{id, secretKey, kid, publicKeyPem, …}], "machines":[…]}`,
//! camelCase) — or, with `--env`, `.env` lines — then serves until stdin closes (the parent died
//! or closed the pipe), SIGTERM or SIGINT, and exits 0.

use clerk_bapi_emulator::LaunchOptions;
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
  --seed S                  derive ids, secret keys and signing keys from S: the same at every start
  --env                     print .env lines (CLERK_API_URL, CLERK_SECRET_KEY, CLERK_JWT_KEY,
                            CLERK_MACHINE_SECRET_KEY_<NAME>, CLERK_M2M_MACHINE_ID_<NAME>) instead of JSON
  --no-stdin-watch          keep running when stdin closes (default: exit on stdin EOF)
  -h, --help                show this help
";

/// Parsed command line.
#[derive(Debug, PartialEq)]
struct Options {
    launch: LaunchOptions,
    watch_stdin: bool,
    print_env: bool,
}

/// `Ok(None)` = help requested.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut o = Options { launch: LaunchOptions::default(), watch_stdin: true, print_env: false };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| args.next()).ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => o.launch.port = value("--port")?.parse().map_err(|_| "--port must be 0..=65535".to_owned())?,
            "--instances" => o.launch.instances = value("--instances")?.parse().map_err(|_| "--instances must be a number".to_owned())?,
            "--machine" => o.launch.machines.push(value("--machine")?.parse()?),
            "--reject-inactive-tokens" => o.launch.reject_inactive_tokens = true,
            "--seed" => o.launch.seed = Some(value("--seed")?),
            "--env" => o.print_env = true,
            "--no-stdin-watch" => o.watch_stdin = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    o.launch.builder().map_err(|e| e.to_string())?;
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
    let started = match options.launch.builder() {
        Ok(builder) => builder.start().await,
        Err(e) => Err(e),
    };
    let emulator = match started {
        Ok(e) => e,
        Err(e) => {
            eprintln!("clerk-bapi-emulator: {e}");
            return ExitCode::from(1);
        }
    };
    let stop = StopSignals::register(options.watch_stdin);
    let text = if options.print_env { emulator.env_lines() } else { format!("{}\n", emulator.info_json()) };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()).is_err() {
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
    use clerk_bapi_emulator::MachineConfig;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn defaults() {
        let o = parse(&[]).unwrap().unwrap();
        assert_eq!(o, Options { launch: LaunchOptions::default(), watch_stdin: true, print_env: false });
    }

    #[test]
    fn all_flags() {
        let o = parse(&["--port", "4010", "--instances=2", "--machine", "a", "--machine", "b:a, c", "--reject-inactive-tokens", "--no-stdin-watch", "--seed", "dev", "--env"]).unwrap().unwrap();
        assert_eq!(o.launch.port, 4010);
        assert_eq!(o.launch.instances, 2);
        assert_eq!(o.launch.machines, vec![MachineConfig::new("a"), MachineConfig::new("b").scoped_to(&["a", "c"])]);
        assert!(o.launch.reject_inactive_tokens);
        assert_eq!(o.launch.seed.as_deref(), Some("dev"));
        assert!(!o.watch_stdin);
        assert!(o.print_env);
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn errors() {
        for bad in [&["--port"][..], &["--port", "70000"], &["--instances", "0"], &["--instances", "65"], &["--instances", "x"], &["--machine", ":a"], &["--seed", ""], &["--bogus"]] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
