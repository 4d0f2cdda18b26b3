# The client databases that exist already, made by scripts or by hand: `terraform query
# -generate-config-out=generated.tf` writes a resource and an import block for each.
list "dbaas_database" "clients" {
  provider = dbaas
  limit    = 1000

  config {
    name_prefix = "client-"
  }
}
