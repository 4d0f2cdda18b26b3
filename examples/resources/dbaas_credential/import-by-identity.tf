import {
  to = dbaas_credential.app
  identity = {
    database_id = "db-0123456789ab"
    username    = "app"
  }
}
