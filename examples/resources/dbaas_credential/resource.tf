resource "dbaas_database" "orders" {
  name = "orders"
}

# An application user whose password the API generates. The password is kept in the state
# (marked sensitive); give `password_reset` any new value, such as a date, to rotate it.
resource "dbaas_credential" "app" {
  database_id = dbaas_database.orders.id # changing it replaces the user
  username    = "app"                    # changing it replaces the user

  # `<role>@<database>`; changes in place.
  roles = ["readWrite@orders", "read@reporting"]

  password_reset = "2025-06"

  timeouts {
    create = "5m"
    update = "5m"
    delete = "5m"
  }
}

output "app_password" {
  value     = dbaas_credential.app.password
  sensitive = true
}

# A user whose password you choose, sent as a write-only argument (Terraform 1.11+): it is never
# stored in the plan or the state, and `password` stays null. The variable is ephemeral
# (Terraform 1.10+), so it can come from TF_VAR_reporting_password or a secrets manager without
# being saved anywhere either.
variable "reporting_password" {
  description = "Password of the reporting user, 12 to 128 characters."
  type        = string
  sensitive   = true
  ephemeral   = true
}

resource "dbaas_credential" "reporting" {
  database_id = dbaas_database.orders.id
  username    = "reporting"
  roles       = ["read@orders"]

  password_wo = var.reporting_password
  # Terraform cannot see a write-only value change: bump this number to send a new password.
  password_wo_version = 1
}
