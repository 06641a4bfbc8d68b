//! Offload: single verifications handed to worker threads when they overlap, so that the
//! calling thread (in Node.js, the event loop) keeps serving while RSA runs on the other cores.
//!
//! Two parts:
//! - one process-wide [pool](POOL) of at most [`BATCH_THREADS`] worker threads (one per core,
//!   at most 8), started on first use and parked when idle, fed by one FIFO queue;
//! - a [`Lane`] per caller that hands work in (in Node.js, one per JS realm): it keeps the
//!   answers in submission order, at most [`LANE_MAX`] submitted and not yet drained, and calls
//!   its `wake` once answers are ready in order and nobody has been told yet: when the lane has
//!   nothing left in progress, or [`WAKE_BATCH`] answers are ready, so that one wake-up (one
//!   crossing into JS) drains many answers (each wake-up costs the loop a few µs).
//!
//! Answers come out exactly as [`Verifier::verify_local_answer`] gives them on the calling
//! thread (the same wire string, reuse hint included); what needs the network is handed back
//! as [`Delivered::NeedsNetwork`] for the caller's async path, and a panic in a worker (a bug)
//! becomes [`Delivered::Panicked`] for that token alone. When a lane is full, `submit` refuses
//! and the caller verifies on its own thread: the lane never grows and nothing is dropped.
//!
//! When to offload is the caller's policy (for Node.js: `lib/offload.js`).

use crate::batch::BATCH_THREADS;
use crate::verify::{Mode, Verifier};
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};

/// Most verifications one lane holds, submitted and not yet drained (≈ 21 ms of RSA work on
/// two cores). Past it, [`Lane::submit`] refuses and the caller verifies on its own thread.
pub const LANE_MAX: usize = 1024;

/// Jobs left in the queue after a worker takes one that make it wake an idle peer: one worker
/// keeps up with a trickle (an HTTP service's requests), a burst gets every core.
const PEER_BACKLOG: usize = 2;

/// Ready answers that wake the lane's owner even while more of its tokens are in progress
/// (bounds the wait of the first answer to about this many verifications).
pub const WAKE_BATCH: usize = 16;

/// What a worker hands back for one token, in submission order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// The outcome's wire string ([`crate::Outcome::to_wire_string`], with the verifier's reuse hint).
    Answer(String),
    /// The token needs the network: the caller's async path answers it ([`Verifier::verify`]).
    NeedsNetwork,
    /// The verification panicked (a bug); the caller reports an internal error for this token.
    Panicked,
}

/// Counters of a lane (`offloadStats()` in JS).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LaneStats {
    /// Tokens accepted by [`Lane::submit`].
    pub submitted: u64,
    /// Tokens refused because the lane was full.
    pub refused: u64,
    /// Answers handed out by [`Lane::drain`].
    pub delivered: u64,
    /// Submitted and not yet drained.
    pub in_flight: usize,
    /// Worker threads started so far (process-wide).
    pub threads: usize,
}

struct LaneState {
    /// One slot per submitted token not yet drained, in submission order; `None` while a worker
    /// has it. `head` is the sequence number of the front slot.
    slots: VecDeque<Option<Delivered>>,
    head: u64,
    /// Submitted and not yet verified (queued or on a worker).
    unfinished: usize,
    /// `wake` was called and no drain has run since: no need to call it again.
    woken: bool,
}

struct LaneShared {
    state: Mutex<LaneState>,
    wake: Box<dyn Fn() + Send + Sync>,
    submitted: AtomicU64,
    refused: AtomicU64,
    delivered: AtomicU64,
}

/// A submitter's view of the pool: answers in submission order, bounded ([`LANE_MAX`]).
pub struct Lane {
    shared: Arc<LaneShared>,
}

struct Job {
    lane: Arc<LaneShared>,
    seq: u64,
    verifier: Arc<Verifier>,
    token: String,
    mode: Mode,
}

/// The process-wide pool: a FIFO of jobs and the worker threads that take them.
struct Pool {
    queue: Mutex<Queue>,
    work: Condvar,
    threads: AtomicUsize,
}

struct Queue {
    jobs: VecDeque<Job>,
    /// Workers waiting for a job: only then does a submission pay for a wake-up (a futex call).
    idle: usize,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| Pool { queue: Mutex::new(Queue { jobs: VecDeque::new(), idle: 0 }), work: Condvar::new(), threads: AtomicUsize::new(0) });

/// A poisoned lock only means another thread panicked while holding it; the data (queues of
/// plain values) is still consistent, so the pool keeps going.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Pool {
    /// Queues a job without waking anyone: a worker that is running takes it; [`Pool::wake`]
    /// starts idle ones.
    fn push(&'static self, job: Job) {
        lock(&self.queue).jobs.push_back(job);
    }

    /// Wakes idle workers for the queued jobs: one worker per [`PEER_BACKLOG`] jobs, counting
    /// the ones already running (starting threads up to [`BATCH_THREADS`] on first use). A
    /// trickle (an HTTP service's requests) then wakes one worker only when none runs; a burst
    /// (`Promise.all`) wakes every core at once. Each wake-up is a futex call and, on a VM, an
    /// interrupt to another core: measured ~7 µs of the caller's time here.
    fn wake(&'static self) {
        if self.threads.load(Ordering::Relaxed) < *BATCH_THREADS {
            self.ensure_threads();
        }
        let wanted = {
            let queue = lock(&self.queue);
            let running = self.threads.load(Ordering::Relaxed).saturating_sub(queue.idle);
            queue.jobs.len().div_ceil(PEER_BACKLOG).saturating_sub(running).min(queue.idle)
        };
        for _ in 0..wanted {
            self.work.notify_one();
        }
    }

    /// Starts worker threads up to [`BATCH_THREADS`], on demand.
    fn ensure_threads(&'static self) {
        let mut started = self.threads.load(Ordering::Relaxed);
        while started < *BATCH_THREADS {
            match self.threads.compare_exchange(started, started + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => {
                    let spawned = std::thread::Builder::new().name("clerk-m2m-offload".into()).spawn(move || self.run());
                    if spawned.is_err() {
                        // No thread to be had: the ones already running (or, with none, nobody) take the queue.
                        self.threads.fetch_sub(1, Ordering::AcqRel);
                        return;
                    }
                    started += 1;
                }
                Err(now) => started = now,
            }
        }
    }

    fn run(&self) {
        yield_to_waker();
        loop {
            let (job, wake_peer) = {
                let mut queue = lock(&self.queue);
                let job = loop {
                    if let Some(job) = queue.jobs.pop_front() {
                        break job;
                    }
                    queue.idle += 1;
                    queue = self.work.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
                    queue.idle -= 1;
                };
                (job, queue.jobs.len() >= PEER_BACKLOG && queue.idle > 0)
            };
            if wake_peer {
                self.work.notify_one();
            }
            let Job { lane, seq, verifier, token, mode } = job;
            let delivered = catch_unwind(AssertUnwindSafe(|| answer(&verifier, &token, mode))).unwrap_or(Delivered::Panicked);
            // The verifier and the token are released before the answer is handed over.
            drop((verifier, token));
            lane.complete(seq, delivered);
        }
    }
}

/// Linux: this thread becomes `SCHED_BATCH` (same CPU share, no wakeup preemption), so that
/// waking a worker never preempts the thread that woke it. Measured in an HTTP service on 2
/// cores: with the default policy each submission's wake-up handed the event loop's core to the
/// worker for a whole RSA operation (~20 µs of loop time per request); the loop must keep its
/// core and the worker take the other one, or the loop's idle time. Best effort: on failure the
/// thread keeps the default policy.
fn yield_to_waker() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: plain syscall wrapper; pid 0 is the calling thread, `param` outlives the call.
        let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    }
}

fn answer(verifier: &Verifier, token: &str, mode: Mode) -> Delivered {
    #[cfg(feature = "test-hooks")]
    if test_panic::take() {
        // Test addon only: proves a worker's panic rejects that one call and never reaches Node.
        panic!("offload panic probe");
    }
    match verifier.verify_local_answer(token, mode) {
        Some(answer) => Delivered::Answer(answer.outcome.to_wire_string(verifier.reuse_hint(&answer))),
        None => Delivered::NeedsNetwork,
    }
}

impl LaneShared {
    fn complete(&self, seq: u64, delivered: Delivered) {
        let wake = {
            let mut state = lock(&self.state);
            let Some(index) = seq.checked_sub(state.head).and_then(|i| usize::try_from(i).ok()) else { return };
            let Some(slot) = state.slots.get_mut(index) else { return };
            *slot = Some(delivered);
            state.unfinished = state.unfinished.saturating_sub(1);
            // Answers are drainable from the front slot on; the owner is told once the lane is
            // done for now, or once a batch of them waits.
            let wake = !state.woken
                && state.slots.front().is_some_and(Option::is_some)
                && (state.unfinished == 0 || state.slots.iter().take(WAKE_BATCH).all(Option::is_some));
            state.woken |= wake;
            wake
        };
        if wake {
            (self.wake)();
        }
    }
}

impl Lane {
    /// A lane whose `wake` is called (from a worker thread) when answers are ready to drain.
    /// `wake` must be cheap and must not call back into the lane.
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        let state = LaneState { slots: VecDeque::new(), head: 0, unfinished: 0, woken: false };
        let shared = LaneShared { state: Mutex::new(state), wake: Box::new(wake), submitted: AtomicU64::new(0), refused: AtomicU64::new(0), delivered: AtomicU64::new(0) };
        Lane { shared: Arc::new(shared) }
    }

    /// Queues `token` for a worker thread; `false` (nothing queued) when [`LANE_MAX`] answers
    /// are already pending: the caller then verifies on its own thread. A worker that is running
    /// takes it; call [`Lane::start`] after a batch of submissions to wake idle ones.
    pub fn submit(&self, verifier: &Arc<Verifier>, token: String, mode: Mode) -> bool {
        let seq = {
            let mut state = lock(&self.shared.state);
            if state.slots.len() >= LANE_MAX {
                drop(state);
                self.shared.refused.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            state.slots.push_back(None);
            state.unfinished += 1;
            state.head + (state.slots.len() as u64 - 1)
        };
        self.shared.submitted.fetch_add(1, Ordering::Relaxed);
        POOL.push(Job { lane: Arc::clone(&self.shared), seq, verifier: Arc::clone(verifier), token, mode });
        true
    }

    /// Wakes idle workers for what is queued: once per batch of submissions, so that a burst
    /// (the requests of one event-loop iteration) pays one wake-up instead of one each.
    pub fn start(&self) {
        POOL.wake();
    }

    /// Every answer ready in submission order (up to the first one still being verified).
    pub fn drain(&self) -> Vec<Delivered> {
        let mut state = lock(&self.shared.state);
        state.woken = false;
        let ready = state.slots.iter().take_while(|s| s.is_some()).count();
        state.head += ready as u64;
        let out: Vec<Delivered> = state.slots.drain(..ready).flatten().collect();
        drop(state);
        self.shared.delivered.fetch_add(out.len() as u64, Ordering::Relaxed);
        out
    }

    pub fn stats(&self) -> LaneStats {
        let in_flight = lock(&self.shared.state).slots.len();
        LaneStats {
            submitted: self.shared.submitted.load(Ordering::Relaxed),
            refused: self.shared.refused.load(Ordering::Relaxed),
            delivered: self.shared.delivered.load(Ordering::Relaxed),
            in_flight,
            threads: POOL.threads.load(Ordering::Relaxed),
        }
    }
}

/// Test builds only: makes the next offloaded verifications panic in their worker thread, to
/// prove that a panic there becomes an error for that token alone.
#[cfg(feature = "test-hooks")]
pub mod test_panic {
    use std::sync::atomic::{AtomicUsize, Ordering};

    static PENDING: AtomicUsize = AtomicUsize::new(0);

    /// The next `n` offloaded verifications panic.
    pub fn arm(n: usize) {
        PENDING.store(n, Ordering::SeqCst);
    }

    pub(super) fn take() -> bool {
        PENDING.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base64url::encode;
    use crate::keys::test_keys::key_a;
    use crate::keys::JwtAlgorithm;
    use crate::options::{RawOptions, VerifyOptions};
    use serde_json::json;
    use std::sync::mpsc;
    use std::time::Duration;

    fn token(jti: &str, exp_offset: i64) -> String {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": "ins_offload"});
        let payload = json!({"sub": "mch_1", "jti": jti, "iat": now - 10, "exp": now + exp_offset});
        let input = format!("{}.{}", encode(header.to_string().as_bytes()), encode(payload.to_string().as_bytes()));
        format!("{input}.{}", encode(&key_a().sign(JwtAlgorithm::RS256, input.as_bytes())))
    }

    fn verifier() -> Arc<Verifier> {
        let options = VerifyOptions::from_raw(RawOptions { jwt_key: Some(key_a().spki_pem()), ..RawOptions::default() }).unwrap();
        Arc::new(Verifier::new(options))
    }

    /// Drains until `n` answers have come, waiting for each wake-up.
    fn collect(lane: &Lane, woken: &mpsc::Receiver<()>, n: usize) -> Vec<Delivered> {
        let mut out = Vec::new();
        while out.len() < n {
            woken.recv_timeout(Duration::from_secs(20)).expect("a wake-up");
            out.extend(lane.drain());
        }
        out
    }

    #[test]
    fn answers_come_in_submission_order_and_match_the_calling_thread() {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let lane = Lane::new(move || {
            let _ = lock(&tx).send(());
        });
        let v = verifier();
        let tokens: Vec<String> = (0..40)
            .map(|i| match i % 5 {
                1 => token(&format!("mt_{i}"), -100),
                2 => "mt_opaque_needs_the_network".to_owned(),
                3 => "not a token".to_owned(),
                _ => token(&format!("mt_{i}"), 60),
            })
            .collect();
        for t in &tokens {
            assert!(lane.submit(&v, t.clone(), Mode::MachineAuth));
        }
        lane.start();
        let got = collect(&lane, &rx, tokens.len());
        let fresh = verifier();
        for (t, d) in tokens.iter().zip(&got) {
            let expected = match fresh.verify_local_answer(t, Mode::MachineAuth) {
                Some(a) => Delivered::Answer(a.outcome.to_wire_string(fresh.reuse_hint(&a))),
                None => Delivered::NeedsNetwork,
            };
            assert_eq!(d, &expected, "token {t:.20}");
        }
        let s = lane.stats();
        assert_eq!((s.submitted, s.delivered, s.in_flight, s.refused), (40, 40, 0, 0));
        assert!(s.threads >= 1 && s.threads <= *BATCH_THREADS);
    }

    #[test]
    fn one_wake_up_carries_a_batch_of_answers() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&wakes);
        let lane = Lane::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let v = verifier();
        let n = 4 * WAKE_BATCH;
        for _ in 0..n {
            assert!(lane.submit(&v, "not a token".to_owned(), Mode::MachineAuth));
        }
        lane.start();
        // Nobody drains until every answer is in: one wake-up, however the workers interleave.
        for _ in 0..2_000 {
            if lane.stats().in_flight == n && lock(&lane.shared.state).unfinished == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(lane.drain().len(), n);
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        assert!(lane.drain().is_empty());
    }

    #[test]
    fn a_full_lane_refuses_and_frees_its_room_once_drained() {
        // Never woken: nothing is drained until the test says so.
        let lane = Lane::new(|| {});
        let v = verifier();
        let t = "not a token".to_owned();
        for _ in 0..LANE_MAX {
            assert!(lane.submit(&v, t.clone(), Mode::MachineAuth));
        }
        assert!(!lane.submit(&v, t.clone(), Mode::MachineAuth));
        assert_eq!(lane.stats().refused, 1);
        lane.start();
        let mut drained = 0;
        for _ in 0..2_000 {
            drained += lane.drain().len();
            if drained == LANE_MAX {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(drained, LANE_MAX);
        assert_eq!(lane.stats().in_flight, 0);
        assert!(lane.submit(&v, t, Mode::MachineAuth));
    }
}
