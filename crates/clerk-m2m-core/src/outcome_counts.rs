//! Verification outcomes by token type × code: a fixed table of atomics per verifier, and one
//! for the whole process (`processStats()`, `metricsText()`).

use crate::constants::TokenType;
use crate::errors::MachineErrorCode;
use crate::outcome::Outcome;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

/// Token types counted ([`TokenType`] order), then `unroutable` (the reference throws).
const OUTCOME_TYPES: [&str; 5] = ["session_token", "api_key", "m2m_token", "oauth_token", "unroutable"];
/// `ok`, then the [`MachineErrorCode`]s.
const OUTCOME_CODES: [&str; 5] = ["ok", "token-invalid", "secret-key-invalid", "unexpected-error", "token-verification-failed"];

/// Verification outcomes by token type × code: a fixed table of atomics, bumped once per
/// verification (a verifier keeps one, and every record also counts in the process-wide one).
#[derive(Default)]
pub struct OutcomeCounts {
    counts: [[AtomicU64; OUTCOME_CODES.len()]; OUTCOME_TYPES.len()],
}

impl std::fmt::Debug for OutcomeCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.snapshot()).finish()
    }
}

static PROCESS_OUTCOMES: LazyLock<OutcomeCounts> = LazyLock::new(OutcomeCounts::default);

/// Outcomes of every verifier of the process since it started (retired verifiers included).
pub fn process_outcomes() -> &'static OutcomeCounts {
    &PROCESS_OUTCOMES
}

impl OutcomeCounts {
    /// Counts `outcome` here and in [`process_outcomes`].
    pub fn record(&self, outcome: &Outcome) {
        let (t, c) = cell_of(outcome);
        self.bump(t, c);
        process_outcomes().bump(t, c);
    }

    fn bump(&self, t: usize, c: usize) {
        if let Some(cell) = self.counts.get(t).and_then(|row| row.get(c)) {
            cell.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(tokenType, code, count)` for every non-zero cell.
    pub fn snapshot(&self) -> Vec<(&'static str, &'static str, u64)> {
        let mut out = Vec::new();
        for (t, row) in OUTCOME_TYPES.iter().zip(self.counts.iter()) {
            for (c, cell) in OUTCOME_CODES.iter().zip(row.iter()) {
                let n = cell.load(Ordering::Relaxed);
                if n > 0 {
                    out.push((*t, *c, n));
                }
            }
        }
        out
    }
}

fn cell_of(outcome: &Outcome) -> (usize, usize) {
    let type_index = |t: &TokenType| match t {
        TokenType::SessionToken => 0,
        TokenType::ApiKey => 1,
        TokenType::M2MToken => 2,
        TokenType::OAuthToken => 3,
    };
    match outcome {
        Outcome::Verified { token_type, .. } => (type_index(token_type), 0),
        Outcome::Rejected { token_type, error } => (
            type_index(token_type),
            match error.code {
                MachineErrorCode::TokenInvalid => 1,
                MachineErrorCode::InvalidSecretKey => 2,
                MachineErrorCode::UnexpectedError => 3,
                MachineErrorCode::TokenVerificationFailed => 4,
            },
        ),
        Outcome::Unroutable => (4, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::FailureReason;

    #[test]
    fn outcomes_count_by_type_and_code() {
        let counts = OutcomeCounts::default();
        let before = process_outcomes().snapshot().iter().find(|r| r.0 == "unroutable").map_or(0, |r| r.2);
        counts.record(&Outcome::Unroutable);
        counts.record(&Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, FailureReason::Expired, "x"));
        counts.record(&Outcome::rejected(TokenType::M2MToken, MachineErrorCode::TokenInvalid, FailureReason::Expired, "x"));
        assert_eq!(counts.snapshot(), vec![("m2m_token", "token-invalid", 2), ("unroutable", "ok", 1)]);
        let after = process_outcomes().snapshot().iter().find(|r| r.0 == "unroutable").map_or(0, |r| r.2);
        assert!(after > before, "the process-wide table counts too");
    }
}
