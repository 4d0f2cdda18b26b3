# One hosted PostgreSQL server per client on databaselabs.io. The same configuration runs
# against dbaas-local's databaselabs dialect in CI (tests/e2e_databaselabs.rs).
terraform {
  required_providers {
    dbaas = {
      source = "dbaas/dbaas"
    }
  }
}

# Credentials come from the environment: DATABASELABS_API_KEY and DATABASELABS_API_SECRET (HTTP
# Basic user and password), and DATABASELABS_ENDPOINT, which defaults to
# https://www.databaselabs.io. The provider checks them when it is configured (GET /api/ping),
# so a wrong secret fails `terraform plan` before anything is read or created.
provider "dbaas" {
  # databaselabs asks for at least 30 s between status polls, and the provider follows that by
  # default (a server takes a few minutes to build). Lower it only for an API you run yourself,
  # such as dbaas-local in CI (TF_VAR_poll_interval=100ms).
  poll_interval = var.poll_interval

  databaselabs {}
}

variable "poll_interval" {
  description = "Pause between status polls; null keeps what databaselabs asks for (30s)."
  type        = string
  default     = null
}

variable "clients" {
  description = "One server per client: its memory size (the plan) and datacenter region."
  type = map(object({
    size   = string
    region = string
  }))
  default = {
    acme = {
      size   = "512mb"
      region = "ams3"
    }
    globex = {
      size   = "1gb"
      region = "nyc3"
    }
  }
}

# The sizes and regions on offer come from GET /api/plans. A size or region that is not offered
# fails `terraform plan`, listing the ones that are.
data "dbaas_capabilities" "databaselabs" {}

resource "dbaas_database" "client" {
  for_each = var.clients

  # No `name`: databaselabs names each server itself (hostname vivid-answer-395.db.databaselabs.io),
  # and the provider refuses a name. `name` is then the hostname's first label, and `id` the
  # hostname. No `engine` either: databaselabs runs PostgreSQL only.
  #
  # databaselabs has no update call: changing `plan` or `region` replaces the server, with a new
  # hostname, a new superuser password and an empty database.
  plan   = each.value.size
  region = each.value.region

  timeouts {
    create = "15m" # "ready within a few minutes"; the statuses ordered and building are waited through
  }
}

output "hostnames" {
  value = { for client, db in dbaas_database.client : client => db.id }
}

output "endpoints" {
  value = { for client, db in dbaas_database.client : client => db.endpoint }
}

output "offered_sizes" {
  value = [for plan in data.dbaas_capabilities.databaselabs.plans : plan.name]
}

# databaselabs shows the superuser (postgres) password once, in its create reply: the provider
# keeps it in the state, sensitive. An imported server has none.
output "superuser_passwords" {
  value     = { for client, db in dbaas_database.client : client => db.superuser_password }
  sensitive = true
}
