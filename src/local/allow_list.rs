//! A database's IP allow list as one set: what a create with `ipRestrictions` (OVH) or a PUT of
//! the whole list does, in the database's own transaction. It sits below both `databases` (a
//! create or update carrying the set) and `ip_restrictions` (the one-restriction operations), so
//! the parent operation never imports its child module.
//!
//! The networks a set lacks are deleted and the new ones created, by OVH's busy rule: the
//! caller makes the database `UPDATING` when membership changed; a description change alone does
//! not make it busy. CIDRs are canonical (see [`crate::cidr`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::LocalError;
use super::lifecycle::{FaultedKind, LifecycleFaults, Schedule};
use super::model::{IpRestriction, Status, new_uuid, whole_seconds};
use super::store::StoreTx;
use super::validation::validate_description;
use crate::cidr::Cidr;

/// Status message of a database while its IP restrictions change.
pub(crate) const APPLYING: &str = "applying IP restrictions";

/// A create request after wire decoding.
#[derive(Debug, Clone)]
pub(crate) struct CreateIpRestriction {
    /// The network, in any accepted spelling (canonicalized here).
    pub(crate) cidr: String,
    /// Free text.
    pub(crate) description: Option<String>,
}

/// One entry of a validated set: canonical CIDR and description. Serialized as the text an
/// idempotency key of a create is bound to, so every spelling of a network is the same request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct WantedRestriction {
    /// Canonical CIDR.
    pub(crate) cidr: String,
    /// Free text.
    pub(crate) description: Option<String>,
}

/// What replacing a database's set of restrictions did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetChange {
    /// The set was already exactly this.
    Nothing,
    /// Only descriptions changed (the database does not become busy).
    Descriptions,
    /// Networks were added or removed (the database must become `UPDATING`).
    Membership,
}

/// Validates a whole set: every CIDR (field `cidr`) and description; the same network listed
/// twice, in any spelling, is a duplicate.
pub(crate) fn validate_set(
    requests: Vec<CreateIpRestriction>,
) -> Result<Vec<WantedRestriction>, LocalError> {
    let mut wanted: Vec<WantedRestriction> = Vec::with_capacity(requests.len());
    for request in requests {
        let cidr = Cidr::parse_network(&request.cidr)
            .map_err(|error| LocalError::invalid("cidr", error.to_string()))?
            .to_string();
        if let Some(description) = &request.description {
            validate_description(description)?;
        }
        if wanted.iter().any(|entry| entry.cidr == cidr) {
            return Err(LocalError::Duplicate(format!("{cidr} is listed twice")));
        }
        wanted.push(WantedRestriction {
            cidr,
            description: request.description,
        });
    }
    Ok(wanted)
}

/// The rows of a new database's restrictions: `CREATING`, settling with it.
pub(crate) fn new_rows(
    database_id: &str,
    wanted: &[WantedRestriction],
    now: DateTime<Utc>,
    settles_at: DateTime<Utc>,
) -> Vec<IpRestriction> {
    let with_database = Schedule {
        transition_at: Some(settles_at),
        fails_with: None,
    };
    wanted
        .iter()
        .map(|entry| entry.creating(database_id, now, with_database.clone()))
        .collect()
}

impl WantedRestriction {
    /// The new row of this entry: `CREATING`, settling as `schedule` says.
    fn creating(&self, database_id: &str, now: DateTime<Utc>, schedule: Schedule) -> IpRestriction {
        IpRestriction {
            database_id: database_id.to_owned(),
            uuid: new_uuid(),
            cidr: self.cidr.clone(),
            description: self.description.clone(),
            status: Status::Creating,
            created_at: whole_seconds(now),
            transition_at: schedule.transition_at,
            fails_with: schedule.fails_with,
        }
    }
}

/// Makes the restrictions of a `READY` database exactly `wanted`, inside the caller's
/// transaction: missing networks go `DELETING`, new ones are created `CREATING` (both settling
/// at `settles_at`, new ones as `faults` say), kept ones get the new description. The caller
/// makes the database `UPDATING` when this answers [`SetChange::Membership`].
pub(crate) fn replace_set(
    tx: &StoreTx<'_>,
    database_id: &str,
    wanted: &[WantedRestriction],
    faults: &LifecycleFaults,
    now: DateTime<Utc>,
    settles_at: DateTime<Utc>,
) -> Result<SetChange, LocalError> {
    let current = tx.ip_restrictions(database_id)?;
    let mut change = SetChange::Nothing;
    for existing in &current {
        if existing.status != Status::Deleting
            && !wanted.iter().any(|entry| entry.cidr == existing.cidr)
        {
            let mut leaving = existing.clone();
            leaving.status = Status::Deleting;
            leaving.transition_at = Some(settles_at);
            tx.update_ip_restriction(&leaving)?;
            change = SetChange::Membership;
        }
    }
    for entry in wanted {
        match current.iter().find(|existing| existing.cidr == entry.cidr) {
            Some(existing) if existing.status == Status::Deleting => return Err(taken(existing)),
            Some(existing) => {
                if existing.description != entry.description {
                    let mut kept = existing.clone();
                    kept.description = entry.description.clone();
                    tx.update_ip_restriction(&kept)?;
                    if change == SetChange::Nothing {
                        change = SetChange::Descriptions;
                    }
                }
            }
            None => {
                let schedule = faults.schedule(FaultedKind::IpRestriction, &entry.cidr, settles_at);
                tx.insert_ip_restriction(&entry.creating(database_id, now, schedule))?;
                change = SetChange::Membership;
            }
        }
    }
    Ok(change)
}

/// A CIDR already present: a duplicate, or busy while the old one is being deleted (retrying
/// works once it is gone).
pub(crate) fn taken(existing: &IpRestriction) -> LocalError {
    if existing.status == Status::Deleting {
        LocalError::Busy(format!(
            "{} is being removed from database {}; retry when it is gone",
            existing.cidr, existing.database_id
        ))
    } else {
        LocalError::Duplicate(format!(
            "{} is already allowed on database {}",
            existing.cidr, existing.database_id
        ))
    }
}
