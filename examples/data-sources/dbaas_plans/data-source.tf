# The service plans, to choose one by what it offers instead of hard-coding its name.
data "dbaas_plans" "all" {}

locals {
  # The first plan, in the API's order, that runs three nodes or more (a replica set).
  replicated_plan = [for p in data.dbaas_plans.all.plans : p.name if p.node_count >= 3][0]
}

resource "dbaas_database" "orders" {
  name = "orders"
  plan = local.replicated_plan
}

output "plans" {
  value = { for p in data.dbaas_plans.all.plans : p.name => "${p.description} (${p.node_count} nodes)" }
}
