#!/usr/bin/env bash
# Installs what Grove needs from Debian 12 packages, and nothing when everything is already there.
# Idempotent: asks dpkg which packages are missing and calls apt-get only for those.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build make pkg-config ccache git
  # libraries
  # LibTorch uses the system BLAS: without OpenBLAS it gets the reference BLAS (10-30x slower matmuls)
  libtorch-dev libopenblas0-openmp libgloo-dev libsqlite3-dev libyaml-cpp-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libsentencepiece-dev libxxhash-dev libzstd-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  # tools used by tests and users
  sqlite3 python3 chromium
  # demo corpora
  fortunes fortunes-de fortunes-ru fortunes-es fortunes-it python3.11-doc
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present, nothing to do"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}"; then
  $sudo apt-get update -qq
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "install-deps: done"
