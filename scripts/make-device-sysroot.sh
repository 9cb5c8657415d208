#!/usr/bin/env bash
# Prepares .device-sysroot/: the Debian development files the GPU machine lacks (SQLite and xxHash headers and libraries),
# git-ignored, so copy it to the GPU machine along with the checkout. It also unpacks the Debian corpora the tests read
# at their Debian paths (fortunes, fortunes-de, -ru, -es, -it, the Python documentation sources) under
# .device-sysroot/corpora/; scripts/gpu.sh puts them in place on the GPU machine, which has none. docs/GPU.md says why
# and how it is used. Run on the Debian machine in the project root.
set -euo pipefail
dest=${1:-.device-sysroot}
pkgs=(libsqlite3-dev libsqlite3-0 libxxhash-dev libxxhash0)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && apt-get download "${pkgs[@]}" >/dev/null 2>&1 ) || { apt-get update -qq && ( cd "$tmp" && apt-get download "${pkgs[@]}" >/dev/null ); }
rm -rf "$dest"; mkdir -p "$dest"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dest"; done
corpora=(fortunes fortunes-min fortunes-de fortunes-ru fortunes-es fortunes-it python3.11-doc)
mkdir -p "$tmp/corpora" "$dest/corpora"
( cd "$tmp/corpora" && apt-get download "${corpora[@]}" >/dev/null 2>&1 )
for deb in "$tmp"/corpora/*.deb; do dpkg-deb -x "$deb" "$dest/corpora"; done
# Only the .rst.txt sources of the Python documentation are read; the rendered HTML would not fit the carry limit.
html="$dest/corpora/usr/share/doc/python3.11/html"
find "$html" -mindepth 1 -maxdepth 1 ! -name _sources -exec rm -rf {} +
rm -rf "$dest/corpora/usr/share/man" "$dest/corpora/usr/share/doc/"*/changelog*
# pkg-config files say prefix=/usr; make them point into the sysroot wherever it lands.
for pc in "$dest"/usr/lib/x86_64-linux-gnu/pkgconfig/*.pc; do
  [[ -f "$pc" ]] && sed -i 's|^prefix=.*|prefix=${pcfiledir}/../../..|' "$pc"
done
if git rev-parse --git-dir >/dev/null 2>&1; then
  ex="$(git rev-parse --git-dir)/info/exclude"; grep -qx "/$dest/" "$ex" 2>/dev/null || echo "/$dest/" >> "$ex"
fi
echo "sysroot ready: $dest/usr"
