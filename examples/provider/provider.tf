terraform {
  required_providers {
    dbaas = {
      source = "dbaas/dbaas"
    }
  }
}

# dbaas-local, the default API. The endpoint and token may also come from DBAAS_ENDPOINT and
# DBAAS_TOKEN; without a `local` block the provider uses those, then http://127.0.0.1:8780.
provider "dbaas" {
  local {
    endpoint = "http://127.0.0.1:8780"
    token    = var.dbaas_token
  }

  max_retries         = 5
  requests_per_second = 10
}

variable "dbaas_token" {
  type      = string
  sensitive = true
}
