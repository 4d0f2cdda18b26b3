import {
  to = dbaas_collection_index.orders_by_customer
  identity = {
    database_id = "db-0123456789ab"
    collection  = "orders"
    name        = "customer_id_1_created_at_-1"
  }
}
