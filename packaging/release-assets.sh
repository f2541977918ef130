#!/bin/sh
# Assembles a release's assets: the compiled binaries, the systemd unit, the starter Corefile
# and install.sh (pointed at REPO), plus SHA256SUMS over all of them, which install.sh checks.
#
#   packaging/release-assets.sh DIST OUT REPO
#     DIST  the directory scripts/compile --all wrote (etcdns-TARGET, etcdns-...-windows-msvc.exe)
#     OUT   the directory to fill with the assets (created; must not hold other files)
#     REPO  owner/name on GitHub whose releases install.sh downloads from by default
set -eu

die() {
  echo "release-assets: error: $*" >&2
  exit 1
}

[ $# -eq 3 ] || die "usage: packaging/release-assets.sh DIST OUT REPO"
dist="$1" out="$2" repo="$3"
here="$(cd "$(dirname "$0")" && pwd)"
case "$repo" in
  */*) ;;
  *) die "REPO must be owner/name, got '$repo'" ;;
esac

mkdir -p "$out"
[ -z "$(ls -A "$out")" ] || die "$out is not empty; give an empty or new directory"

for asset in etcdns-x86_64-unknown-linux-gnu etcdns-aarch64-unknown-linux-gnu \
  etcdns-x86_64-apple-darwin etcdns-aarch64-apple-darwin etcdns-x86_64-pc-windows-msvc.exe; do
  [ -f "$dist/$asset" ] || die "$dist/$asset is missing: run scripts/compile --all first"
  cp "$dist/$asset" "$out/$asset"
done
cp "$here/etcdns.service" "$here/Corefile" "$out/"

# The published install.sh downloads from this repository's releases by default.
sed "s|^default_repo=.*|default_repo=\"$repo\"|" "$here/../scripts/install.sh" >"$out/install.sh"
grep -q "^default_repo=\"$repo\"\$" "$out/install.sh" || die "could not set the repository in install.sh"

if command -v sha256sum >/dev/null 2>&1; then
  (cd "$out" && sha256sum -- * >SHA256SUMS)
else
  (cd "$out" && shasum -a 256 -- * >SHA256SUMS)
fi
echo "release-assets: $out:"
cat "$out/SHA256SUMS"
