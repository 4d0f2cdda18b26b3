# A database managed elsewhere (another configuration or team), looked up by name...
data "dbaas_database" "billing" {
  name = "billing"
}

# ...or by id. Set exactly one of `id` and `name`.
data "dbaas_database" "legacy" {
  id = "db-0123456789ab"
}

# Give this configuration's application access to it.
resource "dbaas_credential" "billing_reader" {
  database_id = data.dbaas_database.billing.id
  username    = "invoice-reader"
  roles       = ["read@billing"]
}

output "billing_endpoint" {
  value = data.dbaas_database.billing.endpoint
}

output "legacy_status" {
  value = "${data.dbaas_database.legacy.name} is ${data.dbaas_database.legacy.status} (${data.dbaas_database.legacy.engine} ${data.dbaas_database.legacy.version})"
}
