//! Status transitions the service drives by itself.
//!
//! Every transitional status (`CREATING`, `UPDATING`, `DELETING`) is stored with the instant it
//! settles (`transition_at`). A single worker sleeps until the earliest such instant (or until
//! someone schedules an earlier one and pokes it), then settles everything due. Because the
//! instants are persisted, transitions happen whether or not anyone polls, and resume after a
//! restart: an overdue `CREATING` settles as soon as the worker starts.
//!
//! The rules ([`settle`], [`settle_child`]) are pure functions of the object and the time.
//! Credentials (`CREATING`/`UPDATING`), indexes (`BUILDING`) and IP restrictions (`CREATING`)
//! become `READY`; children in `DELETING` are removed. Children settle before databases in
//! each pass, so an IP restriction is `READY` no later than the database it made `UPDATING`.
//! A database that is gone takes its remaining children with it, in the same transaction.
//!
//! Lifecycle faults ([`LifecycleFaults`], a test aid) change how the next created objects of a
//! kind settle, whichever API creates them: the rules that create objects ask
//! [`LifecycleFaults::schedule`] for each new object's first transition. A `stuck` object gets
//! no transition instant, so it stays `CREATING`/`BUILDING` for good; a `failed` one carries
//! the failure (`fails_with`) and settles in `ERROR` instead of `READY` (a database with the
//! failure as its status message). Both are stored with the object, so a restart keeps them;
//! the pending rules themselves live in memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{Notify, watch};

use super::engines::{Engines, Unrealized};
use super::error::LocalError;
use super::model::{Database, Status, whole_seconds};
use super::store::{DueChild, Store};

/// Longest nap of the worker: it re-checks at least this often, which bounds the effect of a
/// wall-clock jump (due instants are wall-clock times, persisted across restarts).
const MAX_NAP: Duration = Duration::from_secs(30);
/// How often the worker checks that a real engine's server still runs.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Pause after a store error before the worker tries again.
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Where "now" comes from. Persisted instants need wall-clock time; tests use a clock that
/// follows tokio's (pausable) time so they never wait for real.
#[derive(Debug, Clone)]
pub(crate) enum Clock {
    /// The system clock.
    System,
    /// Wall-clock time of `start`, advanced by tokio time elapsed since `tokio_start`.
    #[cfg(test)]
    Tokio {
        /// Wall-clock time at creation.
        start: DateTime<Utc>,
        /// Tokio time at creation.
        tokio_start: tokio::time::Instant,
    },
}

impl Clock {
    /// A clock that follows tokio time (for `tokio::time::pause()` tests).
    #[cfg(test)]
    pub(crate) fn tokio() -> Self {
        Self::Tokio {
            start: Utc::now(),
            tokio_start: tokio::time::Instant::now(),
        }
    }

    /// The current time.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        match self {
            Self::System => Utc::now(),
            #[cfg(test)]
            Self::Tokio { start, tokio_start } => {
                let elapsed = chrono::Duration::from_std(tokio_start.elapsed())
                    .unwrap_or(chrono::Duration::MAX);
                *start + elapsed
            }
        }
    }
}

/// The settled version of `database` if its transition is due at `now`, else `None`.
pub(crate) fn settle(database: &Database, now: DateTime<Utc>) -> Option<Database> {
    let due = database.transition_at?;
    if due > now {
        return None;
    }
    let mut next = database.clone();
    next.transition_at = None;
    next.status_message = None;
    next.fails_with = None;
    next.updated_at = whole_seconds(now);
    match database.status {
        Status::Creating | Status::Building | Status::Updating => match &database.fails_with {
            Some(failure) => {
                next.status = Status::Error;
                next.status_message = Some(failure.clone());
            }
            None => next.status = Status::Ready,
        },
        Status::Deleting => next.gone_at = Some(whole_seconds(now)),
        // Settled statuses have nothing to settle; a stray instant is just cleared.
        Status::Ready | Status::Error => {}
    }
    Some(next)
}

/// What a due child transition comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildSettled {
    /// The child is now in this (settled) status.
    Now(Status),
    /// The child was `DELETING` and is now removed.
    Gone,
}

/// How a child in `status` with a transition due at `due` settles at `now` (in `ERROR` when
/// it `fails`); `None` when not due (or nothing to settle).
pub(crate) fn settle_child(
    status: Status,
    due: Option<DateTime<Utc>>,
    fails: bool,
    now: DateTime<Utc>,
) -> Option<ChildSettled> {
    if due? > now {
        return None;
    }
    Some(match status {
        Status::Creating | Status::Building | Status::Updating if fails => {
            ChildSettled::Now(Status::Error)
        }
        Status::Creating | Status::Building | Status::Updating => ChildSettled::Now(Status::Ready),
        Status::Deleting => ChildSettled::Gone,
        // A stray instant on a settled child is just cleared.
        Status::Ready | Status::Error => ChildSettled::Now(status),
    })
}

/// Settles every transition due at `now` with every engine simulated; returns how many
/// objects changed.
pub(crate) async fn settle_due(store: &Store, now: DateTime<Utc>) -> Result<usize, LocalError> {
    Ok(settle_due_on(store, &Engines::simulated(), now)
        .await?
        .settled)
}

/// What one pass of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pass {
    /// Objects whose transition settled.
    pub(crate) settled: usize,
    /// Due objects left for a later pass: their real engine could not be reached.
    pub(crate) deferred: usize,
}

/// Settles every transition due at `now`, each once `engines` hold the object as it will be.
pub(crate) async fn settle_due_on(
    store: &Store,
    engines: &Engines,
    now: DateTime<Utc>,
) -> Result<Pass, LocalError> {
    let mut pass = Pass::default();
    for child in store.due_children(now).await? {
        let refused = match engines.realize_child(store, &child).await {
            Ok(()) => None,
            Err(Unrealized::Refused(why)) => Some(why),
            Err(Unrealized::Later(why)) => {
                tracing::warn!(child = ?child, reason = %why, "child transition waits for its engine");
                pass.deferred += 1;
                continue;
            }
        };
        if settle_one_child(store, child, now, refused).await? {
            pass.settled += 1;
        }
    }
    for id in store.due_database_ids(now).await? {
        // Only a real engine needs the database before its transaction: no extra read else.
        let realized = match engines.any_real() {
            true => match store.database(&id).await? {
                Some(due) => engines.realize_database(store, &due).await,
                None => continue,
            },
            false => Ok(None),
        };
        let (served_at, refused) = match realized {
            Ok(served_at) => (served_at, None),
            Err(Unrealized::Refused(why)) => (None, Some(why)),
            Err(Unrealized::Later(why)) => {
                tracing::warn!(%id, reason = %why, "database transition waits for its engine");
                pass.deferred += 1;
                continue;
            }
        };
        // Re-decided inside the store transaction: a request may have changed it meanwhile.
        let outcome = store
            .transact(move |tx| {
                let Some(mut current) = tx.database(&id)? else {
                    return Ok(None);
                };
                if refused.is_some() {
                    current.fails_with = refused;
                }
                let Some(mut next) = settle(&current, now) else {
                    return Ok(None);
                };
                if served_at.is_some() {
                    next.served_at = served_at;
                }
                tx.update_database(&next)?;
                if next.is_gone() {
                    tx.remove_children(&next.id)?;
                }
                Ok(Some(next))
            })
            .await?;
        if let Some(database) = outcome {
            pass.settled += 1;
            tracing::info!(
                id = %database.id,
                name = %database.name,
                status = if database.is_gone() { "GONE" } else { database.status.as_str() },
                "database transition settled"
            );
        }
    }
    Ok(pass)
}

/// The failure of a child that settled: kept on one now in `ERROR`, as the reason its replies
/// show (`status_message`); cleared on any other.
fn failure_kept_in_error(fails_with: &mut Option<String>, settled: ChildSettled) -> Option<String> {
    if settled == ChildSettled::Now(Status::Error) {
        fails_with.clone()
    } else {
        fails_with.take()
    }
}

/// Settles one due child in its own transaction; whether it changed.
async fn settle_one_child(
    store: &Store,
    child: DueChild,
    now: DateTime<Utc>,
    refused: Option<String>,
) -> Result<bool, LocalError> {
    let described = format!("{child:?}");
    let outcome = store
        .transact(move |tx| match child {
            DueChild::Credential {
                database_id,
                username,
            } => {
                let Some(mut credential) = tx.credential(&database_id, &username)? else {
                    return Ok(None);
                };
                if refused.is_some() {
                    credential.fails_with = refused;
                }
                let Some(settled) = settle_child(
                    credential.status,
                    credential.transition_at,
                    credential.fails_with.is_some(),
                    now,
                ) else {
                    return Ok(None);
                };
                let failure = failure_kept_in_error(&mut credential.fails_with, settled);
                match settled {
                    ChildSettled::Gone => tx.remove_credential(&database_id, &username)?,
                    ChildSettled::Now(status) => {
                        credential.status = status;
                        credential.transition_at = None;
                        credential.updated_at = whole_seconds(now);
                        tx.update_credential(&credential)?;
                    }
                }
                Ok(Some((settled, failure)))
            }
            DueChild::Index {
                database_id,
                collection,
                name,
            } => {
                let Some(mut index) = tx.index(&database_id, &collection, &name)? else {
                    return Ok(None);
                };
                if refused.is_some() {
                    index.fails_with = refused;
                }
                let Some(settled) = settle_child(
                    index.status,
                    index.transition_at,
                    index.fails_with.is_some(),
                    now,
                ) else {
                    return Ok(None);
                };
                let failure = failure_kept_in_error(&mut index.fails_with, settled);
                match settled {
                    ChildSettled::Gone => tx.remove_index(&database_id, &collection, &name)?,
                    ChildSettled::Now(status) => {
                        index.status = status;
                        index.transition_at = None;
                        tx.update_index(&index)?;
                    }
                }
                Ok(Some((settled, failure)))
            }
            DueChild::IpRestriction { database_id, cidr } => {
                let Some(mut restriction) = tx.ip_restriction(&database_id, &cidr)? else {
                    return Ok(None);
                };
                if refused.is_some() {
                    restriction.fails_with = refused;
                }
                let Some(settled) = settle_child(
                    restriction.status,
                    restriction.transition_at,
                    restriction.fails_with.is_some(),
                    now,
                ) else {
                    return Ok(None);
                };
                let failure = failure_kept_in_error(&mut restriction.fails_with, settled);
                match settled {
                    ChildSettled::Gone => tx.remove_ip_restriction(&database_id, &cidr)?,
                    ChildSettled::Now(status) => {
                        restriction.status = status;
                        restriction.transition_at = None;
                        tx.update_ip_restriction(&restriction)?;
                    }
                }
                Ok(Some((settled, failure)))
            }
        })
        .await?;
    match outcome {
        Some((settled, failure)) => {
            let failure = failure.filter(|_| settled == ChildSettled::Now(Status::Error));
            tracing::info!(
                child = %described,
                ?settled,
                failure = failure.as_deref(),
                "child transition settled"
            );
            Ok(true)
        }
        None => Ok(false),
    }
}

/// The kinds of object a lifecycle fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FaultedKind {
    /// Databases, matched by name.
    Database,
    /// Credentials, matched by username.
    Credential,
    /// Indexes, matched by index name.
    Index,
    /// IP restrictions, matched by canonical CIDR.
    IpRestriction,
}

impl FaultedKind {
    /// The wire spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Database => "database",
            Self::Credential => "credential",
            Self::Index => "index",
            Self::IpRestriction => "ip_restriction",
        }
    }
}

/// How an object a lifecycle fault hits ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FaultOutcome {
    /// Stays in its transitional status (`CREATING`, `BUILDING`) for good.
    Stuck,
    /// Ends in `ERROR` instead of `READY`.
    Failed,
}

/// A rule for the next objects of one kind to be created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct LifecycleFault {
    /// Which kind of object it hits.
    pub(crate) kind: FaultedKind,
    /// Only objects of this name (store spelling; canonical for CIDRs), or any when `None`.
    pub(crate) name: Option<String>,
    /// How they end.
    pub(crate) outcome: FaultOutcome,
    /// Why a failed object failed; a default names the fault when `None`.
    pub(crate) message: Option<String>,
    /// Objects still to hit.
    pub(crate) count: u64,
}

impl LifecycleFault {
    fn matches(&self, kind: FaultedKind, name: &str) -> bool {
        self.kind == kind && self.name.as_deref().is_none_or(|wanted| wanted == name)
    }
}

/// When and how the first transition of a new object settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// When it settles; `None` when it never does (stuck).
    pub(crate) transition_at: Option<DateTime<Utc>>,
    /// Set when it must settle in `ERROR`, with this message.
    pub(crate) fails_with: Option<String>,
}

/// The pending lifecycle faults, first added first used.
#[derive(Debug, Default)]
pub(crate) struct LifecycleFaults {
    rules: Mutex<Vec<LifecycleFault>>,
}

impl LifecycleFaults {
    /// Adds a rule after the existing ones.
    pub(crate) fn add(&self, rule: LifecycleFault) {
        if rule.count > 0 {
            self.lock().push(rule);
        }
    }

    /// The rules still pending.
    pub(crate) fn list(&self) -> Vec<LifecycleFault> {
        self.lock().clone()
    }

    /// Forgets every rule.
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// The first transition of a new `kind` object named `name`, which would settle at
    /// `settles_at`: the first pending rule that matches is used up. Call it when the object is
    /// about to be written, inside the creating transaction, so a refused create uses nothing.
    pub(crate) fn schedule(
        &self,
        kind: FaultedKind,
        name: &str,
        settles_at: DateTime<Utc>,
    ) -> Schedule {
        let normal = Schedule {
            transition_at: Some(settles_at),
            fails_with: None,
        };
        let mut rules = self.lock();
        let Some(index) = rules.iter().position(|rule| rule.matches(kind, name)) else {
            return normal;
        };
        let rule = rules[index].clone();
        rules[index].count -= 1;
        if rules[index].count == 0 {
            rules.remove(index);
        }
        tracing::info!(
            kind = kind.as_str(),
            name,
            outcome = ?rule.outcome,
            "lifecycle fault applied"
        );
        match rule.outcome {
            FaultOutcome::Stuck => Schedule {
                transition_at: None,
                fails_with: None,
            },
            FaultOutcome::Failed => Schedule {
                fails_with: Some(rule.message.unwrap_or_else(|| {
                    format!("{} failed (injected lifecycle fault)", kind.as_str())
                })),
                ..normal
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LifecycleFault>> {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The longest a blocking read may hold its reply.
pub(crate) const MAX_HOLD: Duration = Duration::from_secs(60);

/// A blocking read: reads with `read` until the object is no longer in a status that settles
/// by itself (`status_of`), or `within` (at most [`MAX_HOLD`]) has passed, and returns the last
/// read. A read error (the object is gone: 404) ends it at once. It re-reads after every
/// committed write, so it answers as soon as the status changes.
pub(crate) async fn read_when_settled<T, F, Fut>(
    store: &Store,
    within: Duration,
    status_of: impl Fn(&T) -> Status,
    mut read: F,
) -> Result<T, LocalError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, LocalError>>,
{
    let deadline = tokio::time::Instant::now() + within.min(MAX_HOLD);
    let mut writes = store.watch_writes();
    loop {
        // Marked seen before the read: a write during the read wakes the next nap at once.
        writes.borrow_and_update();
        let current = read().await?;
        if !status_of(&current).is_settling() {
            return Ok(current);
        }
        tokio::select! {
            changed = writes.changed() => {
                if changed.is_err() {
                    return Ok(current);
                }
            }
            () = tokio::time::sleep_until(deadline) => return Ok(current),
        }
    }
}

/// Handle used by request handlers to tell the worker that an earlier transition may now exist.
#[derive(Debug, Clone, Default)]
pub(crate) struct Wake(Arc<Notify>);

impl Wake {
    /// Pokes the worker; a poke while it is busy is remembered, so none is lost.
    pub(crate) fn poke(&self) {
        self.0.notify_one();
    }

    async fn poked(&self) {
        self.0.notified().await;
    }
}

/// Runs the worker until `shutdown` changes or its sender is dropped.
pub(crate) async fn run_worker(
    store: Store,
    engines: Engines,
    clock: Clock,
    wake: Wake,
    mut shutdown: watch::Receiver<bool>,
) {
    if let Err(Unrealized::Later(why) | Unrealized::Refused(why)) = engines.resume(&store).await {
        tracing::error!(reason = %why, "cannot resume the real databases; each waits for its engine");
    }
    loop {
        let revived = engines.revive(&store).await;
        if let Err(Unrealized::Later(why) | Unrealized::Refused(why)) = &revived {
            tracing::error!(reason = %why, "cannot start PostgreSQL again; trying again shortly");
        }
        let nap = match settle_due_on(&store, &engines, clock.now()).await {
            // An engine out of reach: try again after a pause, not at once.
            Ok(pass) if pass.deferred > 0 => ERROR_BACKOFF,
            Ok(_) => match store.next_transition_at().await {
                Ok(Some(due)) => (due - clock.now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(MAX_NAP),
                Ok(None) => MAX_NAP,
                Err(error) => {
                    tracing::error!(%error, "lifecycle worker cannot read the store");
                    ERROR_BACKOFF
                }
            },
            Err(error) => {
                tracing::error!(%error, "lifecycle worker cannot settle transitions");
                ERROR_BACKOFF
            }
        };
        let nap = if revived.is_err() {
            ERROR_BACKOFF
        } else if engines.any_real() {
            // A real engine's server is watched: one that died is started again this soon.
            nap.min(WATCH_EVERY)
        } else {
            nap
        };
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            () = wake.poked() => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
    }

    fn database(status: Status, due: Option<DateTime<Utc>>) -> Database {
        Database {
            id: "db-00000000000a".into(),
            uuid: crate::local::model::new_uuid(),
            name: "alpha".into(),
            engine: "mysql".into(),
            version: "8.4".into(),
            plan: "essential".into(),
            region: "us-east-1".into(),
            flavor: "db1-4".into(),
            node_count: 1,
            description: None,
            locked: false,
            status,
            status_message: Some("working".into()),
            created_at: at(0),
            updated_at: at(0),
            transition_at: due,
            gone_at: None,
            fails_with: None,
            served_at: None,
        }
    }

    #[test]
    fn settle_waits_until_due() {
        let db = database(Status::Creating, Some(at(5)));
        assert_eq!(settle(&db, at(4)), None);
        let ready = settle(&db, at(5)).expect("due");
        assert_eq!(ready.status, Status::Ready);
        assert_eq!(ready.transition_at, None);
        assert_eq!(ready.status_message, None);
        assert_eq!(ready.updated_at, at(5));
        assert!(!ready.is_gone());
    }

    #[test]
    fn settle_updating_becomes_ready_and_deleting_goes() {
        let updated = settle(&database(Status::Updating, Some(at(1))), at(2)).unwrap();
        assert_eq!(updated.status, Status::Ready);
        let gone = settle(&database(Status::Deleting, Some(at(1))), at(2)).unwrap();
        assert_eq!(gone.gone_at, Some(at(2)));
        assert!(gone.is_gone());
        assert_eq!(settle(&database(Status::Ready, None), at(2)), None);
    }

    #[test]
    fn settle_child_maps_every_status() {
        let due = Some(at(1));
        assert_eq!(settle_child(Status::Building, due, false, at(0)), None);
        assert_eq!(settle_child(Status::Building, None, false, at(9)), None);
        for status in [Status::Creating, Status::Building, Status::Updating] {
            assert_eq!(
                settle_child(status, due, false, at(1)),
                Some(ChildSettled::Now(Status::Ready))
            );
            assert_eq!(
                settle_child(status, due, true, at(1)),
                Some(ChildSettled::Now(Status::Error))
            );
        }
        assert_eq!(
            settle_child(Status::Deleting, due, true, at(2)),
            Some(ChildSettled::Gone),
            "a planned failure never stops a deletion"
        );
        assert_eq!(
            settle_child(Status::Ready, due, false, at(2)),
            Some(ChildSettled::Now(Status::Ready))
        );
    }

    #[test]
    fn settle_fails_a_database_with_its_message() {
        let mut db = database(Status::Creating, Some(at(5)));
        db.fails_with = Some("disk full".into());
        let failed = settle(&db, at(5)).unwrap();
        assert_eq!(failed.status, Status::Error);
        assert_eq!(failed.status_message.as_deref(), Some("disk full"));
        assert_eq!(failed.fails_with, None);
        db.status = Status::Deleting;
        assert!(settle(&db, at(5)).unwrap().is_gone());
    }

    fn rule(kind: FaultedKind, name: Option<&str>, outcome: FaultOutcome) -> LifecycleFault {
        LifecycleFault {
            kind,
            name: name.map(str::to_owned),
            outcome,
            message: None,
            count: 1,
        }
    }

    #[test]
    fn lifecycle_faults_hit_the_next_matching_objects_only() {
        let faults = LifecycleFaults::default();
        faults.add(LifecycleFault {
            count: 2,
            ..rule(FaultedKind::Index, Some("by_day"), FaultOutcome::Stuck)
        });
        faults.add(LifecycleFault {
            message: Some("quota".into()),
            ..rule(FaultedKind::Credential, None, FaultOutcome::Failed)
        });
        let normal = Schedule {
            transition_at: Some(at(5)),
            fails_with: None,
        };
        assert_eq!(faults.schedule(FaultedKind::Index, "other", at(5)), normal);
        assert_eq!(
            faults.schedule(FaultedKind::Database, "by_day", at(5)),
            normal
        );
        let stuck = Schedule {
            transition_at: None,
            fails_with: None,
        };
        assert_eq!(faults.schedule(FaultedKind::Index, "by_day", at(5)), stuck);
        assert_eq!(faults.list()[0].count, 1);
        assert_eq!(faults.schedule(FaultedKind::Index, "by_day", at(5)), stuck);
        assert_eq!(
            faults.schedule(FaultedKind::Credential, "anyone", at(5)),
            Schedule {
                transition_at: Some(at(5)),
                fails_with: Some("quota".into()),
            }
        );
        assert!(faults.list().is_empty());
        assert_eq!(
            faults.schedule(FaultedKind::Credential, "app", at(5)),
            normal
        );

        faults.add(rule(FaultedKind::Database, None, FaultOutcome::Failed));
        let failed = faults.schedule(FaultedKind::Database, "alpha", at(5));
        assert_eq!(
            failed.fails_with.as_deref(),
            Some("database failed (injected lifecycle fault)")
        );
        faults.add(rule(FaultedKind::IpRestriction, None, FaultOutcome::Stuck));
        faults.clear();
        assert_eq!(
            faults.schedule(FaultedKind::IpRestriction, "10.0.0.0/8", at(5)),
            normal
        );
    }

    #[tokio::test]
    async fn settle_due_applies_only_due_transitions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let mut early = database(Status::Creating, Some(at(1)));
        early.id = "db-000000000001".into();
        early.name = "early".into();
        let mut late = database(Status::Deleting, Some(at(10)));
        late.id = "db-000000000002".into();
        late.name = "late".into();
        for db in [early, late] {
            store
                .transact(move |tx| tx.insert_database(&db))
                .await
                .unwrap();
        }
        assert_eq!(settle_due(&store, at(5)).await.unwrap(), 1);
        let early = store.database("db-000000000001").await.unwrap().unwrap();
        assert_eq!(early.status, Status::Ready);
        assert!(store.database("db-000000000002").await.unwrap().is_some());
        assert_eq!(settle_due(&store, at(10)).await.unwrap(), 1);
        assert!(store.database("db-000000000002").await.unwrap().is_none());
        assert_eq!(settle_due(&store, at(100)).await.unwrap(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn worker_settles_without_polling_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let clock = Clock::tokio();
        let wake = Wake::default();
        let (stop, stopped) = watch::channel(false);
        let worker = tokio::spawn(run_worker(
            store.clone(),
            Engines::simulated(),
            clock.clone(),
            wake.clone(),
            stopped,
        ));

        // Scheduled after the worker went to sleep with nothing to do: the poke wakes it.
        tokio::task::yield_now().await;
        let mut db = database(
            Status::Creating,
            Some(clock.now() + chrono::Duration::minutes(10)),
        );
        db.created_at = whole_seconds(clock.now());
        let inserted = db.clone();
        store
            .transact(move |tx| tx.insert_database(&inserted))
            .await
            .unwrap();
        wake.poke();

        tokio::time::sleep(Duration::from_secs(9 * 60)).await;
        let read = store.database(&db.id).await.unwrap().unwrap();
        assert_eq!(read.status, Status::Creating);
        tokio::time::sleep(Duration::from_secs(2 * 60)).await;
        let read = store.database(&db.id).await.unwrap().unwrap();
        assert_eq!(read.status, Status::Ready);

        stop.send(true).unwrap();
        worker.await.unwrap();
    }
}
