# The module applied for real, against dbaas-local: the provider reads DBAAS_ENDPOINT and
# DBAAS_TOKEN (or DBAAS_TOKEN_FILE) from the environment. `terraform test` creates everything,
# checks the assertions after each run, and destroys it all at the end.

provider "dbaas" {
  # dbaas-local runs on this machine, so status polls may be close together.
  poll_interval = "100ms"
}

variables {
  client = "acme"
  allowed_networks = {
    office = "198.51.100.0/24"
    ci     = "203.0.113.7/32"
  }
}

run "client_database_is_ready" {
  command = apply

  assert {
    condition     = output.status == "READY"
    error_message = "The database must be READY once applied, not ${output.status}."
  }

  assert {
    condition     = dbaas_database.client.name == "client-${var.client}"
    error_message = "The database must be named after the client, not ${dbaas_database.client.name}."
  }

  assert {
    condition     = startswith(output.endpoint, "mongodb://client-acme.")
    error_message = "Unexpected endpoint ${output.endpoint}."
  }

  assert {
    condition     = output.username == "acme-app" && dbaas_credential.app.status == "READY"
    error_message = "The application user must be acme-app and READY."
  }

  assert {
    condition     = tomap(output.allowed_networks) == var.allowed_networks
    error_message = "Every allowed network must be applied as given."
  }

  assert {
    condition     = alltrue([for r in dbaas_ip_restriction.allowed : r.status == "READY"])
    error_message = "Every IP restriction must be READY."
  }
}

run "network_added_in_place" {
  command = apply

  variables {
    allowed_networks = {
      office = "198.51.100.0/24"
      ci     = "203.0.113.7/32"
      vpn    = "2001:db8:1200::/40"
    }
  }

  assert {
    condition     = output.database_id == run.client_database_is_ready.database_id
    error_message = "Adding a network must not replace the database."
  }

  assert {
    condition     = length(output.allowed_networks) == 3
    error_message = "The new network must be applied next to the others."
  }
}

run "client_name_must_make_a_database_name" {
  command = plan

  variables {
    client = "Acme Corp"
  }

  expect_failures = [var.client]
}
