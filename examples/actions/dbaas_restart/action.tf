# dbaas-local and goaddon offer restarts (OVH and the others do not), so the database and the
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

  # Restart the first node after every change of the database.
  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.dbaas_restart.first_node]
    }
  }
}

# Also run by hand: `terraform apply -invoke=action.dbaas_restart.first_node`. Without `node`,
# every node restarts in turn.
action "dbaas_restart" "first_node" {
  provider = dbaas.local

  config {
    database_id = dbaas_database.orders.id
    node        = 1
  }
}
