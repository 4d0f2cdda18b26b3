import {
  to = dbaas_credential.app
  id = "db-0123456789ab/app" # <database_id>/<username>
}
