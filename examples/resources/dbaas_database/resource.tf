# One database per client, created and waited on until READY.
resource "dbaas_database" "client" {
  for_each = toset(["acme", "globex"])

  name        = "client-${each.key}"
  engine      = "mongodb"   # changing it replaces the database
  version     = "8.0"       # changes in place
  plan        = "essential" # changes in place
  region      = "eu-west-1" # changing it replaces the database
  description = "Database of client ${each.key}"

  timeouts {
    create = "40m"
    update = "40m"
    delete = "20m"
  }
}
