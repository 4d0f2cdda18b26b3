# A database per client on one Compose (ex-MongoHQ) MongoDB deployment, through Compose's
# classic API (`Accept-Version: 2014-06`): each client gets its own database, an application user
# with a generated password and a read-only reporting user whose password you choose. The same
# configuration runs against dbaas-local's Compose dialect in CI (tests/e2e_compose.rs).
terraform {
  required_providers {
    dbaas = {
      source = "dbaas/dbaas"
    }
  }
}

# Everything comes from the environment: COMPOSE_ENDPOINT (default https://api.compose.io),
# COMPOSE_TOKEN (a personal access token), COMPOSE_ACCOUNT (slug or id) and COMPOSE_DEPLOYMENT
# (the MongoDB deployment, name or id, that holds the clients' databases).
provider "dbaas" {
  compose {}
}

variable "clients" {
  description = "One database per client: client-<name>."
  type        = set(string)
  default     = ["acme", "globex"]
}

variable "reporting_passwords" {
  description = "The reporting user's password per client (12 to 128 characters), e.g. from TF_VAR_reporting_passwords. Never stored in plan or state."
  type        = map(string)
  sensitive   = true
  ephemeral   = true
}

variable "reporting_password_version" {
  description = "Raise it after changing reporting_passwords, so the new passwords are sent."
  type        = number
  default     = 1
}

resource "dbaas_database" "client" {
  for_each = var.clients

  # Compose has no "create database" call: the provider creates the database's first collection
  # (`dbaas`); Compose accepts it once the deployment is `running`. Only the name is yours: engine,
  # version, plan, region, flavor, node count and description are the deployment's, and setting
  # them fails the plan. Renaming replaces the database (its data goes with the old one).
  name = "client-${each.key}"
}

resource "dbaas_credential" "app" {
  for_each = dbaas_database.client

  database_id = each.value.id # at Compose, the database id is its name
  username    = "app"
  # No roles: a Compose user is readWrite@<database> (readOnly false), and the plan shows it.
  # Compose keeps only a hash, so the provider generates the password and keeps it (sensitive)
  # in state; change password_reset to rotate it.
  password_reset = "2026-11"
}

resource "dbaas_credential" "reporting" {
  for_each = dbaas_database.client

  database_id = each.value.id
  username    = "reporting"
  # A Compose user has exactly one role on its database: read@<database> (readOnly) or
  # readWrite@<database>. Any other role (dbAdmin@…, a role on another database) is refused.
  roles               = ["read@${each.value.name}"]
  password_wo         = var.reporting_passwords[each.key]
  password_wo_version = var.reporting_password_version
}

data "dbaas_databases" "clients" {
  name_prefix = "client-"
  depends_on  = [dbaas_database.client]
}

output "endpoints" {
  description = "Connection URI per client, without credentials (mongodb://<members>/<db>?replicaSet=…)."
  value       = { for client, db in dbaas_database.client : client => db.endpoint }
}

output "client_databases" {
  value = [for db in data.dbaas_databases.clients.databases : db.name]
}

output "app_passwords" {
  value     = { for client, user in dbaas_credential.app : client => user.password }
  sensitive = true
}
