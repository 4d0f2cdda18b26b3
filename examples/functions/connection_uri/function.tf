resource "dbaas_database" "orders" {
  name = "orders"
}

resource "dbaas_credential" "app" {
  database_id = dbaas_database.orders.id
  username    = "app"
  roles       = ["readWrite@orders"]
}

# The URI an application connects with: the endpoint (`mongodb://…/orders`) with the user and
# its password in it, percent-encoded. The password is sensitive, so the result is too: Terraform
# carries the mark over, and the output must say `sensitive = true`.
output "orders_uri" {
  value = provider::dbaas::connection_uri(
    dbaas_database.orders.endpoint,
    dbaas_credential.app.username,
    dbaas_credential.app.password,
  )
  sensitive = true
}
