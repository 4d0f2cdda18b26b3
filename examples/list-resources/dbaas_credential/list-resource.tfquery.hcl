# The users of one database; without `config`, the users of every database.
list "dbaas_credential" "acme_users" {
  provider = dbaas

  config {
    database_id = "db-0123456789ab"
  }
}
