# One MongoDB database per client on a globo.com DBaaS (globocom/database-as-a-service), each
# with an application user. The same configuration runs against dbaas-local's globo dialect in
# CI (tests/e2e_globo.rs).
terraform {
  required_providers {
    dbaas = {
      source = "dbaas/dbaas"
    }
  }
}

# Credentials come from the environment: GLOBO_ENDPOINT (the DBaaS root, such as
# https://dbaas.example.com; the provider appends /api/...), GLOBO_USERNAME and GLOBO_PASSWORD
# (globo only knows HTTP Basic authentication, so use an https endpoint).
provider "dbaas" {
  globo {}
}

variable "clients" {
  description = "One database per client. globo names are slugs: lowercase letters, digits and '_' only (no '-'), and not admin, config or local."
  type        = set(string)
  default     = ["acme", "globex"]
}

variable "purge_on_destroy" {
  description = "At globo, destroy only quarantines a database (its passwords are reset and its name stays taken until the operators purge it). true removes it for good."
  type        = bool
  default     = false
}

# globo's catalog: its plans, and its environments (the provider's `region`).
data "dbaas_capabilities" "globo" {}

# Projects group databases in globo's console.
data "dbaas_projects" "globo" {}

resource "dbaas_database" "client" {
  for_each = var.clients

  name = "client_${each.key}"
  # globo runs MongoDB only: engine, version, flavor, node_count and description are refused.
  # Plan and environment are fixed at creation, so changing either replaces the database; the
  # replacement keeps the name, which a quarantined database would still hold, so the plan
  # refuses it until purge_on_destroy = true has been applied on its own.
  plan             = "essential"
  region           = "eu-west-1"
  purge_on_destroy = var.purge_on_destroy
}

# globo also creates a user u_<database name> with each database; this adds one for the
# application. globo always generates the password (password_wo is refused) and has no roles.
resource "dbaas_credential" "app" {
  for_each = dbaas_database.client

  database_id = each.value.id
  username    = "app"
  # Change this to have globo generate a new password.
  password_reset = "2026-11"
}

output "endpoints" {
  # globo's endpoints carry literal <user>:<password> placeholders.
  value = { for client, db in dbaas_database.client : client => db.endpoint }
}

output "plans" {
  value = [for plan in data.dbaas_capabilities.globo.plans : plan.name]
}

output "projects" {
  value = [for project in data.dbaas_projects.globo.projects : project.name]
}

output "app_passwords" {
  value     = { for client, user in dbaas_credential.app : client => user.password }
  sensitive = true
}
