# A database for one client of a database-per-client SaaS, on dbaas-local.
# `make demo` runs this against a dbaas-local it starts itself; the provider reads the endpoint and
# token from DBAAS_ENDPOINT and DBAAS_TOKEN.
terraform {
  required_providers {
    dbaas = {
      source = "dbaas/dbaas"
    }
  }
}

provider "dbaas" {}

variable "client" {
  description = "The client this database is for."
  type        = string
  default     = "acme"
}

resource "dbaas_database" "client" {
  name        = "client-${var.client}"
  engine      = "mongodb"
  plan        = "essential"
  region      = "eu-west-1"
  description = "Database of client ${var.client}"

  timeouts {
    create = "10m"
  }
}

output "database_id" {
  value = dbaas_database.client.id
}

output "database_status" {
  value = dbaas_database.client.status
}

output "database_endpoint" {
  value = dbaas_database.client.endpoint
}
