//! Who may use the dashboard and the admin API (`/__emulator/…`): the emulator's defence against
//! DNS rebinding and cross-site request forgery by other pages of the developer's browser.
//!
//! * **Host.** A rebinding page reaches the emulator under the attacker's host name, and its
//!   requests say so in `Host`. Only hosts that cannot be rebound are accepted: IP literals
//!   (a browser that used one connected to that address itself), `localhost`, and the names
//!   given with `--allow-host` (say, a Docker service name) — each with the emulator's port.
//! * **CSRF.** Another page can make the browser send a request to the emulator, but cannot read
//!   the dashboard to learn its token, nor add a header without a CORS preflight the emulator
//!   never grants. So a state-changing request that comes from a browser (it carries `Origin` or
//!   `Sec-Fetch-Site`, as every current browser's do) must carry [`TOKEN_HEADER`] with this
//!   emulator's token, which the dashboard page embeds. Programs (Node's `fetch`, curl, test
//!   helpers) send neither header and are not a CSRF vector; `startEmulator()` sends the token
//!   anyway.
//!
//! The emulated Backend API routes are not guarded here: they need secret keys, and clients reach
//! them under whatever name their network gives the emulator.

use axum::http::{HeaderMap, Method};
use std::net::IpAddr;

/// The header that carries the emulator's token on state-changing admin requests.
pub const TOKEN_HEADER: &str = "x-clerk-emulator-token";

/// The Host and CSRF rules of one running emulator.
#[derive(Clone)]
pub struct Access {
    port: u16,
    /// Lower-case names accepted as `Host` besides IP literals and `localhost`.
    allowed_hosts: Vec<String>,
    token: String,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access").field("port", &self.port).field("allowed_hosts", &self.allowed_hosts).finish_non_exhaustive()
    }
}

impl Access {
    pub fn new(port: u16, allowed_hosts: &[String], token: String) -> Access {
        Access { port, allowed_hosts: allowed_hosts.iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect(), token }
    }

    /// The token state-changing browser requests must send in [`TOKEN_HEADER`].
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Is `host` (the `Host` header) one the emulator answers admin and dashboard requests for?
    pub fn host_allowed(&self, host: Option<&str>) -> bool {
        let Some(host) = host else { return false };
        let (name, port) = match split_host(host) {
            Some(parts) => parts,
            None => return false,
        };
        let port_ok = match port {
            Some(p) => p == self.port,
            None => self.port == 80,
        };
        let name = name.to_ascii_lowercase();
        port_ok && (name.parse::<IpAddr>().is_ok() || name == "localhost" || self.allowed_hosts.contains(&name))
    }

    /// May a request with `method` and `headers` change state? Reads are always allowed (another
    /// origin cannot read the answers).
    pub fn csrf_ok(&self, method: &Method, headers: &HeaderMap) -> bool {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return true;
        }
        let from_browser = headers.contains_key("origin") || headers.contains_key("sec-fetch-site");
        let token_ok = headers.get(TOKEN_HEADER).is_some_and(|v| constant_time_eq(v.as_bytes(), self.token.as_bytes()));
        token_ok || !from_browser
    }
}

/// `name[:port]` or `[v6]:port` → (name without brackets, port).
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = host.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse().ok()?),
        };
        return Some((v6, port));
    }
    match host.rsplit_once(':') {
        Some((name, port)) => Some((name, Some(port.parse().ok()?))),
        None => Some((host, None)),
    }
}

/// Compares without an early exit, so timing does not reveal how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn hosts_that_cannot_be_rebound() {
        let a = Access::new(4010, &["Emulator".into()], "t".into());
        for ok in ["127.0.0.1:4010", "localhost:4010", "LOCALHOST:4010", "[::1]:4010", "10.0.0.5:4010", "emulator:4010"] {
            assert!(a.host_allowed(Some(ok)), "{ok}");
        }
        for bad in ["evil.example:4010", "127.0.0.1:4011", "localhost", "127.0.0.1.nip.io:4010", "[::1]", "[::1:4010", "localhost:x", "", "a:b:c"] {
            assert!(!a.host_allowed(Some(bad)), "{bad}");
        }
        assert!(!a.host_allowed(None));
        assert!(Access::new(80, &[], "t".into()).host_allowed(Some("localhost")));
    }

    #[test]
    fn browsers_need_the_token_to_change_state() {
        let a = Access::new(1, &[], "s3cret".into());
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            h
        };
        assert!(a.csrf_ok(&Method::GET, &headers(&[("origin", "http://evil.example")])));
        assert!(a.csrf_ok(&Method::PUT, &headers(&[])), "a program (no browser headers)");
        assert!(!a.csrf_ok(&Method::POST, &headers(&[("origin", "http://evil.example")])));
        assert!(!a.csrf_ok(&Method::DELETE, &headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!a.csrf_ok(&Method::POST, &headers(&[("origin", "http://127.0.0.1:1"), (TOKEN_HEADER, "s3cre")])));
        assert!(a.csrf_ok(&Method::POST, &headers(&[("origin", "http://127.0.0.1:1"), ("sec-fetch-site", "same-origin"), (TOKEN_HEADER, "s3cret")])));
        assert!(format!("{a:?}").find("s3cret").is_none());
    }
}
