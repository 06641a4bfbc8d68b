//! Keeping secrets and attacker-controlled text out of messages and logs.
//!
//! Two rules: a secret (secret key, machine secret, token) is shown as at most
//! its first 7 characters, like the reference's debug output; a value chosen by
//! whoever made the token (`kid`, `typ`…) is escaped and truncated before it
//! is echoed, so it can neither forge log lines nor bloat them.

/// Characters of a secret that may be shown (the reference's debug redaction).
pub const SECRET_PREFIX_CHARS: usize = 7;
/// Characters of an attacker-controlled value echoed in a message.
pub const ECHO_MAX_CHARS: usize = 64;

/// The first 7 characters of `secret` followed by `…` (char-based: never splits a code point).
pub fn secret_prefix(secret: &str) -> String {
    let mut out: String = secret.chars().take(SECRET_PREFIX_CHARS).collect();
    if secret.chars().nth(SECRET_PREFIX_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Escapes control and non-printable characters (as `\u{…}`, `\n`…) and
/// truncates to [`ECHO_MAX_CHARS`] characters, marking the cut with `…`.
pub fn echo_untrusted(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(ECHO_MAX_CHARS * 2));
    for (i, c) in value.chars().enumerate() {
        if i == ECHO_MAX_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_prefix_is_char_based() {
        assert_eq!(secret_prefix("sk_test_abcdef"), "sk_test…");
        assert_eq!(secret_prefix("mt_é€😀xyz"), "mt_é€😀x…");
        assert_eq!(secret_prefix("short"), "short");
        assert_eq!(secret_prefix("exactly"), "exactly");
        assert_eq!(secret_prefix(""), "");
    }

    #[test]
    fn echo_escapes_and_truncates() {
        assert_eq!(echo_untrusted("ins_A\n[fake log]"), "ins_A\\n[fake log]");
        assert_eq!(echo_untrusted("a\u{0}b\u{1b}[31m"), "a\\u{0}b\\u{1b}[31m");
        assert_eq!(echo_untrusted("x\u{202e}y"), "x\\u{202e}y");
        let long = "k".repeat(10_000);
        let echoed = echo_untrusted(&long);
        assert_eq!(echoed.chars().count(), ECHO_MAX_CHARS + 1);
        assert!(echoed.ends_with('…'));
        assert_eq!(echo_untrusted("../../etc/passwd"), "../../etc/passwd");
    }
}
