# Every database whose name starts with `client-`: one per client of a database-per-client SaaS.
# Without `name_prefix`, every database of the account.
data "dbaas_databases" "clients" {
  name_prefix = "client-"
}

output "client_endpoints" {
  value = { for db in data.dbaas_databases.clients.databases : db.name => db.endpoint }
}

# Databases that are not READY, for a dashboard or an alert.
output "not_ready" {
  value = [for db in data.dbaas_databases.clients.databases : db.id if db.status != "READY"]
}
