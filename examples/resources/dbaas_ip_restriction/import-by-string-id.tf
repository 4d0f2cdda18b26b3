import {
  to = dbaas_ip_restriction.allow["office-paris"]
  id = "db-0123456789ab/203.0.113.0/24" # <database_id>/<cidr>
}
