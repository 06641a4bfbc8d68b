//! Backend API URLs: the reference's `joinPaths`, with ids percent-encoded.

use super::config::BapiConfig;
use crate::redact::echo_untrusted;
use url::Url;

/// `joinPaths`' check: a segment that is, or decodes (up to 10 times) to, `.`
/// or `..`, also when split on `/` or `\`, is refused.
fn check_segment(segment: &str) -> Result<(), String> {
    const MAX_DECODES: usize = 10;
    let mut candidate = segment.to_owned();
    for i in 0..=MAX_DECODES {
        if candidate.split(['/', '\\']).any(|p| p == "." || p == "..") {
            return Err(format!("joinPaths: \".\" and \"..\" path segments are not allowed (received \"{}\")", echo_untrusted(segment)));
        }
        if i == MAX_DECODES {
            return Err(format!("joinPaths: too many layers of encoding in {}", echo_untrusted(segment)));
        }
        match decode_uri_component(&candidate) {
            Some(next) if next != candidate => candidate = next,
            _ => break,
        }
    }
    Ok(())
}

/// `decodeURIComponent`: `None` where it throws (bad `%` escape, invalid UTF-8).
fn decode_uri_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i.checked_add(1)?).and_then(|c| (*c as char).to_digit(16))?;
            let lo = bytes.get(i.checked_add(2)?).and_then(|c| (*c as char).to_digit(16))?;
            // Two hex digits: at most 255.
            out.push((hi * 16 + lo) as u8);
            i = i.checked_add(3)?;
        } else {
            out.push(b);
            i = i.checked_add(1)?;
        }
    }
    String::from_utf8(out).ok()
}

/// `apiUrl` + segments, like `joinPaths(apiUrl, …segments)`: empty segments
/// dropped, slashes collapsed, an `apiUrl` path prefix kept; unlike it, each
/// segment is percent-encoded, so `?`, `#` or `/` in an id stay inside it.
/// The query and fragment of `base` are dropped.
pub fn join_url(base: &Url, segments: &[&str]) -> Result<Url, String> {
    for s in segments {
        check_segment(s)?;
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let prefix: Vec<String> = match url.path_segments() {
        Some(it) => it.filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        None => return Err("apiUrl cannot be used as a base URL".to_owned()),
    };
    // The prefix segments are already in encoded form; set_path keeps their escapes as they are.
    url.set_path(&format!("/{}", prefix.join("/")));
    {
        let mut path = url.path_segments_mut().map_err(|()| "apiUrl cannot be used as a base URL".to_owned())?;
        path.pop_if_empty();
        for s in segments.iter().filter(|s| !s.is_empty()) {
            path.push(s);
        }
    }
    Ok(url)
}

/// `{apiUrl}/{apiVersion}/{segments…}` (the default builder) or `{apiUrl}/{segments…}`
/// (the `m2m`, `apiKeys` and `idPOAuthAccessToken` builders, `skipApiVersionInUrl`).
pub fn build_url(cfg: &BapiConfig, with_version: bool, segments: &[&str]) -> Result<Url, String> {
    let mut all: Vec<&str> = Vec::with_capacity(segments.len().saturating_add(1));
    if with_version {
        all.push(&cfg.api_version);
    }
    all.extend_from_slice(segments);
    join_url(&cfg.api_url, &all)
}

/// `GET {apiUrl}/{apiVersion}/jwks`.
pub fn jwks_url(cfg: &BapiConfig) -> Result<Url, String> {
    build_url(cfg, true, &["jwks"])
}

#[cfg(test)]
mod tests {
    use super::super::config::cfg;
    use super::*;


    #[test]
    fn urls_match_join_paths() {
        let c = cfg("https://api.clerk.com");
        assert_eq!(build_url(&c, false, &["m2m_tokens", "verify"]).unwrap().as_str(), "https://api.clerk.com/m2m_tokens/verify");
        assert_eq!(jwks_url(&c).unwrap().as_str(), "https://api.clerk.com/v1/jwks");
        assert_eq!(build_url(&c, true, &["machines"]).unwrap().as_str(), "https://api.clerk.com/v1/machines");
        assert_eq!(build_url(&c, false, &["oauth_applications", "access_tokens", "verify"]).unwrap().as_str(), "https://api.clerk.com/oauth_applications/access_tokens/verify");
        let c = cfg("http://h/proxy");
        assert_eq!(jwks_url(&c).unwrap().as_str(), "http://h/proxy/v1/jwks");
        assert_eq!(build_url(&c, false, &["api_keys", "verify"]).unwrap().as_str(), "http://h/proxy/api_keys/verify");
        let c = cfg("http://127.0.0.1:9//a//b%20c/?q=1#f");
        assert_eq!(build_url(&c, false, &["m2m_tokens"]).unwrap().as_str(), "http://127.0.0.1:9/a/b%20c/m2m_tokens");
        let mut c = cfg("https://api.clerk.com/");
        c.api_version = "v2".into();
        assert_eq!(jwks_url(&c).unwrap().as_str(), "https://api.clerk.com/v2/jwks");
        c.api_version = String::new();
        assert_eq!(jwks_url(&c).unwrap().as_str(), "https://api.clerk.com/jwks");
    }

    #[test]
    fn ids_are_encoded_and_dot_segments_refused() {
        let c = cfg("https://api.clerk.com");
        let u = build_url(&c, false, &["m2m_tokens", "mt_a?b#c/d%2e", "revoke"]).unwrap();
        assert_eq!(u.as_str(), "https://api.clerk.com/m2m_tokens/mt_a%3Fb%23c%2Fd%252e/revoke");
        assert_eq!(u.path_segments().unwrap().count(), 3);
        for bad in ["..", ".", "../machines/mch_x", "a\\..", "%2e%2e", "%252e%252E", "x/./y"] {
            let e = build_url(&c, false, &["m2m_tokens", bad, "revoke"]).unwrap_err();
            assert!(e.starts_with("joinPaths: \".\" and \"..\" path segments are not allowed"), "{bad}: {e}");
        }
        let mut layered = "..".to_owned();
        for _ in 0..11 {
            layered = layered.replace('%', "%25").replace('.', "%2e");
        }
        let e = build_url(&c, false, &[&layered]).unwrap_err();
        assert!(e.starts_with("joinPaths: too many layers of encoding"), "{e}");
        // Malformed escapes stop decoding, like decodeURIComponent throwing.
        assert!(build_url(&c, false, &["%zz..x"]).is_ok());
        assert!(build_url(&c, false, &["%"]).is_ok());
        assert!(build_url(&c, false, &["%ff"]).is_ok());
        assert!(join_url(&Url::parse("mailto:a@b").unwrap(), &["x"]).is_err());
    }
}
