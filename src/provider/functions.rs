//! The provider-defined functions (Terraform 1.8+): `connection_uri`, `import_id` and
//! `parse_id`. Pure: no API call, no configured provider. The id functions go through the same
//! [`ids`] formats as the importers, so they build and accept exactly the ids import takes.

use std::sync::Arc;

use super::ids::{self, IdFormat};
use crate::api::http::encode_path_segment;
use crate::tfplugin::function::{Arguments, Function, FunctionError, Parameter, Signature};
use crate::tfplugin::value::{Type, Value};

/// Every function, in the order the docs list them.
pub(super) fn all() -> Vec<Arc<dyn Function>> {
    vec![
        Arc::new(ConnectionUri),
        Arc::new(ImportId),
        Arc::new(ParseId),
    ]
}

/// `connection_uri(endpoint, username, password)`.
#[derive(Debug)]
struct ConnectionUri;

const ENDPOINT: usize = 0;
const USERNAME: usize = 1;
const PASSWORD: usize = 2;

impl Function for ConnectionUri {
    fn name(&self) -> &'static str {
        "connection_uri"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new(
                    "endpoint",
                    Type::String,
                    "The database's endpoint URL without user information, e.g. \
                     `dbaas_database.<name>.endpoint` (`mongodb://db-1.local:27017/orders`, \
                     `mongodb+srv://cluster.example.com`, \
                     `mongodb://h1:27017,h2:27017/db?replicaSet=rs0`).",
                ),
                Parameter::new("username", Type::String, "The database user."),
                Parameter::new(
                    "password",
                    Type::String,
                    "The user's password. When it is sensitive, so is the result: Terraform \
                     carries the mark of an argument over to the result of every function.",
                ),
            ],
            variadic: None,
            return_type: Type::String,
            summary: "A connection URI with the user name and password in it",
            description: "Inserts `username:password@` after the scheme of `endpoint`, both \
                          percent-encoded as RFC 3986 requires of user information (every \
                          character but letters, digits and `-._~` is escaped, so a password \
                          may hold `@`, `:`, `/`, `?`, `#`, `%` or spaces). The rest of the \
                          endpoint (hosts, path, query) is kept as it is. An endpoint that is \
                          empty, has no `scheme://` or already holds user information is an \
                          error.",
        }
    }

    fn call(&self, arguments: &Arguments<'_>) -> Result<Value, FunctionError> {
        connection_uri(
            arguments.string(ENDPOINT)?,
            arguments.string(USERNAME)?,
            arguments.string(PASSWORD)?,
        )
        .map(Value::string)
    }
}

/// The endpoint with `username:password@` after its scheme. No error quotes the endpoint or
/// the password: either may hold a secret.
fn connection_uri(endpoint: &str, username: &str, password: &str) -> Result<String, FunctionError> {
    let endpoint_error = |text: &str| FunctionError::argument(ENDPOINT, text);
    if endpoint.is_empty() {
        return Err(endpoint_error(
            "the endpoint is empty; pass the database's URL, e.g. \
             `mongodb://db-1.local:27017/orders`",
        ));
    }
    let Some((scheme, rest)) = endpoint
        .split_once("://")
        .filter(|(scheme, _)| is_scheme(scheme))
    else {
        return Err(endpoint_error(
            "the endpoint does not start with a scheme such as `mongodb://` or `postgresql://`",
        ));
    };
    // Everything before the query is checked for `@`: a raw `/` in an old password must not
    // hide its user information.
    let before_query = rest.find(['?', '#']).unwrap_or(rest.len());
    if rest[..before_query].contains('@') {
        return Err(endpoint_error(
            "the endpoint already holds user information (`user@` or `user:password@` before \
             the host); pass it without",
        ));
    }
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if rest[..host_end].is_empty() {
        return Err(endpoint_error("the endpoint has no host after its scheme"));
    }
    if username.is_empty() {
        return Err(FunctionError::argument(USERNAME, "the username is empty"));
    }
    if password.is_empty() {
        return Err(FunctionError::argument(PASSWORD, "the password is empty"));
    }
    // RFC 3986 user information takes the same escaping as a path segment: everything but
    // the unreserved characters.
    Ok(format!(
        "{scheme}://{}:{}@{rest}",
        encode_path_segment(username),
        encode_path_segment(password)
    ))
}

/// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(scheme: &str) -> bool {
    let mut characters = scheme.chars();
    characters.next().is_some_and(|c| c.is_ascii_alphabetic())
        && characters.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `import_id(resource_type, parts...)`.
#[derive(Debug)]
struct ImportId;

const RESOURCE_TYPE: usize = 0;
const FIRST_PART: usize = 1;
const ID: usize = 1;

/// Each type with its id pattern, for the unknown-type error.
fn id_formats_list() -> String {
    ids::ALL
        .iter()
        .map(|format| format!("`{}` → `{}`", format.type_name, format.pattern()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The format of the resource type named by argument 0.
fn format_argument(arguments: &Arguments<'_>) -> Result<&'static IdFormat, FunctionError> {
    let type_name = arguments.string(RESOURCE_TYPE)?;
    ids::format_of(type_name).ok_or_else(|| {
        FunctionError::argument(
            RESOURCE_TYPE,
            format!(
                "\"{type_name}\" is not a resource type with an import id; the types and \
                 their ids are {}",
                id_formats_list()
            ),
        )
    })
}

fn resource_type_parameter() -> Parameter {
    Parameter::new(
        "resource_type",
        Type::String,
        "The resource type, e.g. `dbaas_ip_restriction`.",
    )
}

impl Function for ImportId {
    fn name(&self) -> &'static str {
        "import_id"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![resource_type_parameter()],
            variadic: Some(Parameter::new(
                "parts",
                Type::String,
                "The id's parts in order, one argument each (or a list expanded with `...`).",
            )),
            return_type: Type::String,
            summary: "The import id of a resource from its parts",
            description: "Joins the parts of a resource type's import id the way \
                          `terraform import` and `import { id = … }` take it: `dbaas_database` → \
                          `<database_id>`, `dbaas_credential` → `<database_id>/<username>`, \
                          `dbaas_collection_index` → `<database_id>/<collection>/<name>`, \
                          `dbaas_ip_restriction` → `<database_id>/<cidr>`. Only a collection name \
                          and a CIDR may hold `/`. A wrong number of parts, or a part the id \
                          cannot carry (empty, a `/` where none may be, white space at its ends, \
                          a CIDR that is not a network, the index `_id_`), is an error naming \
                          the part.",
        }
    }

    fn call(&self, arguments: &Arguments<'_>) -> Result<Value, FunctionError> {
        let format = format_argument(arguments)?;
        let parts = arguments.strings_from(FIRST_PART)?;
        format.join(&parts).map(Value::string).map_err(|error| {
            let problem = match format.parts.get(error.index) {
                Some(part) if error.index < parts.len() => {
                    format!("{} (part {}) {}", part.name, error.index + 1, error.problem)
                }
                _ => error.problem,
            };
            FunctionError::argument(FIRST_PART + error.index, problem)
        })
    }
}

/// `parse_id(resource_type, id)`.
#[derive(Debug)]
struct ParseId;

impl Function for ParseId {
    fn name(&self) -> &'static str {
        "parse_id"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                resource_type_parameter(),
                Parameter::new(
                    "id",
                    Type::String,
                    "An import id of that type, e.g. `db-0123456789ab/10.0.0.0/24`.",
                ),
            ],
            variadic: None,
            // One return type per function: a map fits every resource type's parts.
            return_type: Type::map(Type::String),
            summary: "The parts of a resource's import id, by name",
            description: "Splits an import id into its named parts, the inverse of \
                          `import_id`: `parse_id(\"dbaas_ip_restriction\", \
                          \"db-0123456789ab/10.0.0.0/24\")` is `{ database_id = \
                          \"db-0123456789ab\", cidr = \"10.0.0.0/24\" }`. The keys per type: \
                          `dbaas_database` `database_id`; `dbaas_credential` `database_id`, \
                          `username`; `dbaas_collection_index` `database_id`, `collection`, \
                          `name`; `dbaas_ip_restriction` `database_id`, `cidr`. An id that \
                          import would refuse is an error that says the expected format.",
        }
    }

    fn call(&self, arguments: &Arguments<'_>) -> Result<Value, FunctionError> {
        let format = format_argument(arguments)?;
        let id = arguments.string(ID)?;
        let parts = format
            .split(id)
            .map_err(|why| FunctionError::argument(ID, why))?;
        Ok(Value::map(
            format
                .parts
                .iter()
                .zip(parts)
                .map(|(part, value)| (part.name, Value::string(value))),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(function: &dyn Function, arguments: &[&str]) -> Result<Value, FunctionError> {
        let values: Vec<Value> = arguments.iter().map(|a| Value::string(*a)).collect();
        function.call(&Arguments::new(&values))
    }

    #[test]
    fn connection_uri_inserts_escaped_user_information() {
        for (endpoint, expected) in [
            (
                "mongodb://db-1.local:27017/orders",
                "mongodb://app:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%20x@db-1.local:27017/orders",
            ),
            (
                "postgresql://host:5432/db",
                "postgresql://app:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%20x@host:5432/db",
            ),
            (
                "mongodb+srv://cluster.example.com",
                "mongodb+srv://app:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%20x@cluster.example.com",
            ),
            (
                "mongodb://h1:1,h2:2/db?replicaSet=rs0",
                "mongodb://app:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%20x@h1:1,h2:2/db?replicaSet=rs0",
            ),
        ] {
            let uri = connection_uri(endpoint, "app", "p@ss:w/rd?#[]% x").unwrap();
            assert_eq!(uri, expected);
        }
        let uri = connection_uri("mongodb://h", "ü ser", "-._~").unwrap();
        assert_eq!(uri, "mongodb://%C3%BC%20ser:-._~@h");
    }

    #[test]
    fn connection_uri_refuses_endpoints_it_cannot_extend() {
        for endpoint in [
            "",
            "db-1.local:27017",
            "://host",
            "1db://host",
            "mongodb://",
            "mongodb:///db",
            "mongodb://old:Secret-1@host/db",
            "mongodb://old@host",
            "mongodb://old:Se/cret-1@host",
        ] {
            let error = connection_uri(endpoint, "app", "pw").unwrap_err();
            assert_eq!(error.argument, Some(ENDPOINT), "{endpoint}: {error}");
            assert!(!error.text.contains("Secret-1"), "{error}");
            assert!(!error.text.contains("Se/cret-1"), "{error}");
        }
        // An `@` in the query is not user information.
        assert!(connection_uri("mongodb://h/db?authSource=a@b", "app", "pw").is_ok());
        assert_eq!(
            connection_uri("mongodb://h", "", "pw")
                .unwrap_err()
                .argument,
            Some(USERNAME)
        );
        assert_eq!(
            connection_uri("mongodb://h", "app", "")
                .unwrap_err()
                .argument,
            Some(PASSWORD)
        );
    }

    #[test]
    fn import_id_and_parse_id_round_trip_every_type() {
        for (type_name, parts, keys) in [
            ("dbaas_database", vec!["db-1"], vec!["database_id"]),
            (
                "dbaas_credential",
                vec!["db-1", "app"],
                vec!["database_id", "username"],
            ),
            (
                "dbaas_collection_index",
                vec!["db-1", "a/b", "idx"],
                vec!["database_id", "collection", "name"],
            ),
            (
                "dbaas_ip_restriction",
                vec!["db-1", "10.0.0.0/24"],
                vec!["database_id", "cidr"],
            ),
        ] {
            let mut arguments = vec![type_name];
            arguments.extend(&parts);
            let id = call(&ImportId, &arguments).unwrap();
            let id = id.as_str().unwrap();
            assert_eq!(id, parts.join("/"));
            let parsed = call(&ParseId, &[type_name, id]).unwrap();
            let expected = Value::map(
                keys.iter()
                    .zip(&parts)
                    .map(|(key, part)| (*key, Value::string(*part))),
            );
            assert_eq!(parsed, expected, "{type_name}");
        }
    }

    #[test]
    fn import_id_names_the_part_at_fault() {
        let error = call(&ImportId, &["dbaas_thing", "x"]).unwrap_err();
        assert_eq!(error.argument, Some(RESOURCE_TYPE));
        assert!(error.text.contains("dbaas_ip_restriction"), "{error}");
        let error = call(&ImportId, &["dbaas_credential", "db-1", "a/b"]).unwrap_err();
        assert_eq!(error.argument, Some(2), "{error}");
        assert!(error.text.contains("username (part 2)"), "{error}");
        let error = call(&ImportId, &["dbaas_credential", "db-1"]).unwrap_err();
        assert_eq!(error.argument, Some(2), "{error}");
        assert!(error.text.contains("<database_id>/<username>"), "{error}");
        let error = call(&ImportId, &["dbaas_database", "db-1", "extra"]).unwrap_err();
        assert_eq!(error.argument, Some(2), "{error}");
        let error = call(&ImportId, &["dbaas_ip_restriction", "db-1", "10.0.0.7/24"]).unwrap_err();
        assert_eq!(error.argument, Some(2), "{error}");
    }

    #[test]
    fn parse_id_says_the_expected_format() {
        let error = call(&ParseId, &["dbaas_ip_restriction", "db-1"]).unwrap_err();
        assert_eq!(error.argument, Some(ID));
        assert!(error.text.contains("<database_id>/<cidr>"), "{error}");
        let error = call(&ParseId, &["nope", "db-1"]).unwrap_err();
        assert_eq!(error.argument, Some(RESOURCE_TYPE));
    }

    #[test]
    fn functions_document_every_format() {
        let import_id = ImportId.signature().description;
        for format in ids::ALL {
            assert!(
                import_id.contains(&format!("`{}`", format.pattern())),
                "{}",
                format.type_name
            );
        }
    }
}
