# One client's database on goaddon: every goaddon project (one per client) has exactly one
# MongoDB replica set, reached with that project's API token. Apply this configuration once per
# client, each with its own state and its own GOADDON_TOKEN. The same configuration runs against
# dbaas-local's goaddon dialect in CI.
terraform {
  required_providers {
    dbaas = {
      source = "dbaas/dbaas"
    }
  }
}

# Credentials come from the environment: GOADDON_TOKEN (the project's `p-…` API token) and, for
# another endpoint than https://goaddon.com, GOADDON_ENDPOINT.
provider "dbaas" {
  goaddon {}
}

variable "app_password" {
  description = "Password of the application user (12 to 128 characters), e.g. from a vault."
  type        = string
  sensitive   = true
  ephemeral   = true # sent to goaddon, never stored in plan or state
}

variable "app_password_version" {
  description = "Raise it whenever app_password changes: Terraform cannot see a write-only value change."
  type        = number
  default     = 1
}

# goaddon creates a project and its database when the client signs up; the API can neither
# create nor delete one, so a dbaas_database resource is refused at plan. The token reaches
# exactly one database: read it here.
data "dbaas_databases" "project" {}

locals {
  database = one(data.dbaas_databases.project.databases)
}

# The application's user, with a password you choose.
resource "dbaas_credential" "app" {
  database_id = local.database.id
  username    = "app"
  # goaddon grants roles on the project's database only: write them `<role>@<database name>`.
  # A role on any other database is refused.
  roles               = ["readWrite@${local.database.name}"]
  password_wo         = var.app_password
  password_wo_version = var.app_password_version
}

# A read-only user for reporting, with a password goaddon generates: it is shown once, at
# creation, and kept (sensitive) in state. goaddon cannot rotate a generated password, so
# `password_reset` is refused; to rotate it, switch to password_wo.
resource "dbaas_credential" "reporting" {
  database_id = local.database.id
  username    = "reporting"
  roles       = ["read@${local.database.name}"]
}

# Indexes are registered on their collection (the first one registers the collection) and
# goaddon builds them in the database. A collection's indexes are written as a whole; the
# provider serialises the changes to one collection, so several indexes on one collection can be
# declared side by side. An index cannot be altered: any change replaces it, and goaddon reindexes.
resource "dbaas_collection_index" "orders_by_customer" {
  database_id = local.database.id
  collection  = "orders"
  keys        = [{ field = "customer_id" }, { field = "created_at", direction = "desc" }]
}

resource "dbaas_collection_index" "orders_reference" {
  database_id = local.database.id
  collection  = "orders"
  name        = "order_reference"
  keys        = [{ field = "reference" }]
  unique      = true
}

resource "dbaas_collection_index" "customers_email" {
  database_id = local.database.id
  collection  = "customers"
  keys        = [{ field = "email" }]
  unique      = true
  sparse      = true # customers without an email are not indexed
}

output "database" {
  value = local.database.name
}

output "endpoint" {
  value = local.database.endpoint
}

# The replica set's size, read-only here: goaddon's node API is not managed by this provider.
output "node_count" {
  value = local.database.node_count
}

output "reporting_password" {
  value     = dbaas_credential.reporting.password
  sensitive = true
}
