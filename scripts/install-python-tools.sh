#!/usr/bin/env bash
# Installs the Python tools the tests drive, from PyPI: the official OVHcloud Python wrapper (`ovh`,
# with its dependencies) into .tools/python, for tests/ovh_python.rs (a real OVH client that no one
# here wrote drives dbaas-local's OVH dialect), schemathesis into .tools/schemathesis, and
# matplotlib into .tools/plot, which draws `make bench`'s plot (scripts/bench_plot.py).
# Plain `pip install --target`: nothing outside .tools/ is touched, and PyPI is the only host reached.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target="$root/.tools/python"
version="1.2.0"
stamp="$target/.ovh-$version"
python=${PYTHON:-python3}

if [ ! -f "$stamp" ] || ! PYTHONPATH="$target" "$python" -c 'import ovh' 2>/dev/null; then
  echo "Installing the OVH Python wrapper (ovh $version from PyPI) into $target"
  rm -rf "$target"
  mkdir -p "$target"
  "$python" -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore \
    --target "$target" "ovh==$version"
  PYTHONPATH="$target" "$python" -c 'import ovh, ovh.client; assert hasattr(ovh.client, "ENDPOINTS")'
  touch "$stamp"
fi

# schemathesis (PyPI), for tests/openapi_schemathesis.rs: property-based tests of dbaas-local's
# native API generated from its own OpenAPI document. In a venv of its own (it has many
# dependencies, and a CLI), pinned so a run means the same checks on every machine.
st_version="4.32.5"
st_venv="$root/.tools/schemathesis"
st_stamp="$st_venv/.schemathesis-$st_version"
if [ ! -f "$st_stamp" ] || ! "$st_venv/bin/schemathesis" --version >/dev/null 2>&1; then
  echo "Installing schemathesis $st_version from PyPI into $st_venv"
  rm -rf "$st_venv"
  "$python" -m venv "$st_venv"
  "$st_venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "schemathesis==$st_version"
  "$st_venv/bin/schemathesis" --version
  touch "$st_stamp"
fi

# matplotlib (PyPI), for `make bench`'s plot of apply time against N (scripts/bench_plot.py). Its
# wheels bring their own fonts and image libraries, so nothing beyond Debian's base is needed.
plot_version="3.11.2"
plot_venv="$root/.tools/plot"
plot_stamp="$plot_venv/.matplotlib-$plot_version"
if [ ! -f "$plot_stamp" ] || ! "$plot_venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
  echo "Installing matplotlib $plot_version from PyPI into $plot_venv"
  rm -rf "$plot_venv"
  "$python" -m venv "$plot_venv"
  "$plot_venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "matplotlib==$plot_version"
  "$plot_venv/bin/python" -c 'import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot'
  touch "$plot_stamp"
fi
