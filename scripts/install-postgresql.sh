#!/usr/bin/env bash
# Installs PostgreSQL's server programs (initdb, pg_ctl, postgres), which dbaas-local runs for
# `engine = "postgresql"` databases, from Debian's packages when none are found and apt is there
# (`apt-get update` once, then `apt-get install`). No cluster is made or started by the package:
# dbaas-local makes its own under its data dir. Elsewhere it says what to install; dbaas-local
# then keeps PostgreSQL databases simulated, and says so.
set -euo pipefail

found() {
  local dir
  dir=$(pg_config --bindir 2>/dev/null || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
    return 0
  fi
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      return 0
    fi
  done
  return 1
}

if found; then
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "PostgreSQL's server programs are missing; install Debian's postgresql package as root." >&2
      exit 1
    fi
  fi
  echo "Installing PostgreSQL from Debian (apt-get install postgresql), without its default cluster"
  # postgresql-common reads this before the package would make and start a cluster of its own.
  $sudo mkdir -p /etc/postgresql-common
  if [ ! -f /etc/postgresql-common/createcluster.conf ]; then
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  found || { echo "apt-get installed postgresql, but its server programs are not where expected" >&2; exit 1; }
  exit 0
fi

echo "PostgreSQL's server programs (initdb, pg_ctl, postgres) are not installed, and there is no apt." >&2
echo "Install PostgreSQL 13 or later (macOS: brew install postgresql@17; Fedora: dnf install" >&2
echo "postgresql-server), or start dbaas-local with --postgres-bin DIR. Until then dbaas-local keeps" >&2
echo "postgresql databases simulated, and the tests that need a real one fail." >&2
exit 0
