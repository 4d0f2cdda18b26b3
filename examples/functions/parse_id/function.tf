variable "credential_id" {
  description = "The id of a dbaas_credential, `<database_id>/<username>`."
  type        = string
  default     = "db-0123456789ab/app"
}

locals {
  # { database_id = "db-0123456789ab", username = "app" }; an id of another shape is an error
  # that says what a dbaas_credential id looks like.
  credential = provider::dbaas::parse_id("dbaas_credential", var.credential_id)
}

output "credential_database" {
  value = local.credential.database_id
}

output "credential_username" {
  value = local.credential.username
}
