//! Composite ids (`<database_id>/<username>`, `<database_id>/<cidr>`, …): human-readable,
//! `/`-separated, the same string for `terraform import` and the resource's `id`.

use crate::tfplugin::diag::Diagnostics;

/// Splits `id` into `parts.len()` pieces at `/`. Only the piece named `greedy` may itself contain
/// `/` (a CIDR, a collection name); every piece must be non-empty.
pub(super) fn split(
    type_name: &str,
    id: &str,
    parts: &[&str],
    greedy: Option<&str>,
    example: &str,
) -> Result<Vec<String>, Diagnostics> {
    let invalid = || {
        Diagnostics::from_error(
            "Invalid Import ID",
            format!(
                "\"{id}\" is not a {type_name} id. It is {}, e.g. `{example}`.",
                parts
                    .iter()
                    .map(|p| format!("<{p}>"))
                    .collect::<Vec<_>>()
                    .join("/")
            ),
        )
    };
    let pieces: Vec<&str> = id.trim().split('/').collect();
    if pieces.len() < parts.len() || (greedy.is_none() && pieces.len() != parts.len()) {
        return Err(invalid());
    }
    let extra = pieces.len() - parts.len();
    let mut out = Vec::with_capacity(parts.len());
    let mut next = 0;
    for part in parts {
        let take = if Some(*part) == greedy { extra + 1 } else { 1 };
        out.push(pieces[next..next + take].join("/"));
        next += take;
    }
    if out.iter().any(|piece| piece.is_empty()) {
        return Err(invalid());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_with_a_greedy_middle_or_tail() {
        let cidr = split(
            "x",
            "db-1/10.0.0.0/24",
            &["database_id", "cidr"],
            Some("cidr"),
            "",
        );
        assert_eq!(cidr.unwrap(), vec!["db-1", "10.0.0.0/24"]);
        let index = split(
            "x",
            "db-1/a/b/idx",
            &["database_id", "collection", "name"],
            Some("collection"),
            "",
        );
        assert_eq!(index.unwrap(), vec!["db-1", "a/b", "idx"]);
    }

    #[test]
    fn ids_refuse_missing_or_empty_parts() {
        let parts = &["database_id", "username"];
        for bad in ["db-1", "db-1/", "/app", "db-1/app/extra", ""] {
            let err = split("dbaas_credential", bad, parts, None, "db-1/app").unwrap_err();
            let detail = &err.iter().next().unwrap().detail;
            assert!(detail.contains("<database_id>/<username>"), "{detail}");
        }
    }
}
