resource "dbaas_database" "orders" {
  name = "orders"
}

# The networks allowed to reach the database: offices, CI runners and the VPN, by name. Adding or
# removing an entry adds or removes only that restriction. While a restriction is created or
# deleted the database is UPDATING, so the provider applies them one at a time.
locals {
  allow_list = {
    "office-paris"  = "203.0.113.0/24"
    "office-berlin" = "198.51.100.0/25"
    "ci-runner"     = "192.0.2.17"         # a bare address means /32
    "vpn"           = "2001:db8:1200::/40" # IPv6 works the same way
  }
}

resource "dbaas_ip_restriction" "allow" {
  for_each = local.allow_list

  database_id = dbaas_database.orders.id # changing it replaces the restriction
  cidr        = each.value               # changing it replaces the restriction
  description = "Allow ${each.key}"      # changes in place

  timeouts {
    create = "10m"
    update = "5m"
    delete = "10m"
  }
}
