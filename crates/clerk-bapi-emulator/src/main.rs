//! `clerk-bapi-emulator`: runs the emulator as a process. Prints exactly one JSON line on stdout
//! once listening (`{"url", "dashboardUrl", "instances":[{id, secretKey, kid, publicKeyPem, …}],
//! "machines":[…]}`, camelCase) — or, with `--env`, `.env` lines — and the dashboard's URL on
//! stderr, then serves until stdin closes (the parent died or closed the pipe), SIGTERM or
//! SIGINT, and exits 0.

use clap::Parser;
use clerk_bapi_emulator::{LaunchOptions, MachineConfig};
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Local emulator of the Clerk Backend API endpoints used for machine auth, with a dashboard.
/// Prints one JSON line ({url, dashboardUrl, instances, machines}) on stdout when listening.
#[derive(Debug, PartialEq, Parser)]
#[command(name = "clerk-bapi-emulator", version)]
struct Cli {
    /// Address to listen on; anything but loopback lets other machines reach it
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port (0 = any free port)
    #[arg(long, value_name = "N", default_value_t = 0)]
    port: u16,
    /// Number of instances (at most 64); every instance gets the machines
    #[arg(long, value_name = "N", default_value_t = 1)]
    instances: usize,
    /// Machine NAME allowed to call machines A and B (repeatable); default: trpc, webhook:trpc, worker:trpc
    #[arg(long = "machine", value_name = "NAME[:A,B]")]
    machines: Vec<MachineConfig>,
    /// Verify endpoints answer 404 for revoked/expired tokens (default: 200 with flags)
    #[arg(long)]
    reject_inactive_tokens: bool,
    /// Derive ids, secret keys and signing keys from S: the same at every start
    #[arg(long, value_name = "S")]
    seed: Option<String>,
    /// Keep instances, keys, machines, scopes and tokens in FILE across restarts (written
    /// atomically; a file that is not an emulator state file is refused, never overwritten)
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// A host name the dashboard and admin API answer besides IP addresses and localhost
    /// (repeatable), e.g. a Docker service name
    #[arg(long = "allow-host", value_name = "NAME")]
    allowed_hosts: Vec<String>,
    /// Print .env lines (CLERK_API_URL, CLERK_SECRET_KEY, CLERK_JWT_KEY,
    /// CLERK_MACHINE_SECRET_KEY_<NAME>, CLERK_M2M_MACHINE_ID_<NAME>) instead of JSON
    #[arg(long)]
    env: bool,
    /// Keep running when stdin closes (default: exit on stdin EOF)
    #[arg(long)]
    no_stdin_watch: bool,
}

impl Cli {
    fn launch_options(self) -> LaunchOptions {
        LaunchOptions {
            host: self.host,
            port: self.port,
            instances: self.instances,
            machines: self.machines,
            reject_inactive_tokens: self.reject_inactive_tokens,
            seed: self.seed,
            state: self.state,
            allowed_hosts: self.allowed_hosts,
        }
    }
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let (watch_stdin, print_env) = (!cli.no_stdin_watch, cli.env);
    let started = match cli.launch_options().builder() {
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
    let stop = StopSignals::register(watch_stdin);
    let text = if print_env { emulator.env_lines() } else { format!("{}\n", emulator.info_json()) };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()).is_err() {
        eprintln!("clerk-bapi-emulator: could not write to stdout");
    }
    drop(stdout);
    eprintln!("clerk-bapi-emulator: dashboard at {}", emulator.dashboard_url());
    stop.wait().await;
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("clerk-bapi-emulator").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let cli = parse(&[]).unwrap();
        assert!(!cli.env && !cli.no_stdin_watch);
        assert_eq!(cli.launch_options(), LaunchOptions::default());
    }

    #[test]
    fn all_flags() {
        let cli = parse(&[
            "--port", "4010", "--instances=2", "--machine", "a", "--machine", "b:a, c", "--reject-inactive-tokens", "--no-stdin-watch", "--seed", "dev", "--env", "--state", "s.json", "--host", "0.0.0.0", "--allow-host", "emulator",
        ])
        .unwrap();
        assert!(cli.env && cli.no_stdin_watch);
        let o = cli.launch_options();
        assert_eq!((o.port, o.instances, o.host.to_string().as_str()), (4010, 2, "0.0.0.0"));
        assert_eq!(o.machines, vec![MachineConfig::new("a"), MachineConfig::new("b").scoped_to(&["a", "c"])]);
        assert!(o.reject_inactive_tokens);
        assert_eq!(o.seed.as_deref(), Some("dev"));
        assert_eq!(o.state, Some(PathBuf::from("s.json")));
        assert_eq!(o.allowed_hosts, ["emulator"]);
        assert!(o.builder().is_ok());
        assert_eq!(parse(&["--help"]).unwrap_err().kind(), clap::error::ErrorKind::DisplayHelp);
    }

    #[test]
    fn errors() {
        for bad in [&["--port"][..], &["--port", "70000"], &["--instances", "x"], &["--machine", ":a"], &["--host", "localhost"], &["--state", ""], &["--bogus"]] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        // Ranges the library checks (shared with the npm CLI).
        for bad in [&["--instances", "0"][..], &["--instances", "65"], &["--seed", ""]] {
            assert!(parse(bad).unwrap().launch_options().builder().is_err(), "{bad:?}");
        }
    }
}
