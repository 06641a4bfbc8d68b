//! Batches: one verifier's tokens spread over every core, the calling thread included.
//!
//! A batch is split into an equal share for the calling thread (which would otherwise idle
//! while it waits) and chunks for blocking threads, one per other core; what needs the
//! network then runs concurrently on the async runtime. Measured on 2 cores: a 1.0 share
//! gives ≈ 1.7× the one-at-a-time rate, 0.8 ≈ 1.4× (the other share pays a thread hop, the
//! calling thread's does not).

use crate::constants::TokenType;
use crate::errors::{FailureReason, MachineErrorCode, MachineTokenVerificationError};
use crate::outcome::Outcome;
use crate::verify::{Mode, Verifier};
use std::future::Future;
use std::sync::{Arc, LazyLock};

/// Threads a batch is split across: one per core, at most 8. Read once:
/// `available_parallelism` reads cgroup files on every call (measured: a visible share of a batch's time).
pub static BATCH_THREADS: LazyLock<usize> = LazyLock::new(|| std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8));

/// Most tokens the calling thread verifies of one batch (≈ 4 ms of RSA work), so that it is
/// never held for long (in Node.js it is the event loop).
pub const CALLING_THREAD_MAX: usize = 128;

/// How a batch is shared out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchShare {
    /// Tokens the calling thread verifies itself: the first ones of the batch.
    pub calling_thread: usize,
    /// Blocking threads the rest is split across, in equal chunks.
    pub threads: usize,
}

impl BatchShare {
    /// For `len` tokens and `cores` threads in all: the calling thread takes an equal share (at
    /// most [`CALLING_THREAD_MAX`]) and the other cores the rest; with one core, a blocking thread
    /// takes everything.
    pub fn of(len: usize, cores: usize) -> Self {
        let cores = cores.max(1);
        let calling_thread = if cores > 1 { (len / cores).min(CALLING_THREAD_MAX) } else { 0 };
        BatchShare { calling_thread, threads: if calling_thread > 0 { cores - 1 } else { cores } }
    }
}

impl Verifier {
    /// Verifies a batch on every core ([`BatchShare`], [`BATCH_THREADS`]): the blocking threads
    /// start, the calling thread verifies its share before this returns, and the future
    /// finishes the rest (tokens that need the network run concurrently). Outcomes in input
    /// order. Must be called inside a Tokio runtime's context, and the future driven by it.
    pub fn verify_batch(self: &Arc<Self>, tokens: Vec<String>, mode: Mode) -> impl Future<Output = Vec<Outcome>> + Send + 'static {
        let share = BatchShare::of(tokens.len(), *BATCH_THREADS);
        let tokens: Arc<[String]> = tokens.into();
        let rest = tokens.len().saturating_sub(share.calling_thread);
        let chunk = rest.div_ceil(share.threads).max(1);
        let workers: Vec<_> = (share.calling_thread..tokens.len())
            .step_by(chunk)
            .map(|start| {
                let (verifier, tokens) = (Arc::clone(self), Arc::clone(&tokens));
                let end = (start + chunk).min(tokens.len());
                let handle = tokio::task::spawn_blocking(move || {
                    tokens.get(start..end).unwrap_or_default().iter().map(|t| verifier.verify_local(t, mode)).collect::<Vec<_>>()
                });
                (end - start, handle)
            })
            .collect();
        let mine: Vec<Option<Outcome>> = tokens.get(..share.calling_thread).unwrap_or_default().iter().map(|t| self.verify_local(t, mode)).collect();
        let verifier = Arc::clone(self);
        async move {
            let mut outcomes = mine;
            for (len, handle) in workers {
                match handle.await {
                    Ok(part) => outcomes.extend(part),
                    // A panicking chunk (a bug) falls back to the async path for its tokens.
                    Err(_) => outcomes.extend(std::iter::repeat_n(None, len)),
                }
            }
            outcomes.resize(tokens.len(), None);
            let mut remote = tokio::task::JoinSet::new();
            for (i, o) in outcomes.iter().enumerate() {
                if o.is_none() {
                    let (verifier, tokens) = (Arc::clone(&verifier), Arc::clone(&tokens));
                    remote.spawn(async move {
                        let token = tokens.get(i).map(String::as_str).unwrap_or_default();
                        (i, verifier.verify(token, mode).await)
                    });
                }
            }
            while let Some(joined) = remote.join_next().await {
                if let Ok((i, o)) = joined {
                    if let Some(slot) = outcomes.get_mut(i) {
                        *slot = Some(o);
                    }
                }
            }
            outcomes
                .into_iter()
                .map(|o| {
                    o.unwrap_or_else(|| {
                        // Not settled by verify_local or verify (which count their own): count it here.
                        let failed = internal_error();
                        verifier.outcomes().record(&failed);
                        failed
                    })
                })
                .collect()
        }
    }
}

/// What a batch entry reports if its task died (only a bug can cause it).
fn internal_error() -> Outcome {
    let error = MachineTokenVerificationError::new(MachineErrorCode::UnexpectedError, FailureReason::Internal, "Unexpected error");
    Outcome::Rejected { token_type: TokenType::M2MToken, error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64url::encode;
    use crate::keys::test_keys::key_a;
    use crate::keys::JwtAlgorithm;
    use crate::options::{RawOptions, VerifyOptions};
    use crate::outcome::VerifiedData;
    use serde_json::json;

    #[test]
    fn the_calling_thread_takes_an_equal_share_up_to_its_cap() {
        assert_eq!(BatchShare::of(64, 2), BatchShare { calling_thread: 32, threads: 1 });
        assert_eq!(BatchShare::of(64, 4), BatchShare { calling_thread: 16, threads: 3 });
        assert_eq!(BatchShare::of(10_000, 2), BatchShare { calling_thread: CALLING_THREAD_MAX, threads: 1 });
        assert_eq!(BatchShare::of(1, 2), BatchShare { calling_thread: 0, threads: 2 });
        assert_eq!(BatchShare::of(0, 8), BatchShare { calling_thread: 0, threads: 8 });
        assert_eq!(BatchShare::of(64, 1), BatchShare { calling_thread: 0, threads: 1 });
        assert_eq!(BatchShare::of(64, 0), BatchShare { calling_thread: 0, threads: 1 });
    }

    fn token(jti: &str) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": "ins_batch"});
        let payload = json!({"sub": "mch_1", "jti": jti, "iat": now - 10, "exp": now + 60});
        let input = format!("{}.{}", encode(header.to_string().as_bytes()), encode(payload.to_string().as_bytes()));
        format!("{input}.{}", encode(&key_a().sign(JwtAlgorithm::RS256, input.as_bytes())))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_answers_every_token_in_order_as_one_at_a_time_would() {
        let options = VerifyOptions::from_raw(RawOptions { jwt_key: Some(key_a().spki_pem()), api_url: Some("http://127.0.0.1:9".into()), timeout_ms: Some(200.0), ..RawOptions::default() }).unwrap();
        let verifier = Arc::new(Verifier::new(options));
        let tokens: Vec<String> = (0..300)
            .map(|i| match i % 50 {
                7 => "xx_unroutable".to_owned(),
                // An opaque token: the network (a closed port) answers, after the local share.
                11 => format!("mt_batch_{i}"),
                _ => token(&format!("mt_{i}")),
            })
            .collect();
        let outcomes = verifier.verify_batch(tokens.clone(), Mode::MachineAuth).await;
        assert_eq!(outcomes.len(), tokens.len());
        // Each outcome counted once, where the verifier settled it (locally or with the network).
        let counted: u64 = verifier.outcomes().snapshot().iter().map(|c| c.2).sum();
        assert_eq!(counted, 300);
        for (i, (t, o)) in tokens.iter().zip(&outcomes).enumerate() {
            let alone = verifier.verify(t, Mode::MachineAuth).await;
            if i % 50 == 11 {
                // How many attempts fit the deadline varies; the answer does not.
                let (Outcome::Rejected { error: a, .. }, Outcome::Rejected { error: b, .. }) = (o, &alone) else { panic!("token {i}: {o:?}") };
                assert_eq!((a.code, a.reason.as_str()), (b.code, "unavailable"), "token {i}");
                continue;
            }
            assert_eq!(o.to_json_string(), alone.to_json_string(), "token {i}");
            if i % 50 != 7 {
                let Outcome::Verified { data: VerifiedData::M2MJwt(m), .. } = o else { panic!("token {i}: {o:?}") };
                assert_eq!(m.id.as_str(), Some(format!("mt_{i}").as_str()));
            }
        }
        let (local, remote) = verifier.counts();
        assert_eq!((local, remote), (294, 6 + 300), "the batch, then each token again with the network");
        assert!(verifier.verify_batch(Vec::new(), Mode::MachineAuth).await.is_empty());
    }
}
