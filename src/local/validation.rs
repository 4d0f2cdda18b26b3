//! The field rules every API of the service shares: names, descriptions, usernames, roles,
//! collections and index keys. They sit below the domain operations (`databases` and its
//! children both check descriptions and usernames), so no parent operation needs a child module;
//! the OpenAPI document (`openapi`) states the same limits from the same constants.
//!
//! Errors name native field names; a dialect with other names maps them.

use serde::Serialize;

use super::error::LocalError;
use super::model::IndexKey;

/// Longest description accepted, in characters.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 255;

/// 3–63 characters of `[a-z0-9-]`, starting with a letter, not ending with `-`.
pub(crate) fn validate_name(name: &str) -> Result<(), LocalError> {
    let valid = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.as_bytes()[0].is_ascii_lowercase()
        && !name.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(LocalError::invalid(
            "name",
            format!(
                "name {name:?} is invalid: use 3 to 63 characters among a-z, 0-9 and '-', \
                 starting with a letter and not ending with '-'"
            ),
        ))
    }
}

/// At most [`MAX_DESCRIPTION_CHARS`] characters (databases and IP restrictions alike).
pub(crate) fn validate_description(description: &str) -> Result<(), LocalError> {
    let chars = description.chars().count();
    if chars <= MAX_DESCRIPTION_CHARS {
        Ok(())
    } else {
        Err(LocalError::invalid(
            "description",
            format!(
                "description is {chars} characters long; at most {MAX_DESCRIPTION_CHARS} are allowed"
            ),
        ))
    }
}

/// Roles a credential may be granted, as `<role>@<database>`.
pub(crate) const ROLES: &[&str] = &[
    "read",
    "readWrite",
    "dbAdmin",
    "dbOwner",
    "userAdmin",
    "clusterMonitor",
    "readAnyDatabase",
    "readWriteAnyDatabase",
];

/// Longest username, in characters.
pub(crate) const MAX_USERNAME_CHARS: usize = 63;

/// Longest database part of a role, in characters.
pub(crate) const MAX_ROLE_DATABASE_CHARS: usize = 64;

/// 1–63 characters of `[A-Za-z0-9_.-]`, starting with a letter.
pub(crate) fn validate_username(username: &str) -> Result<(), LocalError> {
    let valid = (1..=MAX_USERNAME_CHARS).contains(&username.len())
        && username.as_bytes()[0].is_ascii_alphabetic()
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(LocalError::invalid(
            "username",
            format!(
                "username {username:?} is invalid: use 1 to {MAX_USERNAME_CHARS} characters among \
                 A-Z, a-z, 0-9, '_', '.' and '-', starting with a letter"
            ),
        ))
    }
}

/// Each role is `<role>@<database>` with a known role and a database of `[A-Za-z0-9_-]{1,64}`;
/// no role twice.
pub(crate) fn validate_roles(roles: &[String]) -> Result<(), LocalError> {
    for (position, role) in roles.iter().enumerate() {
        let valid = role.split_once('@').is_some_and(|(name, database)| {
            ROLES.contains(&name)
                && (1..=MAX_ROLE_DATABASE_CHARS).contains(&database.len())
                && database
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
        });
        if !valid {
            return Err(LocalError::invalid(
                "roles",
                format!(
                    "role {role:?} is invalid: use <role>@<database> with role one of {} and a \
                     database name of 1 to {MAX_ROLE_DATABASE_CHARS} characters among A-Z, a-z, \
                     0-9, '_' and '-'",
                    ROLES.join(", ")
                ),
            ));
        }
        if roles[..position].contains(role) {
            return Err(LocalError::invalid(
                "roles",
                format!("role {role:?} is listed twice"),
            ));
        }
    }
    Ok(())
}

/// Name of the implicit index every collection has.
pub(crate) const ID_INDEX: &str = "_id_";

/// Field of the implicit index.
pub(crate) const ID_FIELD: &str = "_id";

/// Longest collection name, in characters.
pub(crate) const MAX_COLLECTION_CHARS: usize = 120;

/// Longest index name, in characters.
pub(crate) const MAX_INDEX_NAME_CHARS: usize = 128;

/// Most fields in one index.
pub(crate) const MAX_INDEX_KEYS: usize = 32;

/// One requested key, direction not yet checked.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RequestedKey {
    /// Document field.
    pub(crate) field: String,
    /// Must be `1` or `-1`.
    pub(crate) direction: i64,
}

/// 1–120 characters, no `$`, no NUL, not starting with `system.`.
pub(crate) fn validate_collection(name: &str) -> Result<(), LocalError> {
    let chars = name.chars().count();
    let problem = if chars == 0 || chars > MAX_COLLECTION_CHARS {
        Some(format!("use 1 to {MAX_COLLECTION_CHARS} characters"))
    } else if name.contains('$') || name.contains('\0') {
        Some("'$' and NUL are not allowed".to_owned())
    } else if name.starts_with("system.") {
        Some("names starting with 'system.' are reserved".to_owned())
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(LocalError::invalid(
            "collection",
            format!("collection name {name:?} is invalid: {problem}"),
        )),
    }
}

/// 1–128 characters, not `_id_`.
pub(crate) fn validate_index_name(name: &str) -> Result<(), LocalError> {
    let chars = name.chars().count();
    if name == ID_INDEX {
        Err(LocalError::invalid(
            "name",
            "_id_ is the implicit index of every collection; choose another name",
        ))
    } else if chars == 0 || chars > MAX_INDEX_NAME_CHARS {
        Err(LocalError::invalid(
            "name",
            format!("index name must be 1 to {MAX_INDEX_NAME_CHARS} characters long"),
        ))
    } else {
        Ok(())
    }
}

/// Non-empty, at most 32 keys, fields non-empty, not starting with `$` and distinct, directions
/// `1` or `-1`, and not exactly the implicit `[{_id: 1}]`.
pub(crate) fn validate_keys(keys: &[RequestedKey]) -> Result<Vec<IndexKey>, LocalError> {
    let invalid = |message: String| LocalError::invalid("keys", message);
    if keys.is_empty() {
        return Err(invalid("keys must list at least one field".to_owned()));
    }
    if keys.len() > MAX_INDEX_KEYS {
        return Err(invalid(format!(
            "an index has at most {MAX_INDEX_KEYS} keys ({} given)",
            keys.len()
        )));
    }
    let mut checked: Vec<IndexKey> = Vec::with_capacity(keys.len());
    for (position, key) in keys.iter().enumerate() {
        if key.field.is_empty() || key.field.starts_with('$') || key.field.contains('\0') {
            return Err(invalid(format!(
                "keys[{position}].field {:?} is invalid: it must be non-empty and not start \
                 with '$'",
                key.field
            )));
        }
        let direction = match key.direction {
            1 => 1,
            -1 => -1,
            other => {
                return Err(invalid(format!(
                    "keys[{position}].direction is {other}; use 1 (ascending) or -1 (descending)"
                )));
            }
        };
        if checked.iter().any(|seen| seen.field == key.field) {
            return Err(invalid(format!(
                "field {:?} appears more than once in keys",
                key.field
            )));
        }
        checked.push(IndexKey {
            field: key.field.clone(),
            direction,
        });
    }
    if checked.len() == 1 && checked[0].field == ID_FIELD && checked[0].direction == 1 {
        return Err(invalid(
            "an index on {_id: 1} is the implicit _id_ index every collection already has"
                .to_owned(),
        ));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(field: &str, direction: i64) -> RequestedKey {
        RequestedKey {
            field: field.into(),
            direction,
        }
    }

    fn field_of(error: LocalError) -> String {
        match error {
            LocalError::Invalid { field, .. } => field.unwrap_or_default(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn validate_name_follows_contract() {
        for good in ["abc", "a-1", "db-prod-01", &"a".repeat(63)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "1abc",
            "-abc",
            "abc-",
            "Abc",
            "a_bc",
            "ab c",
            "é-ab",
            &"a".repeat(64),
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_username_follows_contract() {
        for good in ["a", "App_user.1-x", &"u".repeat(63)] {
            assert!(validate_username(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1user",
            "_user",
            "user name",
            "usér",
            "user@x",
            &"u".repeat(64),
        ] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_roles_lists_allowed_roles() {
        let roles = |list: &[&str]| list.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>();
        assert!(validate_roles(&[]).is_ok());
        assert!(
            validate_roles(&roles(&[
                "read@app",
                "clusterMonitor@admin",
                "dbOwner@a-b_1"
            ]))
            .is_ok()
        );
        for bad in [
            "read",
            "write@app",
            "read@",
            "@app",
            "read@a.b",
            "read@app@x",
            "Read@app",
        ] {
            let error = validate_roles(&roles(&[bad])).unwrap_err();
            assert!(
                matches!(&error, LocalError::Invalid { field: Some(f), message }
                    if f == "roles" && message.contains("readWriteAnyDatabase")),
                "{bad}: {error:?}"
            );
        }
        let long = format!("read@{}", "d".repeat(65));
        assert!(validate_roles(&roles(&[&long])).is_err());
        assert!(validate_roles(&roles(&["read@app", "read@app"])).is_err());
    }

    #[test]
    fn validate_keys_names_keys_field() {
        let too_many: Vec<RequestedKey> = (0..33).map(|i| key(&format!("f{i}"), 1)).collect();
        let max: Vec<RequestedKey> = (0..32).map(|i| key(&format!("f{i}"), 1)).collect();
        assert!(validate_keys(&max).is_ok());
        for keys in [
            vec![],
            too_many,
            vec![key("", 1)],
            vec![key("$where", 1)],
            vec![key("a", 0)],
            vec![key("a", 2)],
            vec![key("a", 1), key("a", -1)],
            vec![key("_id", 1)],
        ] {
            assert_eq!(field_of(validate_keys(&keys).unwrap_err()), "keys");
        }
        assert!(validate_keys(&[key("_id", -1)]).is_ok());
        assert!(validate_keys(&[key("_id", 1), key("a", 1)]).is_ok());
    }

    #[test]
    fn validate_collection_and_name_follow_contract() {
        for good in ["orders", "a", "orders.archive", &"c".repeat(120), "systemx"] {
            assert!(validate_collection(good).is_ok(), "{good}");
        }
        for bad in ["", "a$b", "a\0b", "system.users", &"c".repeat(121)] {
            assert_eq!(
                field_of(validate_collection(bad).unwrap_err()),
                "collection"
            );
        }
        assert!(validate_index_name("by_customer").is_ok());
        for bad in ["", "_id_", &"n".repeat(129)] {
            assert_eq!(field_of(validate_index_name(bad).unwrap_err()), "name");
        }
    }
}
