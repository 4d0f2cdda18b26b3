//! Faults installed when the service starts (`dbaas-local --faults FILE`).
//!
//! The file is one JSON object, `{"faults": [...], "lifecycle_faults": [...]}` (either list may
//! be left out), whose entries are exactly the bodies `POST /v1/_admin/faults` and `POST
//! /v1/_admin/lifecycle-faults` take. A file that cannot be read or decoded refuses the start,
//! naming the file and the problem (with the entry and field at fault).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Fault;
use super::admin::{parse_fault, parse_lifecycle_fault};
use crate::local::error::LocalError;
use crate::local::lifecycle::LifecycleFault;

/// Request faults and lifecycle faults to install before the first request is served.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    /// Request faults, first listed first used.
    pub(crate) faults: Vec<Fault>,
    /// Lifecycle faults, first listed first used.
    pub(crate) lifecycle_faults: Vec<LifecycleFault>,
}

/// Why a faults file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot load faults from {}: {problem}", path.display())]
pub struct FaultPlanError {
    /// The file, as given.
    path: PathBuf,
    /// What is wrong with it.
    problem: String,
}

impl FaultPlan {
    /// Reads and decodes a faults file.
    pub fn from_file(path: &Path) -> Result<Self, FaultPlanError> {
        let refuse = |problem: String| FaultPlanError {
            path: path.to_path_buf(),
            problem,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|error| refuse(format!("cannot read it: {error}")))?;
        Self::from_json(&text).map_err(refuse)
    }

    /// Decodes the text of a faults file; the error says what is wrong, and where.
    fn from_json(text: &str) -> Result<Self, String> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| format!("it is not JSON: {error}"))?;
        let Value::Object(object) = value else {
            return Err(
                "it must be a JSON object with \"faults\" and/or \"lifecycle_faults\" lists"
                    .to_owned(),
            );
        };
        if let Some(unknown) = object
            .keys()
            .find(|key| !matches!(key.as_str(), "faults" | "lifecycle_faults"))
        {
            return Err(format!(
                "unknown member {unknown:?}; allowed: faults, lifecycle_faults"
            ));
        }
        Ok(Self {
            faults: entries(&object, "faults", parse_fault)?,
            lifecycle_faults: entries(&object, "lifecycle_faults", parse_lifecycle_fault)?,
        })
    }

    /// How many faults of each kind the plan holds, for the start-up log.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.faults.len(), self.lifecycle_faults.len())
    }
}

/// The entries of the list `member` (none when absent), each decoded by `parse`.
fn entries<T>(
    object: &serde_json::Map<String, Value>,
    member: &str,
    parse: fn(&serde_json::Map<String, Value>) -> Result<T, LocalError>,
) -> Result<Vec<T>, String> {
    let items = match object.get(member) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("{member} must be a list")),
    };
    items
        .iter()
        .enumerate()
        .map(|(position, item)| {
            let Value::Object(entry) = item else {
                return Err(format!("{member}[{position}] must be an object"));
            };
            parse(entry).map_err(|error| match error {
                LocalError::Invalid {
                    field: Some(field),
                    message,
                } => format!("{member}[{position}].{field}: {message}"),
                other => format!("{member}[{position}]: {other}"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::faults::{Action, When};
    use crate::local::lifecycle::{FaultOutcome, FaultedKind};

    #[test]
    fn fault_plan_reads_both_lists() {
        let plan = FaultPlan::from_json(
            r#"{"faults": [{"path_prefix": "/v1/databases", "when": "after", "action": "drop"}],
                "lifecycle_faults": [{"kind": "credential", "outcome": "failed"}]}"#,
        )
        .unwrap();
        assert_eq!(plan.counts(), (1, 1));
        assert_eq!(
            (plan.faults[0].when, plan.faults[0].action),
            (When::After, Action::Drop)
        );
        assert_eq!(plan.lifecycle_faults[0].kind, FaultedKind::Credential);
        assert_eq!(plan.lifecycle_faults[0].outcome, FaultOutcome::Failed);
        assert_eq!(FaultPlan::from_json("{}").unwrap().counts(), (0, 0));
    }

    #[test]
    fn fault_plan_says_what_is_wrong_and_where() {
        for (text, problem) in [
            ("{", "it is not JSON"),
            ("[]", "must be a JSON object"),
            (r#"{"fault": []}"#, "unknown member \"fault\""),
            (r#"{"faults": {}}"#, "faults must be a list"),
            (r#"{"faults": [3]}"#, "faults[0] must be an object"),
            (
                r#"{"faults": [{"path_prefix": "/"}, {"path_prefix": "/", "status": 404}]}"#,
                "faults[0].status: status is required",
            ),
            (
                r#"{"lifecycle_faults": [{"kind": "database", "outcome": "later"}]}"#,
                "lifecycle_faults[0].outcome",
            ),
        ] {
            let error = FaultPlan::from_json(text).unwrap_err();
            assert!(error.contains(problem), "{text}: {error}");
        }
        let missing = FaultPlan::from_file(Path::new("/nonexistent/faults.json")).unwrap_err();
        let message = missing.to_string();
        assert!(
            message.starts_with("cannot load faults from /nonexistent/faults.json: cannot read"),
            "{message}"
        );
    }
}
