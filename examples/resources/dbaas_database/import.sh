# A database is imported by the id the API gave it.
terraform import dbaas_database.client db-0123456789ab

# Or, in configuration (Terraform 1.5+), by id or (Terraform 1.12+) by identity:
#   import {
#     to = dbaas_database.client
#     id = "db-0123456789ab"
#   }
#   import {
#     to       = dbaas_database.client
#     identity = { id = "db-0123456789ab" }
#   }
