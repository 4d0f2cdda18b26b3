import {
  to = dbaas_ip_restriction.allow["office-paris"]
  identity = {
    database_id = "db-0123456789ab"
    cidr        = "203.0.113.0/24"
  }
}
