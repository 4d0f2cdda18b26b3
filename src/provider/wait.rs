//! The one waiter: polls an API until an object reaches its target state.
//!
//! Built on the complaints about existing providers (anchor list 3.1): unknown statuses are
//! pending (the caller's `check` decides; the API layer never maps an unknown status to failed),
//! transient API errors inside a wait are tolerated until the deadline, a failed status ends the
//! wait at once with the API's message, and the deadline is honest: the last sleep is clamped to
//! it and followed by one last check.

use std::future::Future;
use std::time::Duration;

use rand::Rng as _;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::api::{self, PollGuidance};

/// How long "not found" right after a create is taken for "not visible yet".
const NOT_FOUND_GRACE: Duration = Duration::from_secs(30);

/// How to poll: overall deadline, spacing and backoff.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitPolicy {
    /// Overall deadline of the wait (the resource's `timeouts` value).
    pub timeout: Duration,
    /// Pause before the first check: right after a create or update the answer is known to be
    /// "pending", so checking at once only costs a request.
    pub initial_delay: Duration,
    /// Checks never come closer together than this (vendor rules, rate limits).
    pub min_interval: Duration,
    /// The backoff stops growing here, so readiness is noticed reasonably soon.
    pub max_interval: Duration,
    /// Growth of the interval after each pending check (1.5 by default).
    pub multiplier: f64,
    /// Random spread of each interval, as a fraction (0.2 = ±20 %), so parallel waits do not
    /// poll in lockstep.
    pub jitter: f64,
    /// How long one check may run past the deadline (one request timeout): a check cut short
    /// there ends the wait, so `timeouts` is a hard limit, HTTP retries included.
    pub check_grace: Duration,
    /// How long the API may hold one check until the status settles (a blocking read); zero
    /// when it answers at once. With a hold, checks follow each other without pauses.
    pub hold: Duration,
    /// How long "not found" counts as "not visible yet" right after a create (eventually
    /// consistent APIs); zero for every other wait.
    pub not_found_grace: Duration,
}

/// `instant + duration`, saturating far in the future instead of overflowing (a huge
/// `Retry-After` or timeout must never panic a wait).
pub(crate) fn later(instant: Instant, duration: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    instant.checked_add(duration.min(FAR)).unwrap_or(instant)
}

impl WaitPolicy {
    /// The policy an API's poll guidance asks for, with the given deadline.
    pub fn from_guidance(guidance: &PollGuidance, timeout: Duration) -> Self {
        Self {
            timeout,
            initial_delay: guidance.min_interval,
            min_interval: guidance.min_interval,
            max_interval: guidance.max_interval.max(guidance.min_interval),
            multiplier: 1.5,
            jitter: 0.2,
            check_grace: Duration::from_secs(30),
            hold: Duration::ZERO,
            not_found_grace: Duration::ZERO,
        }
    }

    /// The hold of a check starting at `now` in a wait ending at `deadline`: the policy's,
    /// cut to the time left.
    fn hold_at(&self, now: Instant, deadline: Instant) -> Duration {
        self.hold.min(deadline.saturating_duration_since(now))
    }

    /// This policy for the wait right after a create (`just_created`): "not found" then means
    /// "not visible yet" for a short while, as eventually consistent APIs answer.
    pub fn just_created(self, just_created: bool) -> Self {
        let grace = if just_created {
            NOT_FOUND_GRACE.min(self.timeout)
        } else {
            Duration::ZERO
        };
        Self {
            not_found_grace: grace,
            ..self
        }
    }

    /// The pause after a check, given the previous base interval: grows by `multiplier`,
    /// spreads by `jitter`, and stays within `[min_interval, max_interval]`.
    /// Returns `(base for next time, pause to take now)`.
    fn next_interval(&self, previous_base: Option<Duration>) -> (Duration, Duration) {
        let max = self.max_interval.max(self.min_interval);
        let multiplier = if self.multiplier.is_finite() && self.multiplier >= 1.0 {
            self.multiplier
        } else {
            1.0
        };
        let base = match previous_base {
            None => self.min_interval,
            Some(previous) => {
                Duration::try_from_secs_f64(previous.as_secs_f64() * multiplier).unwrap_or(max)
            }
        }
        .clamp(self.min_interval, max);
        let jitter = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let spread = if jitter > 0.0 {
            rand::rng().random_range(-jitter..=jitter)
        } else {
            0.0
        };
        let pause = Duration::try_from_secs_f64(base.as_secs_f64() * (1.0 + spread))
            .unwrap_or(base)
            .clamp(self.min_interval, max);
        (base, pause)
    }
}

/// What one check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Poll<T> {
    /// Not there yet; `status` is the API's word for where it is ("CREATING").
    Pending {
        /// The raw status, for logs and the timeout message.
        status: String,
    },
    /// Reached the target; the wait returns this value.
    Done(T),
    /// The API says it failed; waiting longer will not help.
    Failed {
        /// The raw status ("ERROR").
        status: String,
        /// The API's explanation.
        message: String,
    },
}

/// Why a wait ended without reaching its target.
#[derive(thiserror::Error, Debug)]
pub enum WaitError {
    /// The deadline passed.
    #[error(
        "timed out after {} waiting for {what}; the last status seen was {last_status}",
        human_duration(*.waited)
    )]
    TimedOut {
        /// What was waited for ("database db-… to be READY").
        what: String,
        /// How long the wait lasted.
        waited: Duration,
        /// The last status the API reported, or why it could not be read.
        last_status: String,
    },
    /// The API reported a failed state.
    #[error("{what} failed with status {status}: {message}")]
    Failed {
        /// What was waited for.
        what: String,
        /// The raw failed status.
        status: String,
        /// The API's explanation.
        message: String,
    },
    /// The operation was cancelled (Terraform stopped the provider).
    #[error("stopped waiting for {what}: the operation was cancelled")]
    Cancelled {
        /// What was waited for.
        what: String,
    },
    /// A non-retryable API error ended the wait.
    #[error(transparent)]
    Api(#[from] api::Error),
}

fn human_duration(duration: Duration) -> String {
    let total = duration.as_secs();
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    match (hours, minutes) {
        (0, 0) if total == 0 => format!("{} ms", duration.as_millis()),
        (0, 0) => format!("{seconds}s"),
        (0, _) => format!("{minutes}m{seconds:02}s"),
        _ => format!("{hours}h{minutes:02}m{seconds:02}s"),
    }
}

/// Polls `check` until it reports [`Poll::Done`] (returns its value), [`Poll::Failed`], a
/// non-retryable error, the deadline, or cancellation.
///
/// Retryable API errors (rate limits, 5xx, transport) are logged at warn and the wait goes on;
/// a `Retry-After` from a rate limit lengthens the next pause. There is always at least one check.
/// A check in flight is never cut short by the deadline (the HTTP client's own timeouts bound
/// it): cancelling a read that was about to report success would only cause a false timeout.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    policy: &WaitPolicy,
    cancel: &CancellationToken,
    mut check: F,
) -> Result<T, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, api::Error>>,
{
    let started = Instant::now();
    let deadline = later(started, policy.timeout);
    let cancelled = || WaitError::Cancelled {
        what: what.to_owned(),
    };
    let timed_out = |last_status: Option<&str>, check_error: Option<&str>| WaitError::TimedOut {
        what: what.to_owned(),
        waited: started.elapsed(),
        last_status: describe_last(last_status, check_error),
    };
    let mut last_status: Option<String> = None;
    let mut base: Option<Duration> = None;
    // A held check answers when the status changes: nothing is gained by waiting before it.
    let mut pause = if policy.hold.is_zero() {
        policy.initial_delay
    } else {
        Duration::ZERO
    };
    let mut attempt: u32 = 0;
    loop {
        // Clamp to the deadline so the wait ends on time, but never below min_interval so the
        // last check still respects the API's spacing (it may overshoot by that much at most).
        let now = Instant::now();
        let latest = deadline.max(later(now, policy.min_interval));
        let wake = later(now, pause).min(latest);
        if cancel.is_cancelled() {
            return Err(cancelled());
        }
        if !pause.is_zero() {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(cancelled()),
                () = tokio::time::sleep_until(wake) => {}
            }
        }
        attempt += 1;
        let check_started = Instant::now();
        let hold = policy.hold_at(check_started, deadline);
        // A check may finish past the deadline by one request timeout at most.
        let cut_off = later(deadline.max(check_started), policy.check_grace);
        let outcome = tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(cancelled()),
            outcome = tokio::time::timeout_at(cut_off, check()) => match outcome {
                Ok(outcome) => outcome,
                Err(_) => return Err(timed_out(
                    last_status.as_deref(),
                    Some("the check was still running at the deadline"),
                )),
            },
        };
        let mut server_pause = None;
        let mut check_error = None;
        match outcome {
            Ok(Poll::Done(value)) => {
                debug!(what, attempt, "wait finished");
                return Ok(value);
            }
            Ok(Poll::Failed { status, message }) => {
                return Err(WaitError::Failed {
                    what: what.to_owned(),
                    status,
                    message,
                });
            }
            Ok(Poll::Pending { status }) => last_status = Some(status),
            Err(error) if error.is_retryable() => {
                warn!(what, attempt, %error, "transient error while waiting; still waiting");
                server_pause = error.retry_after();
                check_error = Some(error.to_string());
            }
            Err(error) => return Err(WaitError::Api(error)),
        }
        if Instant::now() >= deadline {
            return Err(timed_out(last_status.as_deref(), check_error.as_deref()));
        }
        // The API held the check to its end, so the status did not change: ask again at once.
        // A check that came back early (the API does not hold, or an error) is paced as a poll.
        let held_to_end = !hold.is_zero() && check_started.elapsed() >= hold.mul_f64(0.9);
        pause = if held_to_end && server_pause.is_none() {
            Duration::ZERO
        } else {
            let (next_base, next_pause) = policy.next_interval(base);
            base = Some(next_base);
            next_pause.max(server_pause.unwrap_or_default())
        };
        debug!(
            what,
            status = last_status.as_deref().unwrap_or("unknown"),
            attempt,
            next_delay_ms = pause.as_millis(),
            "still waiting"
        );
    }
}

fn describe_last(status: Option<&str>, error: Option<&str>) -> String {
    match (status, error) {
        (Some(status), None) => status.to_owned(),
        (Some(status), Some(error)) => format!("{status} (the last check failed: {error})"),
        (None, Some(error)) => format!("unknown (the last check failed: {error})"),
        (None, None) => "unknown".to_owned(),
    }
}

/// Runs `attempt` until it succeeds or fails in a way that may mean something happened. Only
/// answers that prove nothing was done are tried again, after a pause within the policy's
/// deadline: the object was busy (in a transitional status, the change must wait its turn), the
/// rate limit refused the request, or no connection could be made. Anything else, a lost reply
/// or a 5xx above all, is returned at once: repeating a create then could make a second object.
///
/// An attempt in flight is never cancelled: a request that may reach the API runs to its end
/// (its HTTP timeouts bound it), so the caller learns whether it was carried out. Cancellation
/// is honoured between attempts.
pub async fn retry_while_busy<T, F, Fut>(
    what: &str,
    policy: &WaitPolicy,
    cancel: &CancellationToken,
    mut attempt: F,
) -> Result<T, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, api::Error>>,
{
    let started = Instant::now();
    let deadline = later(started, policy.timeout);
    let mut base: Option<Duration> = None;
    let mut tries: u32 = 0;
    loop {
        tries += 1;
        // An attempt still running one request timeout past the deadline is given up on; what
        // it did is unknown, so it ends like a lost reply (a create is then looked up).
        let cut_off = later(deadline.max(Instant::now()), policy.check_grace);
        let outcome = match tokio::time::timeout_at(cut_off, attempt()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(api::Error::Transport {
                message: format!(
                    "{what}: the request was still running at the deadline ({})",
                    human_duration(policy.timeout)
                ),
            }),
        };
        let error = match outcome {
            Ok(value) => return Ok(value),
            Err(error) if error.proves_nothing_done() => error,
            Err(error) => return Err(WaitError::Api(error)),
        };
        let last_status = || {
            if error.is_busy() {
                format!("busy: {}", error.api_message())
            } else {
                format!("refused ({error})")
            }
        };
        if cancel.is_cancelled() {
            return Err(WaitError::Cancelled {
                what: what.to_owned(),
            });
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(WaitError::TimedOut {
                what: what.to_owned(),
                waited: started.elapsed(),
                last_status: last_status(),
            });
        }
        let (next_base, pause) = policy.next_interval(base);
        base = Some(next_base);
        let pause = pause.max(error.retry_after().unwrap_or_default());
        warn!(
            what,
            tries,
            next_delay_ms = pause.as_millis(),
            "{}; trying again",
            last_status()
        );
        let wake = later(now, pause).min(deadline.max(later(now, policy.min_interval)));
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(WaitError::Cancelled { what: what.to_owned() }),
            () = tokio::time::sleep_until(wake) => {}
        }
    }
}

/// Waits until `get` reports the object Ready. A Failed status ends the wait at once. On failure,
/// also returns the latest object seen, so the caller can record what exists.
///
/// `reply` is the object the change's own reply showed: when it is already Ready (or Failed)
/// no check can tell more, so the wait ends without one. `get` is given the check's hold (see
/// [`WaitPolicy::hold`]; zero for a plain read).
pub async fn until_ready<T, F, Fut>(
    what: &str,
    policy: &WaitPolicy,
    cancel: &CancellationToken,
    status_of: fn(&T) -> &api::Status,
    reply: Option<&T>,
    mut get: F,
) -> Result<T, (Option<T>, WaitError)>
where
    T: Clone,
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Result<T, api::Error>>,
{
    if let Some(reply) = reply {
        let status = status_of(reply);
        match status.phase {
            api::Phase::Ready => return Ok(reply.clone()),
            api::Phase::Failed => {
                let failed = WaitError::Failed {
                    what: what.to_owned(),
                    status: status.raw.clone(),
                    message: status.message.clone().unwrap_or_default(),
                };
                return Err((Some(reply.clone()), failed));
            }
            api::Phase::Pending | api::Phase::Deleting => {}
        }
    }
    let latest = std::sync::Mutex::new(reply.cloned());
    let started = Instant::now();
    let deadline = later(started, policy.timeout);
    let result = wait_for(what, policy, cancel, || {
        let next = get(policy.hold_at(Instant::now(), deadline));
        let latest = &latest;
        async move {
            let object = match next.await {
                Ok(object) => object,
                // Just created: an eventually consistent API may not show it yet.
                Err(error)
                    if error.is_not_found() && started.elapsed() < policy.not_found_grace =>
                {
                    return Ok(Poll::Pending {
                        status: "not visible yet".to_owned(),
                    });
                }
                Err(error) => return Err(error),
            };
            let status = status_of(&object);
            let poll = match status.phase {
                api::Phase::Ready => Poll::Done(object.clone()),
                api::Phase::Failed => Poll::Failed {
                    status: status.raw.clone(),
                    message: status.message.clone().unwrap_or_default(),
                },
                // Deleted while we wait for it to be ready: it will never be.
                api::Phase::Deleting => Poll::Failed {
                    status: status.raw.clone(),
                    message: "the object is being deleted".to_owned(),
                },
                api::Phase::Pending => Poll::Pending {
                    status: status.raw.clone(),
                },
            };
            *latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(object);
            Ok(poll)
        }
    })
    .await;
    result.map_err(|err| (latest.into_inner().unwrap_or_else(|p| p.into_inner()), err))
}

/// What ends the wait after a delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteEnd {
    /// The API no longer finds the object.
    Gone,
    /// The object is gone or in a deleting status it stays in (globo's quarantine).
    Retired,
}

/// Waits until `get` answers not found (or, for [`DeleteEnd::Retired`], reports a deleting
/// status). A Failed status ends the wait at once.
pub async fn until_gone<T, F, Fut>(
    what: &str,
    policy: &WaitPolicy,
    cancel: &CancellationToken,
    end: DeleteEnd,
    status_of: fn(&T) -> &api::Status,
    mut get: F,
) -> Result<(), WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, api::Error>>,
{
    wait_for(what, policy, cancel, || {
        let next = get();
        async move {
            match next.await {
                Err(err) if err.is_not_found() => Ok(Poll::Done(())),
                Err(err) => Err(err),
                Ok(object)
                    if end == DeleteEnd::Retired
                        && status_of(&object).phase == api::Phase::Deleting =>
                {
                    Ok(Poll::Done(()))
                }
                Ok(object) => {
                    let status = status_of(&object);
                    Ok(if status.phase == api::Phase::Failed {
                        Poll::Failed {
                            status: status.raw.clone(),
                            message: status.message.clone().unwrap_or_default(),
                        }
                    } else {
                        Poll::Pending {
                            status: status.raw.clone(),
                        }
                    })
                }
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn policy(timeout_secs: u64) -> WaitPolicy {
        WaitPolicy {
            timeout: Duration::from_secs(timeout_secs),
            initial_delay: Duration::from_secs(1),
            min_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
            multiplier: 1.5,
            jitter: 0.2,
            check_grace: Duration::from_secs(30),
            hold: Duration::ZERO,
            not_found_grace: Duration::ZERO,
        }
    }

    /// A scripted check: returns the next outcome each call and records when it was called.
    struct Script<T> {
        outcomes: Mutex<Vec<Result<Poll<T>, api::Error>>>,
        calls: Mutex<Vec<Instant>>,
    }

    impl<T: Clone> Script<T> {
        fn new(mut outcomes: Vec<Result<Poll<T>, api::Error>>) -> Arc<Self> {
            outcomes.reverse();
            Arc::new(Self {
                outcomes: Mutex::new(outcomes),
                calls: Mutex::new(Vec::new()),
            })
        }

        /// Next outcome; once the script is used up, the last one repeats as pending.
        fn next(&self) -> Result<Poll<T>, api::Error> {
            self.calls.lock().unwrap().push(Instant::now());
            self.outcomes
                .lock()
                .unwrap()
                .pop()
                .unwrap_or(Ok(Poll::Pending {
                    status: "CREATING".into(),
                }))
        }

        fn call_times(&self) -> Vec<Instant> {
            self.calls.lock().unwrap().clone()
        }
    }

    fn pending() -> Result<Poll<&'static str>, api::Error> {
        Ok(Poll::Pending {
            status: "CREATING".into(),
        })
    }

    async fn run(
        script: &Arc<Script<&'static str>>,
        policy: &WaitPolicy,
        cancel: &CancellationToken,
    ) -> Result<&'static str, WaitError> {
        let script = Arc::clone(script);
        wait_for("database db-1 to be READY", policy, cancel, move || {
            let script = Arc::clone(&script);
            async move { script.next() }
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_pending_then_done_returns_value() {
        let script = Script::new(vec![pending(), pending(), Ok(Poll::Done("db"))]);
        let result = run(&script, &policy(600), &CancellationToken::new()).await;
        assert_eq!(result.unwrap(), "db");
        assert_eq!(script.call_times().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_failed_status_ends_at_once() {
        let script = Script::new(vec![
            pending(),
            Ok(Poll::Failed {
                status: "ERROR".into(),
                message: "disk full".into(),
            }),
            Ok(Poll::Done("never")),
        ]);
        let error = run(&script, &policy(600), &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(script.call_times().len(), 2);
        match &error {
            WaitError::Failed {
                status, message, ..
            } => {
                assert_eq!(status, "ERROR");
                assert_eq!(message, "disk full");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            error.to_string(),
            "database db-1 to be READY failed with status ERROR: disk full"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_tolerates_transient_errors() {
        let script = Script::new(vec![
            Err(api::Error::Unavailable {
                message: "maintenance".into(),
            }),
            Err(api::Error::Transport {
                message: "connection reset".into(),
            }),
            Err(api::Error::Api {
                status: 500,
                message: "oops".into(),
            }),
            Ok(Poll::Done("db")),
        ]);
        let result = run(&script, &policy(600), &CancellationToken::new()).await;
        assert_eq!(result.unwrap(), "db");
        assert_eq!(script.call_times().len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_rate_limit_lengthens_next_pause() {
        let script = Script::new(vec![
            Err(api::Error::RateLimited {
                retry_after: Some(Duration::from_secs(42)),
                message: "slow down".into(),
            }),
            Ok(Poll::Done("db")),
        ]);
        let result = run(&script, &policy(600), &CancellationToken::new()).await;
        assert_eq!(result.unwrap(), "db");
        let calls = script.call_times();
        assert!(calls[1] - calls[0] >= Duration::from_secs(42));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_non_retryable_error_stops() {
        let script = Script::new(vec![
            pending(),
            Err(api::Error::NotFound {
                message: "database db-1 not found".into(),
            }),
            Ok(Poll::Done("never")),
        ]);
        let error = run(&script, &policy(600), &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(error, WaitError::Api(ref e) if e.is_not_found()));
        assert_eq!(script.call_times().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_timeout_reports_last_status_and_respects_deadline() {
        let script = Script::new(vec![]); // pending forever
        let started = Instant::now();
        let timeout = Duration::from_secs(60);
        let error = run(&script, &policy(60), &CancellationToken::new())
            .await
            .unwrap_err();
        let waited_total = started.elapsed();
        match &error {
            WaitError::TimedOut {
                last_status,
                waited,
                ..
            } => {
                assert_eq!(last_status, "CREATING");
                assert!(*waited >= timeout, "{waited:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // One last check at the deadline, late by at most min_interval (spacing wins).
        let calls = script.call_times();
        let last = *calls.last().unwrap() - started;
        assert!(
            last >= timeout && last <= timeout + Duration::from_secs(1),
            "{last:?}"
        );
        assert!(calls[calls.len() - 2] - started < timeout);
        assert!(waited_total <= timeout + Duration::from_secs(1));
        assert!(error.to_string().contains("timed out after 1m00s"));
        assert!(
            error
                .to_string()
                .ends_with("the last status seen was CREATING")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_timeout_after_errors_reports_the_error() {
        let script = Script::new(
            (0..100)
                .map(|_| {
                    Err(api::Error::Unavailable {
                        message: "down for maintenance".into(),
                    })
                })
                .collect(),
        );
        let error = run(&script, &policy(20), &CancellationToken::new())
            .await
            .unwrap_err();
        match error {
            WaitError::TimedOut { last_status, .. } => {
                assert!(last_status.starts_with("unknown (the last check failed:"));
                assert!(last_status.contains("down for maintenance"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_interval_never_below_min_interval() {
        let script = Script::new(vec![]);
        let mut strict = policy(200);
        strict.min_interval = Duration::from_secs(3);
        strict.initial_delay = Duration::from_secs(3);
        strict.max_interval = Duration::from_secs(5);
        strict.jitter = 1.0; // the widest spread must still respect the bounds
        let started = Instant::now();
        let _ = run(&script, &strict, &CancellationToken::new()).await;
        let calls = script.call_times();
        assert!(calls.len() > 10, "{}", calls.len());
        assert!(calls[0] - started >= Duration::from_secs(3));
        for pair in calls.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap >= Duration::from_secs(3), "gap {gap:?}");
            assert!(gap <= Duration::from_secs(5), "gap {gap:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_deadline_inside_min_interval_still_spaces_last_check() {
        // Deadline 10 s, min interval 4 s: checks at 4, 8 and then 12 (not 10, which would be
        // only 2 s after the previous one).
        let script = Script::new(vec![]);
        let mut spaced = policy(10);
        spaced.min_interval = Duration::from_secs(4);
        spaced.initial_delay = Duration::from_secs(4);
        spaced.max_interval = Duration::from_secs(4);
        let started = Instant::now();
        let error = run(&script, &spaced, &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(error, WaitError::TimedOut { .. }));
        let offsets: Vec<u64> = script
            .call_times()
            .iter()
            .map(|t| (*t - started).as_secs())
            .collect();
        assert_eq!(offsets, vec![4, 8, 12]);
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_checks_at_least_once_with_zero_timeout() {
        let script = Script::new(vec![Ok(Poll::Done("db"))]);
        let mut instant = policy(0);
        instant.initial_delay = Duration::ZERO;
        let result = run(&script, &instant, &CancellationToken::new()).await;
        assert_eq!(result.unwrap(), "db");
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_cancellation_ends_promptly() {
        let script = Script::new(vec![]);
        let cancel = CancellationToken::new();
        let started = Instant::now();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            trigger.cancel();
        });
        let error = run(&script, &policy(3600), &cancel).await.unwrap_err();
        assert!(matches!(error, WaitError::Cancelled { .. }), "{error:?}");
        // Cancelled during a sleep, not at the end of the hour.
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(
            error.to_string(),
            "stopped waiting for database db-1 to be READY: the operation was cancelled"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_cancellation_interrupts_a_slow_check() {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            trigger.cancel();
        });
        let started = Instant::now();
        let result: Result<(), WaitError> = wait_for("slow", &policy(3600), &cancel, || async {
            tokio::time::sleep(Duration::from_secs(1000)).await;
            Ok(Poll::Done(()))
        })
        .await;
        assert!(matches!(result, Err(WaitError::Cancelled { .. })));
        assert_eq!(started.elapsed(), Duration::from_secs(3));
    }

    #[test]
    fn from_guidance_uses_api_spacing() {
        let guidance = PollGuidance {
            min_interval: Duration::from_secs(30),
            max_interval: Duration::from_secs(120),
        };
        let policy = WaitPolicy::from_guidance(&guidance, Duration::from_secs(2400));
        assert_eq!(policy.timeout, Duration::from_secs(2400));
        assert_eq!(policy.initial_delay, Duration::from_secs(30));
        assert_eq!(policy.min_interval, Duration::from_secs(30));
        assert_eq!(policy.max_interval, Duration::from_secs(120));
        assert_eq!(policy.multiplier, 1.5);
        assert_eq!(policy.jitter, 0.2);
    }

    #[test]
    fn next_interval_grows_to_max() {
        let mut steady = policy(600);
        steady.jitter = 0.0;
        let (first, pause) = steady.next_interval(None);
        assert_eq!(
            (first, pause),
            (Duration::from_secs(1), Duration::from_secs(1))
        );
        let (second, _) = steady.next_interval(Some(first));
        assert_eq!(second, Duration::from_millis(1500));
        let mut base = second;
        for _ in 0..20 {
            base = steady.next_interval(Some(base)).0;
        }
        assert_eq!(base, Duration::from_secs(10));
    }

    #[test]
    fn human_duration_reads_naturally() {
        assert_eq!(human_duration(Duration::from_millis(250)), "250 ms");
        assert_eq!(human_duration(Duration::from_secs(42)), "42s");
        assert_eq!(human_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(
            human_duration(Duration::from_secs(3 * 3600 + 5)),
            "3h00m05s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retry_while_busy_retries_busy_and_stops_on_conflict() {
        let attempts = Mutex::new(0);
        let result = retry_while_busy(
            "restriction",
            &policy(60),
            &CancellationToken::new(),
            || {
                let attempt = {
                    let mut n = attempts.lock().unwrap();
                    *n += 1;
                    *n
                };
                async move {
                    if attempt < 3 {
                        Err(api::Error::Busy {
                            message: "database is UPDATING".into(),
                            retry_after: None,
                        })
                    } else {
                        Ok(attempt)
                    }
                }
            },
        )
        .await;
        assert_eq!(result.unwrap(), 3);

        let duplicate = retry_while_busy(
            "restriction",
            &policy(60),
            &CancellationToken::new(),
            || async {
                Err::<(), _>(api::Error::Conflict {
                    message: "already allowed".into(),
                })
            },
        )
        .await;
        assert!(matches!(duplicate, Err(WaitError::Api(err)) if err.is_conflict()));
    }

    /// Counts the calls of an attempt that always fails with `error()`.
    async fn attempts_until_given_up(error: fn() -> api::Error) -> (u32, WaitError) {
        let calls = Mutex::new(0u32);
        let result = retry_while_busy(
            "database \"a\"",
            &policy(30),
            &CancellationToken::new(),
            || {
                *calls.lock().unwrap() += 1;
                async move { Err::<(), _>(error()) }
            },
        )
        .await;
        (calls.into_inner().unwrap(), result.unwrap_err())
    }

    #[tokio::test(start_paused = true)]
    async fn retry_while_busy_never_resends_what_may_have_been_done() {
        let ambiguous: [fn() -> api::Error; 4] = [
            || api::Error::Transport {
                message: "POST /v1/databases: connection closed before message completed".into(),
            },
            || api::Error::Unavailable {
                message: "bad gateway".into(),
            },
            || api::Error::Api {
                status: 500,
                message: "internal error".into(),
            },
            || api::Error::Protocol {
                message: "truncated JSON".into(),
            },
        ];
        for error in ambiguous {
            let (calls, outcome) = attempts_until_given_up(error).await;
            assert_eq!(calls, 1, "{outcome:?}");
            assert!(
                matches!(&outcome, WaitError::Api(err) if err.may_have_been_applied()),
                "{outcome:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_while_busy_retries_what_proves_nothing_was_done() {
        let refused: [fn() -> api::Error; 3] = [
            || api::Error::Unreachable {
                message: "connection refused".into(),
            },
            || api::Error::RateLimited {
                retry_after: Some(Duration::from_secs(2)),
                message: "slow down".into(),
            },
            || api::Error::Busy {
                message: "database is CREATING".into(),
                retry_after: None,
            },
        ];
        for error in refused {
            let (calls, outcome) = attempts_until_given_up(error).await;
            assert!(calls > 3, "{calls} calls, {outcome:?}");
            assert!(matches!(outcome, WaitError::TimedOut { .. }), "{outcome:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_while_busy_lets_an_attempt_in_flight_finish_when_cancelled() {
        let cancel = CancellationToken::new();
        let trigger = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            trigger.cancel();
        });
        let result = retry_while_busy("database \"a\"", &policy(60), &cancel, || async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, api::Error>("db-1")
        })
        .await;
        assert_eq!(result.unwrap(), "db-1");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_while_busy_gives_up_on_an_attempt_past_the_deadline() {
        let started = Instant::now();
        let result = retry_while_busy(
            "database \"a\"",
            &policy(10),
            &CancellationToken::new(),
            || async {
                tokio::time::sleep(Duration::from_secs(10_000)).await;
                Ok::<_, api::Error>("db-1")
            },
        )
        .await;
        // Cut one check grace (30 s) past the 10 s deadline, and reported like a lost reply.
        assert_eq!(started.elapsed(), Duration::from_secs(40));
        assert!(
            matches!(&result, Err(WaitError::Api(err)) if err.may_have_been_applied()),
            "{result:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_cuts_a_check_running_past_the_deadline() {
        let started = Instant::now();
        let result: Result<(), WaitError> =
            wait_for("slow", &policy(10), &CancellationToken::new(), || async {
                tokio::time::sleep(Duration::from_secs(10_000)).await;
                Ok(Poll::Done(()))
            })
            .await;
        assert!(
            matches!(result, Err(WaitError::TimedOut { .. })),
            "{result:?}"
        );
        // The deadline (10 s) plus one check grace (30 s), not the check's 10 000 s.
        assert_eq!(started.elapsed(), Duration::from_secs(40));
    }

    #[tokio::test(start_paused = true)]
    async fn wait_for_survives_a_retry_after_too_large_to_add() {
        let script = Script::new(vec![Err(api::Error::RateLimited {
            retry_after: Some(Duration::MAX),
            message: "later".into(),
        })]);
        let error = run(&script, &policy(5), &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(error, WaitError::TimedOut { .. }), "{error:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn until_ready_waits_out_not_found_right_after_create() {
        let status = |raw: &str, phase| api::Status {
            phase,
            raw: raw.into(),
            message: None,
        };
        let replies = Mutex::new(vec![
            Ok(status("READY", api::Phase::Ready)),
            Err(api::Error::NotFound {
                message: "no database db-1".into(),
            }),
            Err(api::Error::NotFound {
                message: "no database db-1".into(),
            }),
        ]);
        let mut fresh = policy(600);
        fresh.not_found_grace = Duration::from_secs(30);
        let ready = until_ready(
            "db-1",
            &fresh,
            &CancellationToken::new(),
            |s| s,
            None,
            |_| {
                let next = replies.lock().unwrap().pop().unwrap();
                async move { next }
            },
        )
        .await;
        assert_eq!(ready.unwrap().raw, "READY");

        let never = until_ready(
            "db-1",
            &policy(600),
            &CancellationToken::new(),
            |s| s,
            None,
            |_| async {
                Err::<api::Status, _>(api::Error::NotFound {
                    message: "no database db-1".into(),
                })
            },
        )
        .await;
        assert!(matches!(never, Err((None, WaitError::Api(err))) if err.is_not_found()));
    }

    fn status(raw: &str, phase: api::Phase) -> api::Status {
        api::Status {
            phase,
            raw: raw.into(),
            message: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_reply_already_ready_or_failed_ends_the_wait_without_a_check() {
        let checks = Mutex::new(0);
        let count = || {
            *checks.lock().unwrap() += 1;
            async { Ok(status("CREATING", api::Phase::Pending)) }
        };
        let started = Instant::now();
        let ready = status("READY", api::Phase::Ready);
        let done = until_ready(
            "db-1",
            &policy(600),
            &CancellationToken::new(),
            |s| s,
            Some(&ready),
            |_| count(),
        )
        .await;
        assert_eq!(done.unwrap().raw, "READY");
        let failed = status("ERROR", api::Phase::Failed);
        let ended = until_ready(
            "db-1",
            &policy(600),
            &CancellationToken::new(),
            |s| s,
            Some(&failed),
            |_| count(),
        )
        .await;
        assert!(matches!(ended, Err((Some(_), WaitError::Failed { .. }))));
        assert_eq!(
            *checks.lock().unwrap(),
            0,
            "no request for an answer already known"
        );
        assert_eq!(started.elapsed(), Duration::ZERO, "no pause either");
    }

    #[tokio::test(start_paused = true)]
    async fn held_checks_follow_each_other_without_pauses_and_never_past_the_deadline() {
        let mut held = policy(70);
        held.hold = Duration::from_secs(25);
        let holds = Mutex::new(Vec::new());
        let started = Instant::now();
        let ready = until_ready(
            "db-1",
            &held,
            &CancellationToken::new(),
            |s| s,
            None,
            |hold| {
                holds.lock().unwrap().push((started.elapsed(), hold));
                async move {
                    // The API holds the reply until READY, which comes 60 s after the start.
                    let settle = Duration::from_secs(60).saturating_sub(started.elapsed());
                    if settle <= hold {
                        tokio::time::sleep(settle).await;
                        Ok(status("READY", api::Phase::Ready))
                    } else {
                        tokio::time::sleep(hold).await;
                        Ok(status("CREATING", api::Phase::Pending))
                    }
                }
            },
        )
        .await;
        assert_eq!(ready.unwrap().raw, "READY");
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(60),
            "noticed the moment it settled"
        );
        let secs = |d: Duration| d.as_secs();
        let holds: Vec<(u64, u64)> = holds
            .lock()
            .unwrap()
            .iter()
            .map(|&(at, hold)| (secs(at), secs(hold)))
            .collect();
        assert_eq!(
            holds,
            [(0, 25), (25, 25), (50, 20)],
            "three checks, the last cut to the deadline"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_was_not_held_is_paced_as_a_poll() {
        // An API that ignores the hold answers at once: the wait must not spin.
        let mut held = policy(10);
        held.hold = Duration::from_secs(25);
        let checks = Mutex::new(0u32);
        let result = until_ready(
            "db-1",
            &held,
            &CancellationToken::new(),
            |s| s,
            None,
            |_| {
                *checks.lock().unwrap() += 1;
                async { Ok(status("CREATING", api::Phase::Pending)) }
            },
        )
        .await;
        assert!(matches!(result, Err((_, WaitError::TimedOut { .. }))));
        let checks = *checks.lock().unwrap();
        assert!(
            (4..=12).contains(&checks),
            "{checks} checks in 10 s at a 1 s spacing"
        );
    }
}
