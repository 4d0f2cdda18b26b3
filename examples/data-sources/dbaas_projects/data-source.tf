# The projects of a globo.com DBaaS (only globo groups databases in projects), e.g. to check
# that a client's project exists before creating its database.
data "dbaas_projects" "all" {}

output "project_names" {
  value = [for p in data.dbaas_projects.all.projects : p.name]
}
