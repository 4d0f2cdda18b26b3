variable "client" {
  description = "The client's short name: lowercase letters, digits and hyphens, starting with a letter."
  type        = string

  validation {
    # The database is named client-<client>, and database names are 3 to 63 characters.
    condition     = can(regex("^[a-z][a-z0-9-]{0,55}$", var.client))
    error_message = "client must be 1 to 56 lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "plan" {
  description = "The service plan of the client's database."
  type        = string
  default     = "essential"
}

variable "region" {
  description = "Where the client's database runs."
  type        = string
  default     = "eu-west-1"
}

variable "app_databases" {
  description = "The databases the application user may read and write."
  type        = list(string)
  default     = ["orders"]
}

variable "allowed_networks" {
  description = "Networks allowed to connect, by name (the client's offices, our CI runners), in CIDR notation."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for cidr in values(var.allowed_networks) : can(cidrhost(cidr, 0))])
    error_message = "Each allowed network must be in CIDR notation, such as 198.51.100.0/24."
  }
}
