import {
  to = dbaas_database.client["acme"]
  identity = {
    id = "db-0123456789ab"
  }
}
