import {
  to = dbaas_collection_index.orders_by_customer
  id = "db-0123456789ab/orders/customer_id_1_created_at_-1" # <database_id>/<collection>/<name>
}
