import {
  to = dbaas_database.client
  id = "db-0123456789ab"
}
