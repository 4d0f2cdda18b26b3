variable "database_id" {
  description = "The id of an existing database whose networks are brought under Terraform."
  type        = string
  default     = "db-0123456789ab"
}

locals {
  offices = {
    "office-paris"  = "203.0.113.0/24"
    "office-berlin" = "198.51.100.0/25"
  }
}

# The id is `<database_id>/<cidr>`; import_id joins the parts and refuses any the id cannot
# carry, so a typo fails at plan instead of at import.
import {
  for_each = local.offices
  to       = dbaas_ip_restriction.office[each.key]
  id       = provider::dbaas::import_id("dbaas_ip_restriction", var.database_id, each.value)
}

resource "dbaas_ip_restriction" "office" {
  for_each = local.offices

  database_id = var.database_id
  cidr        = each.value
  description = "Allow ${each.key}"
}
