# Everything one client of a database-per-client SaaS needs, on dbaas-local: a database, an
# application user, two indexes and a network allow-list. dbaas-local runs a real PostgreSQL for
# `engine = "postgresql"`, so the endpoint accepts the user's password from the allowed networks.
# `make demo` runs this against a dbaas-local it starts itself; the provider reads the endpoint from
# DBAAS_ENDPOINT and the token from the file DBAAS_TOKEN_FILE names (the one dbaas-local saves in
# its data dir; DBAAS_TOKEN works too).
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

variable "allowed_networks" {
  description = "Networks allowed to connect: the client's office, our CI runners, and this machine."
  type        = map(string)
  default = {
    office       = "198.51.100.0/24"
    ci           = "203.0.113.7"
    this_machine = "127.0.0.1"
  }
}

resource "dbaas_database" "client" {
  name        = "client-${var.client}"
  engine      = "postgresql"
  plan        = "essential"
  region      = "eu-west-1"
  description = "Database of client ${var.client}"

  timeouts {
    create = "10m"
  }
}

resource "dbaas_credential" "app" {
  database_id = dbaas_database.client.id
  username    = "app"
  roles       = ["readWrite@${dbaas_database.client.name}"]
}

resource "dbaas_collection_index" "orders_by_customer" {
  database_id = dbaas_database.client.id
  collection  = "orders"
  keys = [
    { field = "customer_id" },
    { field = "created_at", direction = "desc" },
  ]
}

resource "dbaas_collection_index" "customers_by_email" {
  database_id = dbaas_database.client.id
  collection  = "customers"
  keys        = [{ field = "email" }]
  unique      = true
}

resource "dbaas_ip_restriction" "allowed" {
  for_each = var.allowed_networks

  database_id = dbaas_database.client.id
  cidr        = each.value
  description = each.key
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

output "app_username" {
  value = dbaas_credential.app.username
}

output "app_password" {
  value     = dbaas_credential.app.password
  sensitive = true
}

output "indexes" {
  value = [
    dbaas_collection_index.orders_by_customer.name,
    dbaas_collection_index.customers_by_email.name,
  ]
}

output "allowed_networks" {
  value = sort([for r in dbaas_ip_restriction.allowed : r.cidr])
}
