# What the API offers: engines with their versions, plans, regions and flavors.
data "dbaas_capabilities" "api" {}

variable "mongodb_version" {
  description = "MongoDB version of the orders database."
  type        = string
  default     = "8.0"
}

locals {
  mongodb = one([for e in data.dbaas_capabilities.api.engines : e if e.name == "mongodb"])
}

# Fail the plan with a clear message, before any API call, when the version is not offered.
resource "dbaas_database" "orders" {
  name    = "orders"
  engine  = "mongodb"
  version = var.mongodb_version

  lifecycle {
    precondition {
      condition     = contains(local.mongodb.versions, var.mongodb_version)
      error_message = "MongoDB ${var.mongodb_version} is not offered; choose one of: ${join(", ", local.mongodb.versions)}."
    }
  }
}

output "default_versions" {
  value = { for e in data.dbaas_capabilities.api.engines : e.name => e.default_version }
}

output "regions" {
  value = { for r in data.dbaas_capabilities.api.regions : r.name => r.description }
}

output "flavors" {
  value = {
    for f in data.dbaas_capabilities.api.flavors :
    f.name => "${f.cores} cores, ${f.memory_gb} GB RAM, ${f.storage_gb} GB storage"
  }
}
