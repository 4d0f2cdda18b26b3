terraform {
  required_providers {
    dbaas = {
      source = "dbaas/dbaas"
    }
  }
}

# dbaas-local, the default API. The endpoint and token may also come from DBAAS_ENDPOINT and
# DBAAS_TOKEN (or DBAAS_TOKEN_FILE); without a `local` block the provider uses those, then
# http://127.0.0.1:8780.
provider "dbaas" {
  local {
    endpoint = "http://127.0.0.1:8780"
    # The token dbaas-local made and saved in its data dir, started without --token. For one
    # given with --token, set `token` instead (it wins over the file).
    token_file = ".dbaas-local/token"
  }

  # Failed idempotent requests (HTTP 429, 5xx, connection errors) are retried with backoff.
  max_retries = 5
  # Shared by every resource of this provider configuration, e.g. to stay under an API quota.
  requests_per_second = 10
  # For one HTTP request; waiting for a database to become READY is governed by `timeouts`.
  request_timeout = "30s"
}

# Another API through an alias: its resources say `provider = dbaas.globo`. Each vendor has its
# block (ovh, globo, databaselabs, goaddon, compose), and each setting an environment variable
# fallback, so secrets can stay out of the configuration (here GLOBO_PASSWORD).
provider "dbaas" {
  alias = "globo"

  globo {
    endpoint = "https://dbaas.example.com"
    username = "terraform"
  }
}
