#!/usr/bin/env bash
# Release artifacts in the Terraform Registry's layout, and a local filesystem mirror made from them.
#
#   scripts/release.sh [--out DIR] [--binary PATH]       (`make release`)
#     Builds the provider for every target this toolchain can build (see `targets` below) and writes
#     into DIR (target/dist):
#       terraform-provider-dbaas_<version>_<os>_<arch>.zip   holding terraform-provider-dbaas_v<version>
#       terraform-provider-dbaas_<version>_manifest.json     the protocol versions the provider speaks
#       terraform-provider-dbaas_<version>_SHA256SUMS        the sums of the two above
#       terraform-provider-dbaas_<version>_SHA256SUMS.sig    a detached signature, when GPG_FINGERPRINT
#                                                            names a key (GPG_PASSPHRASE unlocks it)
#     The version is Cargo.toml's; a tag on the commit must be v<version>. Builds are reproducible:
#     paths are remapped, symbols stripped, zip entries dated from the commit. --binary packages an
#     already built binary for this machine's platform instead of building (the tests use it).
#
#   scripts/release.sh install [--dist DIR] [--mirror DIR]   (`make install`)
#     Unpacks this platform's zip from DIR (target/dist) into the mirror (~/.terraform.d/plugins) as
#     <mirror>/registry.terraform.io/dbaas/dbaas/<version>/<os>_<arch>/ and prints the CLI configuration
#     that makes Terraform install the provider from there.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
name=terraform-provider-dbaas
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -1)
[ -n "$version" ] || { echo "release: no version in $root/Cargo.toml" >&2; exit 1; }

# Rust target → the registry's <os>_<arch>, and the executable's suffix there.
registry_platform() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo linux_amd64 ;;
    aarch64-unknown-linux-gnu) echo linux_arm64 ;;
    x86_64-apple-darwin) echo darwin_amd64 ;;
    aarch64-apple-darwin) echo darwin_arm64 ;;
    x86_64-pc-windows-gnu | x86_64-pc-windows-msvc) echo windows_amd64 ;;
    *) return 1 ;;
  esac
}
host_target() { rustc -vV | sed -n 's/^host: //p'; }
exe_suffix() { case "$1" in windows_*) echo .exe ;; esac; }

# Writes a zip whose bytes depend only on the file and the commit: fixed entry date and mode.
deterministic_zip() { # zip, entry name, file, unix time
  python3 - "$@" <<'PY'
import sys, time, zipfile
out, entry, path, stamp = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
info = zipfile.ZipInfo(entry, date_time=time.gmtime(max(stamp, 315532800))[:6])
info.create_system = 3                      # unix, so the mode below is read
info.external_attr = (0o100755 & 0xFFFF) << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(path, "rb") as source, zipfile.ZipFile(out, "w") as archive:
    archive.writestr(info, source.read(), compresslevel=9)
PY
}

release() {
  local out="$root/target/dist" binary=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --out) out=$2; shift 2 ;;
      --binary) binary=$2; shift 2 ;;
      *) echo "release: unknown argument $1" >&2; exit 2 ;;
    esac
  done

  local tag
  tag=$(git -C "$root" describe --tags --exact-match 2>/dev/null || true)
  if [ -n "$tag" ] && [ "$tag" != "v$version" ]; then
    echo "release: the commit is tagged $tag but Cargo.toml says version $version (expected tag v$version)" >&2
    exit 1
  fi
  local stamp
  stamp=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 315532800)}

  mkdir -p "$out"
  rm -f "$out/${name}_${version}_"*
  local built=()
  if [ -n "$binary" ]; then
    local platform
    platform=$(registry_platform "$(host_target)")
    package "$out" "$platform" "$binary" "$stamp"
    built+=("$platform")
  else
    local installed
    installed=$(rustup target list --installed 2>/dev/null || host_target)
    for target in $installed; do
      local platform
      if ! platform=$(registry_platform "$target"); then
        echo "release: skipping $target (no Terraform Registry platform for it)"
        continue
      fi
      echo "release: building $target ($platform)"
      # Its own target dir: these flags would otherwise rebuild the everyday release build.
      CARGO_TARGET_DIR="$root/target/release-build" \
      CARGO_PROFILE_RELEASE_STRIP=symbols CARGO_PROFILE_RELEASE_DEBUG=0 \
      SOURCE_DATE_EPOCH=$stamp \
      RUSTFLAGS="--remap-path-prefix=$root=/build --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo" \
        cargo build --release --locked --quiet --bin "$name" --target "$target" \
        --manifest-path "$root/Cargo.toml"
      package "$out" "$platform" \
        "$root/target/release-build/$target/release/$name$(exe_suffix "$platform")" "$stamp"
      built+=("$platform")
    done
    echo "release: built ${built[*]}; other platforms need their Rust target and a linker for it" \
      "(rustup target add …; none but $(host_target) is installed here)"
  fi

  # protocol 6.0: the provider speaks tfplugin6 only.
  printf '{\n  "version": 1,\n  "metadata": {\n    "protocol_versions": ["6.0"]\n  }\n}\n' \
    > "$out/${name}_${version}_manifest.json"
  (cd "$out" && sha256sum "${name}_${version}_"*.zip "${name}_${version}_manifest.json" \
    > "${name}_${version}_SHA256SUMS")
  if [ -n "${GPG_FINGERPRINT:-}" ]; then
    local passphrase=()
    [ -n "${GPG_PASSPHRASE:-}" ] && passphrase=(--pinentry-mode loopback --passphrase-fd 0)
    gpg --batch --yes --local-user "$GPG_FINGERPRINT" "${passphrase[@]}" \
      --output "$out/${name}_${version}_SHA256SUMS.sig" \
      --detach-sign "$out/${name}_${version}_SHA256SUMS" <<<"${GPG_PASSPHRASE:-}"
  else
    echo "release: GPG_FINGERPRINT is not set, so the sums are not signed"
  fi
  echo "release: $version in $out"
  (cd "$out" && ls -1 "${name}_${version}_"*)
}

package() { # out dir, platform, binary, unix time
  local out=$1 platform=$2 binary=$3 stamp=$4
  [ -x "$binary" ] || { echo "release: $binary is not an executable" >&2; exit 1; }
  deterministic_zip "$out/${name}_${version}_${platform}.zip" \
    "${name}_v${version}$(exe_suffix "$platform")" "$binary" "$stamp"
}

install() {
  local dist="$root/target/dist" mirror="${HOME}/.terraform.d/plugins"
  while [ $# -gt 0 ]; do
    case "$1" in
      --dist) dist=$2; shift 2 ;;
      --mirror) mirror=$2; shift 2 ;;
      *) echo "install: unknown argument $1" >&2; exit 2 ;;
    esac
  done
  local platform zip
  platform=$(registry_platform "$(host_target)")
  zip="$dist/${name}_${version}_${platform}.zip"
  [ -f "$zip" ] || { echo "install: $zip is missing: run \`make release\` first" >&2; exit 1; }
  (cd "$dist" && sha256sum --check --quiet --ignore-missing "${name}_${version}_SHA256SUMS")
  mkdir -p "$mirror"
  mirror=$(cd "$mirror" && pwd)
  local into="$mirror/registry.terraform.io/dbaas/dbaas/$version/$platform"
  rm -rf "$into"
  mkdir -p "$into"
  unzip -q -o "$zip" -d "$into"
  echo "install: $name $version for $platform in $into"
  cat <<EOF

Terraform installs it from there with this in ~/.terraformrc (or the file TF_CLI_CONFIG_FILE names):

provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/dbaas/dbaas"]
  }
  direct {
    exclude = ["registry.terraform.io/dbaas/dbaas"]
  }
}
EOF
}

case "${1:-}" in
  install) shift; install "$@" ;;
  *) release "$@" ;;
esac
