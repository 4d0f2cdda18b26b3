# The indexes of one collection of one database. dbaas-local also lists every collection's
# indexes, and every database's, when `collection` and `database_id` are left out.
list "dbaas_collection_index" "orders" {
  provider = dbaas

  config {
    database_id = "db-0123456789ab"
    collection  = "orders"
  }
}
