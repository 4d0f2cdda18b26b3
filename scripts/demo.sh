#!/usr/bin/env bash
# `make demo`: start dbaas-local, apply examples/quickstart with the freshly built provider, print the
# outputs, stop the service. Data and Terraform state live in .demo/ (git-ignored), so a second run finds
# everything in place and plans no change.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
demo="$root/.demo"
terraform=${TF_ACC_TERRAFORM_PATH:-$root/.tools/bin/terraform}
# The service makes its data dir itself, owner-only (it keeps the token there).
mkdir -p "$demo/quickstart"

cat > "$demo/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "dbaas/dbaas" = "$root/target/debug"
  }
  direct {}
}
RC

# Started without a token, the service makes one on its first run and keeps it in its data dir
# (owner-only), where Terraform reads it too. Once bound it prints "dbaas-local listening on
# http://ADDR" on stdout, then a line saying where the token is.
coproc LOCAL { exec env -u DBAAS_LOCAL_TOKEN "$root/target/debug/dbaas-local" \
  --listen 127.0.0.1:0 --data-dir "$demo/local-data" --provision-delay "${DEMO_PROVISION_DELAY:-3s}" \
  2>>"$demo/dbaas-local.log"; }
local_pid=$LOCAL_PID
trap 'kill "$local_pid" 2>/dev/null; wait "$local_pid" 2>/dev/null || true' EXIT
read -r -t 30 line <&"${LOCAL[0]}" || { echo "dbaas-local did not start; see $demo/dbaas-local.log" >&2; exit 1; }
endpoint=${line##* }
read -r -t 5 token_line <&"${LOCAL[0]}" || token_line=
echo "dbaas-local is serving on $endpoint (data in .demo/local-data, log in .demo/dbaas-local.log)"
[ -z "$token_line" ] || echo "$token_line"

cp "$root"/examples/quickstart/*.tf "$demo/quickstart/"
export TF_CLI_CONFIG_FILE="$demo/terraformrc" DBAAS_ENDPOINT="$endpoint" \
  DBAAS_TOKEN_FILE="$demo/local-data/token"
unset DBAAS_TOKEN
export TF_IN_AUTOMATION=1
cd "$demo/quickstart"
# apply prints the outputs when it is done.
"$terraform" apply -auto-approve -input=false

# The database is a real PostgreSQL one: connect as the application would, with the password
# Terraform got (through the environment, never the command line).
endpoint=$("$terraform" output -raw database_endpoint)
case "$endpoint" in
  postgresql://127.0.0.1:*) ;;
  *) echo "The database is simulated ($endpoint): no PostgreSQL server programs were found." \
       "Install PostgreSQL (make tools does with apt) and run make demo again." >&2; exit 1 ;;
esac
DBAAS_CONNECT_PASSWORD=$("$terraform" output -raw app_password)
export DBAAS_CONNECT_PASSWORD
connect="$root/target/debug/dbaas-connect"
# A new address every run, so the first insert succeeds on a second `make demo` too.
email="ada+$(date +%s)@example.com"
echo
echo "Connecting to $endpoint as app (the generated password), inserting a customer twice:"
"$connect" --endpoint "$endpoint" --user app --collection customers \
  --insert "{\"email\": \"$email\", \"name\": \"Ada\"}" \
  --insert "{\"email\": \"$email\", \"name\": \"Ada again\"}" \
  && { echo "The unique index on customers.email should have refused the second insert." >&2; exit 1; }
echo
echo "Connecting from 127.0.0.2, a loopback address outside the allow-list:"
"$connect" --endpoint "$endpoint" --user app --source 127.0.0.2 \
  && { echo "The allow-list should have refused 127.0.0.2." >&2; exit 1; }
echo
echo "All as expected: the login works, the unique index and the allow-list refuse."
