# Only OVHcloud publishes a catalog of orderable combinations, so this data source reads it
# through a provider configuration for OVH: the credentials come from OVH_APPLICATION_KEY,
# OVH_APPLICATION_SECRET, OVH_CONSUMER_KEY and OVH_CLOUD_PROJECT_SERVICE.
provider "dbaas" {
  alias = "ovh"

  ovh {
    endpoint = "ovh-eu"
  }
}

# Which MongoDB combinations OVH lets you order in one region, e.g. to pick a flavor before
# creating a database.
data "dbaas_availability" "mongodb_gra" {
  provider = dbaas.ovh

  engine = "mongodb"
  region = "GRA"
}

output "orderable_flavors" {
  value = distinct([for a in data.dbaas_availability.mongodb_gra.availability : a.flavor])
}
