//! Composite ids (`<database_id>/<username>`, `<database_id>/<cidr>`, …): human-readable,
//! `/`-separated, the same string for `terraform import` and the resource's `id`. One
//! [`IdFormat`] per resource type says what its import id is; the importers, the identities
//! and the `import_id`/`parse_id` functions all split and join through it, so they accept
//! exactly the same ids.

use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::refinement::Refinements;
use crate::tfplugin::value::Value;

/// The import id of one resource type.
#[derive(Debug)]
pub(super) struct IdFormat {
    /// The resource type, e.g. `dbaas_credential`.
    pub(super) type_name: &'static str,
    /// The parts, in order.
    pub(super) parts: &'static [IdPart],
    /// An id of this type, for messages.
    pub(super) example: &'static str,
}

/// One part of an [`IdFormat`].
#[derive(Debug)]
pub(super) struct IdPart {
    /// The part's name, as `parse_id` returns it and messages show it (`<name>`).
    pub(super) name: &'static str,
    /// Whether the part may itself contain `/` (a CIDR, a collection name). At most one part
    /// of a format may, or splitting would be ambiguous.
    pub(super) may_contain_slash: bool,
    /// What the resource accepts beyond a non-empty part: `Err` says why not.
    pub(super) check: fn(&str) -> Result<(), String>,
}

/// Why a part cannot go into an id: which part (0-based) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PartError {
    pub(super) index: usize,
    pub(super) problem: String,
}

fn anything(_: &str) -> Result<(), String> {
    Ok(())
}

fn no_white_space(part: &str) -> Result<(), String> {
    if part.contains(char::is_whitespace) {
        Err("must not contain white space".into())
    } else {
        Ok(())
    }
}

fn not_the_implicit_index(name: &str) -> Result<(), String> {
    if name == "_id_" {
        Err("`_id_` is the implicit index of every collection; it is never managed".into())
    } else {
        Ok(())
    }
}

fn network(cidr: &str) -> Result<(), String> {
    super::ip_restriction::canonical_cidr(cidr).map(drop)
}

/// The id the API gave a database.
const DATABASE_ID: IdPart = IdPart {
    name: "database_id",
    may_contain_slash: false,
    check: no_white_space,
};

/// `dbaas_database`: `<database_id>`.
pub(super) const DATABASE: IdFormat = IdFormat {
    type_name: "dbaas_database",
    parts: &[DATABASE_ID],
    example: "db-0123456789ab",
};

/// `dbaas_credential`: `<database_id>/<username>`.
pub(super) const CREDENTIAL: IdFormat = IdFormat {
    type_name: "dbaas_credential",
    parts: &[
        DATABASE_ID,
        IdPart {
            name: "username",
            may_contain_slash: false,
            check: anything,
        },
    ],
    example: "db-0123456789ab/app",
};

/// `dbaas_collection_index`: `<database_id>/<collection>/<name>`; a collection name may hold
/// `/`, an index name may not.
pub(super) const COLLECTION_INDEX: IdFormat = IdFormat {
    type_name: "dbaas_collection_index",
    parts: &[
        DATABASE_ID,
        IdPart {
            name: "collection",
            may_contain_slash: true,
            check: anything,
        },
        IdPart {
            name: "name",
            may_contain_slash: false,
            check: not_the_implicit_index,
        },
    ],
    example: "db-0123456789ab/orders/customer_id_1_created_at_-1",
};

/// `dbaas_ip_restriction`: `<database_id>/<cidr>`; the CIDR holds a `/` of its own.
pub(super) const IP_RESTRICTION: IdFormat = IdFormat {
    type_name: "dbaas_ip_restriction",
    parts: &[
        DATABASE_ID,
        IdPart {
            name: "cidr",
            may_contain_slash: true,
            check: network,
        },
    ],
    example: "db-0123456789ab/10.0.0.0/24",
};

/// Every resource type that can be imported, with its id format.
pub(super) const ALL: [&IdFormat; 4] = [&DATABASE, &CREDENTIAL, &COLLECTION_INDEX, &IP_RESTRICTION];

/// The format of `type_name`'s ids, if it has one.
pub(super) fn format_of(type_name: &str) -> Option<&'static IdFormat> {
    ALL.into_iter().find(|format| format.type_name == type_name)
}

impl IdFormat {
    /// The part names as a pattern, e.g. `<database_id>/<cidr>`.
    pub(super) fn pattern(&self) -> String {
        self.parts
            .iter()
            .map(|part| format!("<{}>", part.name))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Splits an import id into its parts (surrounding white space ignored), or says, without
    /// a final period, why `id` is not one of this type's ids and what one looks like.
    pub(super) fn split(&self, id: &str) -> Result<Vec<String>, String> {
        let invalid = |why: String| {
            format!(
                "\"{id}\" is not a {} id ({why}): it is {}, e.g. `{}`",
                self.type_name,
                self.pattern(),
                self.example
            )
        };
        let pieces: Vec<&str> = id.trim().split('/').collect();
        let greedy = self.parts.iter().position(|part| part.may_contain_slash);
        if pieces.len() < self.parts.len() || (greedy.is_none() && pieces.len() > self.parts.len())
        {
            return Err(invalid(format!(
                "{} parts where {} are expected",
                pieces.len(),
                self.parts.len()
            )));
        }
        let extra = pieces.len() - self.parts.len();
        let mut next = 0;
        let parts: Vec<String> = (0..self.parts.len())
            .map(|index| {
                let take = if Some(index) == greedy { extra + 1 } else { 1 };
                let part = pieces[next..next + take].join("/");
                next += take;
                part
            })
            .collect();
        for (index, part) in parts.iter().enumerate() {
            self.check_part(index, part).map_err(|error| {
                invalid(format!("{}: {}", self.parts[index].name, error.problem))
            })?;
        }
        Ok(parts)
    }

    /// [`Self::split`] as an importer reports it.
    pub(super) fn split_import_id(&self, id: &str) -> Result<Vec<String>, Diagnostics> {
        self.split(id)
            .map_err(|why| Diagnostics::from_error("Invalid Import ID", format!("{why}.")))
    }

    /// Joins one value per part into the import id, refusing any part the id cannot carry so
    /// that [`Self::split`] gives the same parts back.
    pub(super) fn join(&self, parts: &[&str]) -> Result<String, PartError> {
        if parts.len() != self.parts.len() {
            return Err(PartError {
                index: parts.len().min(self.parts.len()),
                problem: format!(
                    "a {} id has {} parts, {}; {} given",
                    self.type_name,
                    self.parts.len(),
                    self.pattern(),
                    parts.len()
                ),
            });
        }
        for (index, part) in parts.iter().enumerate() {
            self.check_part(index, part)?;
        }
        Ok(parts.join("/"))
    }

    /// The `id` a plan gives a new object, from its planned parts: the id when every part is
    /// known; else an unknown that Terraform still knows is not null and starts with the
    /// parts known so far (and the known prefix of the first unknown one), so expressions over
    /// it stay as precise as the plan allows. Parts are as stored: one the API rewrites must be
    /// passed rewritten, or unknown.
    pub(super) fn planned_id(&self, parts: &[&Value]) -> Value {
        let mut known = String::new();
        for (index, part) in parts.iter().enumerate() {
            if index > 0 {
                known.push('/');
            }
            if let Some(text) = part.as_str() {
                known.push_str(text);
                continue;
            }
            if let Some(prefix) = part.refinements().and_then(|r| r.string_prefix.as_deref()) {
                known.push_str(prefix);
            }
            return Value::unknown_refined(Refinements {
                not_null: true,
                string_prefix: Some(known).filter(|prefix| !prefix.is_empty()),
                ..Refinements::default()
            });
        }
        debug_assert_eq!(parts.len(), self.parts.len(), "{}", self.type_name);
        Value::String(known)
    }

    /// [`Self::join`] for `Identity::import_id`: the identity's `attributes`, one per part in
    /// order, make the import id.
    pub(super) fn identity_import_id(
        &self,
        identity: &Value,
        attributes: &[&str],
    ) -> Result<String, Diagnostics> {
        let invalid = |why: String| Diagnostics::from_error("Invalid Import Identity", why);
        let given: Option<Vec<&str>> = attributes
            .iter()
            .map(|name| identity.attr(name).as_str())
            .collect();
        let Some(given) = given else {
            let names: Vec<String> = attributes.iter().map(|name| format!("`{name}`")).collect();
            return Err(invalid(format!("The identity needs {}.", names.join(", "))));
        };
        self.join(&given).map_err(|error| {
            let attribute = attributes.get(error.index).copied().unwrap_or("identity");
            invalid(format!("`{attribute}` {}.", error.problem))
        })
    }

    /// What every part must be: non-empty, free of `/` unless the part may hold one, without
    /// white space at its ends (an id is trimmed), and what the resource accepts.
    fn check_part(&self, index: usize, part: &str) -> Result<(), PartError> {
        let Some(spec) = self.parts.get(index) else {
            return Err(PartError {
                index,
                problem: format!(
                    "a {} id has only {} parts",
                    self.type_name,
                    self.parts.len()
                ),
            });
        };
        let problem = if part.is_empty() {
            Err("must not be empty".to_string())
        } else if !spec.may_contain_slash && part.contains('/') {
            Err("must not contain `/`, the separator of the id's parts".to_string())
        } else if part.trim() != part {
            Err("must not begin or end with white space".to_string())
        } else {
            (spec.check)(part)
        };
        problem.map_err(|problem| PartError { index, problem })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_with_a_greedy_middle_or_tail() {
        let cidr = IP_RESTRICTION.split("db-1/10.0.0.0/24");
        assert_eq!(cidr.unwrap(), vec!["db-1", "10.0.0.0/24"]);
        let index = COLLECTION_INDEX.split("db-1/a/b/idx");
        assert_eq!(index.unwrap(), vec!["db-1", "a/b", "idx"]);
    }

    #[test]
    fn ids_refuse_missing_or_empty_parts() {
        for bad in ["db-1", "db-1/", "/app", "db-1/app/extra", "", "db 1/app"] {
            let why = CREDENTIAL.split(bad).unwrap_err();
            assert!(why.contains("<database_id>/<username>"), "{why}");
        }
    }

    #[test]
    fn ids_refuse_what_the_resource_refuses() {
        let why = COLLECTION_INDEX.split("db-1/orders/_id_").unwrap_err();
        assert!(why.contains("implicit index"), "{why}");
        let why = IP_RESTRICTION.split("db-1/not-a-network").unwrap_err();
        assert!(why.contains("cidr:"), "{why}");
    }

    #[test]
    fn ids_join_what_split_gives_back() {
        for (format, parts) in [
            (&DATABASE, vec!["db-1"]),
            (&CREDENTIAL, vec!["db-1", "app"]),
            (&COLLECTION_INDEX, vec!["db-1", "a/b", "idx"]),
            (&IP_RESTRICTION, vec!["db-1", "10.0.0.0/24"]),
        ] {
            let id = format.join(&parts).unwrap();
            assert_eq!(format.split(&id).unwrap(), parts, "{id}");
        }
    }

    #[test]
    fn ids_join_names_the_part_that_cannot_be_carried() {
        let error = CREDENTIAL.join(&["db-1", "a/b"]).unwrap_err();
        assert_eq!(error.index, 1);
        assert!(error.problem.contains('/'), "{}", error.problem);
        assert_eq!(CREDENTIAL.join(&["", "app"]).unwrap_err().index, 0);
        assert_eq!(CREDENTIAL.join(&["db-1", "app "]).unwrap_err().index, 1);
        assert_eq!(CREDENTIAL.join(&["db-1"]).unwrap_err().index, 1);
        assert_eq!(CREDENTIAL.join(&["db-1", "a", "b"]).unwrap_err().index, 2);
    }

    #[test]
    fn ids_have_at_most_one_part_with_slashes() {
        for format in ALL {
            let slashed = format.parts.iter().filter(|p| p.may_contain_slash).count();
            assert!(slashed <= 1, "{}", format.type_name);
            assert!(format.split(format.example).is_ok(), "{}", format.example);
        }
    }
}
