import {
  to = dbaas_database.client["acme"]
  id = "db-0123456789ab"
}
