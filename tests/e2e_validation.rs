//! Bad input is refused by `terraform plan` with a message that names the attribute and says what
//! is allowed, before any request reaches the API.

mod support;

use std::time::Duration;

use support::{LocalService, Workspace, assert_plans_refused, text};

/// (resource body, a line of the configuration the diagnostic must point at, a phrase of the
/// message).
const CASES: &[(&str, &str, &str)] = &[
    (
        r#"resource "dbaas_ip_restriction" "bad" {
  database_id = "db-000000000000"
  cidr        = "10.0.0.7/24"
}"#,
        r#"cidr        = "10.0.0.7/24""#,
        "10.0.0.0/24",
    ),
    (
        r#"resource "dbaas_ip_restriction" "bad" {
  database_id = "db-000000000000"
  cidr        = "office-network"
}"#,
        r#"cidr        = "office-network""#,
        "is not an IPv4 or IPv6 network",
    ),
    (
        r#"resource "dbaas_collection_index" "bad" {
  database_id = "db-000000000000"
  collection  = "orders"
  keys        = []
}"#,
        "keys        = []",
        "at least one",
    ),
    (
        r#"resource "dbaas_collection_index" "bad" {
  database_id = "db-000000000000"
  collection  = "orders"
  keys        = [{ field = "email" }, { field = "email" }]
}"#,
        "keys        =",
        "appears twice",
    ),
    (
        r#"resource "dbaas_collection_index" "bad" {
  database_id = "db-000000000000"
  collection  = "orders"
  keys        = [{ field = "email", direction = "up" }]
}"#,
        "keys        =",
        r#"use "asc" or "desc""#,
    ),
    (
        r#"resource "dbaas_collection_index" "bad" {
  database_id = "db-000000000000"
  collection  = "system.users"
  keys        = [{ field = "email" }]
}"#,
        r#"collection  = "system.users""#,
        "system.",
    ),
    (
        r#"resource "dbaas_collection_index" "bad" {
  database_id = "db-000000000000"
  collection  = "orders"
  name        = "wide"
  keys        = [for n in range(33) : { field = "f${n}" }]
}"#,
        "keys        = [for n in range(33)",
        "a MongoDB index has at most 32",
    ),
    (
        r#"resource "dbaas_collection_index" "bad" {
  database_id = "db-000000000000"
  collection  = "orders"
  keys        = [for f in ["a", "b"] : { field = format("%s%070d", f, 0) }]
}"#,
        r#"keys        = [for f in ["a", "b"]"#,
        "Set name.",
    ),
    (
        r#"resource "dbaas_credential" "bad" {
  database_id = "db-000000000000"
  username    = "app"
  roles       = ["admin"]
}"#,
        "roles       =",
        "<role>@<database>",
    ),
    (
        r#"resource "dbaas_credential" "bad" {
  database_id = "db-000000000000"
  username    = "app"
  password_wo = "a-chosen-password-123"
}"#,
        "password_wo_version is required",
        "password_wo_version",
    ),
    (
        r#"resource "dbaas_credential" "bad" {
  database_id = "db-000000000000"
  username    = "9lives"
}"#,
        r#"username    = "9lives""#,
        "starting with a letter",
    ),
    (
        r#"resource "dbaas_database" "bad" {
  name = "Client_ACME"
}"#,
        r#"name = "Client_ACME""#,
        "lowercase letters",
    ),
    (
        r#"resource "dbaas_database" "bad" {
  plan = "essential"
}"#,
        r#"resource "dbaas_database" "bad""#,
        "needs a name for each database",
    ),
    (
        r#"resource "dbaas_database" "bad" {
  name = "client-acme"
  timeouts {
    create = "a while"
  }
}"#,
        r#"create = "a while""#,
        "is not a duration",
    ),
];

#[test]
fn validation_invalid_configurations_fail_plan_without_requests() {
    let service = LocalService::start(Duration::ZERO);
    let outputs = assert_plans_refused(
        &service,
        Workspace::new,
        "provider \"dbaas\" {}\n",
        CASES.iter().map(|(body, _, phrase)| (body, phrase)),
    );
    for ((_, line, phrase), output) in CASES.iter().zip(&outputs) {
        // As written: the diagnostic quotes the configuration line, alignment included.
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(line) && stderr.contains(phrase),
            "the error must point at `{line}` and say `{phrase}`:\n{}",
            text(output)
        );
    }
    let requests = service.provider_requests();
    assert!(
        requests.is_empty(),
        "no request may reach the service: {requests:?}"
    );
}
