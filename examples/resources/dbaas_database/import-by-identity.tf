import {
  to = dbaas_database.client
  identity = {
    id = "db-0123456789ab"
  }
}
