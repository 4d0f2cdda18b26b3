# A database is imported by the id the API gave it.
terraform import 'dbaas_database.client["acme"]' db-0123456789ab
