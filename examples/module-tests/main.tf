# A reusable module: everything one client of a database-per-client SaaS gets, a database, the
# application's user and the networks allowed to reach it. It declares no provider block, so the
# caller (or a test file) configures the provider. tests/ holds its `terraform test` files: one
# applies it against dbaas-local, one runs it offline against a mocked provider.
terraform {
  required_version = ">= 1.10"

  required_providers {
    dbaas = {
      source = "dbaas/dbaas"
    }
  }
}

locals {
  # Every name the module makes derives from the client, so two clients never collide.
  database_name = "client-${var.client}"
  app_username  = "${var.client}-app"
}

resource "dbaas_database" "client" {
  name        = local.database_name
  plan        = var.plan
  region      = var.region
  description = "Database of client ${var.client}"
}

resource "dbaas_credential" "app" {
  database_id = dbaas_database.client.id
  username    = local.app_username
  roles       = [for collection in var.app_databases : "readWrite@${collection}"]
}

resource "dbaas_ip_restriction" "allowed" {
  for_each = var.allowed_networks

  database_id = dbaas_database.client.id
  cidr        = each.value
  description = "Allow ${each.key}"
}
