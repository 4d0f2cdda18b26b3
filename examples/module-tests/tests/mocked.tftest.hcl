# The module's own logic (names, roles, one restriction per network), with no service at all:
# the mocked provider answers every call, so `command = apply` works offline. Its defaults stand
# in for what the API would compute (attributes without one get made-up values). A mocked
# provider does not know which changes the real one replaces: it changes everything in place.

mock_provider "dbaas" {
  mock_resource "dbaas_credential" {
    defaults = {
      status = "READY"
    }
  }

  mock_resource "dbaas_ip_restriction" {
    defaults = {
      status = "READY"
    }
  }
}

variables {
  client        = "globex"
  app_databases = ["orders", "invoices"]
  allowed_networks = {
    office = "198.51.100.0/24"
    ci     = "203.0.113.7/32"
    vpn    = "2001:db8:1200::/40"
  }
}

run "names_follow_the_client" {
  command = apply

  # One object's values, in this run: the database the API would have made. An override counts
  # when Terraform creates the object (the state keeps its values for the runs after), and
  # replaces the mock's defaults for it.
  override_resource {
    target = dbaas_database.client
    values = {
      id       = "db-0123456789ab"
      status   = "READY"
      endpoint = "mongodb://client-globex.eu-west-1.dbaas.local:27017/client-globex"
    }
  }

  assert {
    condition     = dbaas_database.client.name == "client-globex"
    error_message = "The database must be named client-<client>, not ${dbaas_database.client.name}."
  }

  assert {
    condition     = output.username == "globex-app"
    error_message = "The application user must be <client>-app, not ${output.username}."
  }

  assert {
    condition     = dbaas_credential.app.roles == tolist(["readWrite@orders", "readWrite@invoices"])
    error_message = "The application user must read and write each of app_databases."
  }

  assert {
    condition     = dbaas_credential.app.database_id == "db-0123456789ab"
    error_message = "The application user must belong to the client's database."
  }

  assert {
    condition     = output.database_id == "db-0123456789ab" && output.status == "READY"
    error_message = "The outputs must come from the client's database."
  }
}

run "one_restriction_per_network" {
  command = apply

  assert {
    condition     = keys(dbaas_ip_restriction.allowed) == ["ci", "office", "vpn"]
    error_message = "There must be one IP restriction per allowed network, keyed by its name."
  }

  assert {
    condition     = dbaas_ip_restriction.allowed["vpn"].description == "Allow vpn"
    error_message = "Each IP restriction must be described by its network's name."
  }

  assert {
    condition     = alltrue([for r in dbaas_ip_restriction.allowed : r.database_id == "db-0123456789ab"])
    error_message = "Every IP restriction must apply to the client's database."
  }
}

run "no_networks_no_restrictions" {
  command = apply

  variables {
    allowed_networks = {}
  }

  assert {
    condition     = length(dbaas_ip_restriction.allowed) == 0 && length(output.allowed_networks) == 0
    error_message = "No allowed network must mean no IP restriction."
  }
}

run "networks_must_be_cidr" {
  command = plan

  variables {
    allowed_networks = {
      office = "the office"
    }
  }

  expect_failures = [var.allowed_networks]
}
