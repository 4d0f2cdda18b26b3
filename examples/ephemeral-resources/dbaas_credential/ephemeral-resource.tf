# Only dbaas-local can hand a generated password back later, so everything here goes through a
# provider configuration for it (DBAAS_ENDPOINT and DBAAS_TOKEN), whatever the default
# provider configuration of the module talks to.
provider "dbaas" {
  alias = "local"

  local {
    endpoint = "http://127.0.0.1:8780"
  }
}

resource "dbaas_database" "orders" {
  provider = dbaas.local

  name = "orders"
}

# The application user, with a password the API generates.
resource "dbaas_credential" "app" {
  provider = dbaas.local

  database_id = dbaas_database.orders.id
  username    = "app"
  roles       = ["readWrite@orders"]
}

# Reads that generated password during plan and apply only (Terraform 1.10+): it never appears in
# the plan or the state. Only generated passwords can be read; a password set with `password_wo`
# is not stored by the API.
ephemeral "dbaas_credential" "app" {
  provider = dbaas.local

  database_id = dbaas_credential.app.database_id
  username    = dbaas_credential.app.username
}

# The reporting copy of the database gets the same application user and password, passed
# through a write-only argument (Terraform 1.11+) so that this copy is never stored either.
resource "dbaas_database" "orders_reporting" {
  provider = dbaas.local

  name = "orders-reporting"
}

resource "dbaas_credential" "app_reporting" {
  provider = dbaas.local

  database_id         = dbaas_database.orders_reporting.id
  username            = "app"
  roles               = ["read@orders"]
  password_wo         = ephemeral.dbaas_credential.app.password
  password_wo_version = 1
}

# The same value can also configure a provider that connects to the database itself (provider
# configurations accept ephemeral values), along the lines of:
#
#   provider "<database provider>" {
#     endpoint = dbaas_database.orders.endpoint
#     username = dbaas_credential.app.username
#     password = ephemeral.dbaas_credential.app.password
#   }
