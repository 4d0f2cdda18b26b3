#!/usr/bin/env bash
# Installs the official OVHcloud Python wrapper (PyPI `ovh`, with its dependencies) into .tools/python,
# for tests/ovh_python.rs: a real OVH client that no one here wrote drives dbaas-local's OVH dialect.
# Plain `pip install --target`: nothing outside .tools/ is touched, and PyPI is the only host reached.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target="$root/.tools/python"
version="1.2.0"
stamp="$target/.ovh-$version"
python=${PYTHON:-python3}

if [ -f "$stamp" ] && PYTHONPATH="$target" "$python" -c 'import ovh' 2>/dev/null; then
  exit 0
fi

echo "Installing the OVH Python wrapper (ovh $version from PyPI) into $target"
rm -rf "$target"
mkdir -p "$target"
"$python" -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore \
  --target "$target" "ovh==$version"
PYTHONPATH="$target" "$python" -c 'import ovh, ovh.client; assert hasattr(ovh.client, "ENDPOINTS")'
touch "$stamp"
