# An index is imported by `<database_id>/<collection>/<name>`.
terraform import dbaas_collection_index.orders_by_customer db-0123456789ab/orders/customer_id_1_created_at_-1
