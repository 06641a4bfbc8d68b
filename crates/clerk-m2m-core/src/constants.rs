//! Prefixes, JWT categories and token types, with the exact values of
//! `@clerk/backend@3.25.0` (`tokens/machine.ts`, `tokens/jwtCategories.ts`).

/// Opaque M2M token prefix.
pub const M2M_TOKEN_PREFIX: &str = "mt_";
/// `sub` prefix of an M2M JWT: a machine id.
pub const M2M_SUBJECT_PREFIX: &str = "mch_";
/// Opaque OAuth access token prefix.
pub const OAUTH_TOKEN_PREFIX: &str = "oat_";
/// Opaque API key prefix (machine secret keys share it).
pub const API_KEY_PREFIX: &str = "ak_";
/// Prefix detection order, as the reference checks them.
pub const MACHINE_TOKEN_PREFIXES: [&str; 3] = [M2M_TOKEN_PREFIX, OAUTH_TOKEN_PREFIX, API_KEY_PREFIX];
/// RFC 9068 `typ` values of OAuth JWT access tokens (exact, case-sensitive).
pub const OAUTH_ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

/// `cat` header of session (and handshake) tokens.
pub const JWT_CATEGORY_SESSION_TOKEN: &str = "cl_B7d4PD111AAA";
/// `cat` header of JWT-template tokens.
pub const JWT_CATEGORY_JWT_TEMPLATE: &str = "cl_B7d4PD222AAA";
/// `cat` header of M2M JWTs: the only category the M2M verifier accepts besides "absent".
pub const JWT_CATEGORY_M2M_TOKEN: &str = "cl_B7d4PD333AAA";
/// Neutral category some instances stamp on every class of token.
pub const JWT_CATEGORY_IGNORE: &str = "cl_I7d4PD111III";

/// The Backend API the reference talks to unless `apiUrl` says otherwise.
pub const DEFAULT_API_URL: &str = "https://api.clerk.com";
/// The reference's default `apiVersion` (the JWKS path segment).
pub const DEFAULT_API_VERSION: &str = "v1";

/// The four token types of `@clerk/backend`'s `TokenType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    SessionToken,
    ApiKey,
    M2MToken,
    OAuthToken,
}

impl TokenType {
    /// The wire/JS string value.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenType::SessionToken => "session_token",
            TokenType::ApiKey => "api_key",
            TokenType::M2MToken => "m2m_token",
            TokenType::OAuthToken => "oauth_token",
        }
    }

    /// Parses the JS string value (exact match).
    pub fn from_str_exact(s: &str) -> Option<Self> {
        match s {
            "session_token" => Some(TokenType::SessionToken),
            "api_key" => Some(TokenType::ApiKey),
            "m2m_token" => Some(TokenType::M2MToken),
            "oauth_token" => Some(TokenType::OAuthToken),
            _ => None,
        }
    }

    /// True for the three machine token types (`isMachineTokenType`).
    pub const fn is_machine(self) -> bool {
        !matches!(self, TokenType::SessionToken)
    }
}

impl std::fmt::Display for TokenType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_type_round_trips() {
        for t in [TokenType::SessionToken, TokenType::ApiKey, TokenType::M2MToken, TokenType::OAuthToken] {
            assert_eq!(TokenType::from_str_exact(t.as_str()), Some(t));
        }
        assert_eq!(TokenType::from_str_exact("M2M_TOKEN"), None);
        assert!(!TokenType::SessionToken.is_machine());
        assert!(TokenType::ApiKey.is_machine());
    }
}
