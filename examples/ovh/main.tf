# One client's MongoDB service on OVHcloud Public Cloud Databases: the service, an application
# user and an allow-list. The same configuration runs against dbaas-local's OVH dialect in CI
# (see README.md, "OVHcloud").
terraform {
  required_providers {
    dbaas = {
      source = "dbaas/dbaas"
    }
  }
}

# Credentials come from the environment, with the names the official OVH provider uses:
# OVH_ENDPOINT, OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY and
# OVH_CLOUD_PROJECT_SERVICE.
provider "dbaas" {
  ovh {}
}

variable "client" {
  type    = string
  default = "acme"
}

data "dbaas_availability" "mongodb" {
  engine = "mongodb"
  plan   = "essential"
}

resource "dbaas_database" "client" {
  # OVH services have no name of their own: `name` becomes the service's description.
  name       = "client-${var.client}"
  engine     = "mongodb"
  plan       = "essential" # 1 node; business and enterprise take 3 to 8
  flavor     = "db1-4"
  region     = "GRA"
  node_count = 1
}

resource "dbaas_credential" "app" {
  database_id = dbaas_database.client.id
  username    = "app" # OVH calls it app@admin
  roles       = ["readWrite@orders"]
  # OVH generates passwords; change this to rotate it. password_wo is refused on OVH.
  password_reset = "2026-11"
}

resource "dbaas_ip_restriction" "office" {
  database_id = dbaas_database.client.id
  cidr        = "198.51.100.0/24"
  description = "office"
}

output "endpoint" {
  value = dbaas_database.client.endpoint
}

output "orderable_flavors" {
  value = distinct([for a in data.dbaas_availability.mongodb.availability : a.flavor])
}

output "app_password" {
  value     = dbaas_credential.app.password
  sensitive = true
}
