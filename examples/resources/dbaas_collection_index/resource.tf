resource "dbaas_database" "shop" {
  name = "shop"
}

# Orders of one customer, newest first. The first index of a collection creates the collection.
# Without `name` the index is named MongoDB style from its keys: `customer_id_1_created_at_-1`.
resource "dbaas_collection_index" "orders_by_customer" {
  database_id = dbaas_database.shop.id
  collection  = "orders"
  keys = [
    { field = "customer_id" }, # ascending by default
    { field = "created_at", direction = "desc" },
  ]

  timeouts {
    create = "30m" # building an index on a large collection takes a while
    delete = "10m"
  }
}

# One account per e-mail address. Sparse: customers without an e-mail are not indexed, so
# several of them do not collide on a missing value.
resource "dbaas_collection_index" "customer_email" {
  database_id = dbaas_database.shop.id
  collection  = "customers"
  name        = "email_unique"
  keys        = [{ field = "email" }]
  unique      = true
  sparse      = true
}

# Every attribute of an index replaces it: an index cannot be altered in place.
