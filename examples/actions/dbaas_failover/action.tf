# dbaas-local and goaddon offer failovers (OVH and the others do not), so the database and the
# action go through a provider configuration for dbaas-local (DBAAS_ENDPOINT and DBAAS_TOKEN).
provider "dbaas" {
  alias = "local"

  local {
    endpoint = "http://127.0.0.1:8780"
  }
}

resource "dbaas_database" "orders" {
  provider = dbaas.local

  name       = "orders"
  plan       = "business"
  node_count = 3
}

# A failover drill: `terraform apply -invoke=action.dbaas_failover.orders` steps the primary
# down and waits until the database is READY again, showing progress as it goes.
action "dbaas_failover" "orders" {
  provider = dbaas.local

  config {
    database_id = dbaas_database.orders.id
    timeout     = "20m"
  }
}
