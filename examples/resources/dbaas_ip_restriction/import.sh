# An IP restriction is imported by `<database_id>/<cidr>`; the CIDR keeps its own slash.
terraform import 'dbaas_ip_restriction.allow["office-paris"]' db-0123456789ab/203.0.113.0/24
