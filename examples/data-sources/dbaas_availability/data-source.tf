# Which MongoDB combinations the API lets you order in one region (OVHcloud publishes this
# catalog; dbaas-local does not). Useful to pick a flavor before creating a database.
data "dbaas_availability" "mongodb_gra" {
  engine = "mongodb"
  region = "GRA"
}

output "orderable_flavors" {
  value = distinct([for a in data.dbaas_availability.mongodb_gra.availability : a.flavor])
}
