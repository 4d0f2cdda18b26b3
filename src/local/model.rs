//! The objects the service keeps, independent of any wire format.
//!
//! Every API (the native one now, vendor dialects later) reads and writes these through
//! [`super::databases`] and renders them its own way.

use chrono::{DateTime, SubsecRound, Utc};

use super::error::LocalError;

/// Where an object is in its life; transitional statuses settle by themselves (see
/// [`super::lifecycle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Being provisioned; becomes `Ready`.
    Creating,
    /// A change is being applied; becomes `Ready`.
    Updating,
    /// Live and changeable.
    Ready,
    /// Being removed; becomes gone.
    Deleting,
    /// Failed; stays until deleted.
    Error,
}

impl Status {
    /// The wire and storage spelling.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "CREATING",
            Self::Updating => "UPDATING",
            Self::Ready => "READY",
            Self::Deleting => "DELETING",
            Self::Error => "ERROR",
        }
    }

    /// Reads the storage spelling back.
    pub(crate) fn parse(text: &str) -> Result<Self, LocalError> {
        Ok(match text {
            "CREATING" => Self::Creating,
            "UPDATING" => Self::Updating,
            "READY" => Self::Ready,
            "DELETING" => Self::Deleting,
            "ERROR" => Self::Error,
            other => return Err(LocalError::Corrupt(format!("unknown status {other:?}"))),
        })
    }
}

/// A managed database as the service keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Database {
    /// `db-` and 12 lowercase hex digits; stable for the object's whole life.
    pub(crate) id: String,
    /// Unique among databases that are not gone.
    pub(crate) name: String,
    /// Engine name from the catalog.
    pub(crate) engine: String,
    /// Engine version from the catalog.
    pub(crate) version: String,
    /// Plan name from the catalog.
    pub(crate) plan: String,
    /// Region name from the catalog.
    pub(crate) region: String,
    /// Free text from the user.
    pub(crate) description: Option<String>,
    /// Lifecycle status.
    pub(crate) status: Status,
    /// Human explanation of the status, while transitional.
    pub(crate) status_message: Option<String>,
    /// When it was created (whole seconds).
    pub(crate) created_at: DateTime<Utc>,
    /// When it last changed, including status changes (whole seconds).
    pub(crate) updated_at: DateTime<Utc>,
    /// When the current transitional status settles; `None` when settled. Persisted so
    /// transitions survive restarts.
    pub(crate) transition_at: Option<DateTime<Utc>>,
    /// When deletion finished; gone databases are invisible to the APIs but kept so that
    /// idempotency keys can still explain themselves.
    pub(crate) gone_at: Option<DateTime<Utc>>,
}

impl Database {
    /// Whether deletion has finished.
    pub(crate) fn is_gone(&self) -> bool {
        self.gone_at.is_some()
    }
}

/// Timestamps shown to clients have whole-second precision; stored ones are truncated the same
/// way so that what is stored is exactly what is shown.
pub(crate) fn whole_seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(0)
}

/// RFC 3339 UTC with seconds precision, e.g. `2026-11-22T08:00:00Z`.
pub(crate) fn format_timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A random id: `prefix-` then 12 lowercase hex digits.
pub(crate) fn new_id(prefix: &str) -> String {
    let bits: u64 = rand::random::<u64>() & 0xffff_ffff_ffff;
    format!("{prefix}-{bits:012x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn status_round_trips() {
        for status in [
            Status::Creating,
            Status::Updating,
            Status::Ready,
            Status::Deleting,
            Status::Error,
        ] {
            assert_eq!(Status::parse(status.as_str()).unwrap(), status);
        }
        assert!(Status::parse("GONE").is_err());
    }

    #[test]
    fn timestamp_formats_whole_seconds() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap()
            + chrono::Duration::milliseconds(987);
        assert_eq!(format_timestamp(at), "2026-11-22T08:00:00Z");
        assert_eq!(
            whole_seconds(at),
            Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap()
        );
    }

    #[test]
    fn new_id_has_contract_shape() {
        for _ in 0..100 {
            let id = new_id("db");
            assert_eq!(id.len(), 15, "{id}");
            assert!(id.starts_with("db-"));
            assert!(
                id[3..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "{id}"
            );
        }
    }
}
