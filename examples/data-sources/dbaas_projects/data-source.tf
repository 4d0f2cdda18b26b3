# Only a globo.com DBaaS groups databases in projects, so this data source reads them through a
# provider configuration for globo: the password comes from GLOBO_PASSWORD.
provider "dbaas" {
  alias = "globo"

  globo {
    endpoint = "https://dbaas.example.com"
    username = "terraform"
  }
}

# The projects, e.g. to check that a client's project exists before creating its database.
data "dbaas_projects" "all" {
  provider = dbaas.globo
}

output "project_names" {
  value = [for p in data.dbaas_projects.all.projects : p.name]
}
