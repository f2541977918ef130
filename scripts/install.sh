#!/bin/sh
# Installs etcdns from a release: the binary for this OS and architecture to
# /usr/local/bin/etcdns, the systemd unit to /etc/systemd/system/etcdns.service, and a starter
# Corefile to /etc/etcdns/Corefile unless one is there already. Every download is checked
# against the release's SHA256SUMS before anything is written. Running it again changes
# nothing unless the release did.
#
#   curl -fsSL https://github.com/OWNER/REPO/releases/latest/download/install.sh | sudo sh
#   curl -fsSL .../install.sh | sudo sh -s -- --version v0.2.0 --now
#
# Run `sh install.sh --help` for the options and environment variables.
set -eu

# release.yml rewrites this line to the repository that publishes the release.
default_repo="etcdns/etcdns"

TARGETS="x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin"

usage() {
  cat <<EOF
usage: install.sh [options]
  --version V      release to install, e.g. v0.2.0 (default: latest)
  --root DIR       install under DIR instead of / (packaging, tests); default \$DESTDIR or /
  --target T       release target to install instead of this machine's; one of:
                   $TARGETS
  --no-service     install the binary only: no systemd unit, no Corefile
  --now            enable and start etcdns.service (systemd hosts, --root /)
  --dry-run        download and verify, then print what would change; change nothing
  -h, --help       this help
environment:
  ETCDNS_VERSION       as --version
  ETCDNS_REPO          GitHub repository of the releases (default: $default_repo)
  ETCDNS_RELEASE_URL   base URL of the releases (default: https://github.com/\$ETCDNS_REPO/releases);
                       assets are fetched from BASE/latest/download/NAME or BASE/download/VERSION/NAME
  DESTDIR              as --root
EOF
}

die() {
  echo "etcdns install: error: $*" >&2
  exit 1
}

say() {
  echo "etcdns install: $*"
}

version="${ETCDNS_VERSION:-latest}"
root="${DESTDIR:-}"
target=""
service=1
now=0
dry_run=0
while [ $# -gt 0 ]; do
  case "$1" in
    --version | --root | --target)
      [ $# -ge 2 ] || die "$1 needs a value (see --help)"
      case "$1" in
        --version) version="$2" ;;
        --root) root="$2" ;;
        --target) target="$2" ;;
      esac
      shift 2
      ;;
    --version=*) version="${1#*=}" && shift ;;
    --root=*) root="${1#*=}" && shift ;;
    --target=*) target="${1#*=}" && shift ;;
    --no-service) service=0 && shift ;;
    --now) now=1 && shift ;;
    --dry-run) dry_run=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

repo="${ETCDNS_REPO:-$default_repo}"
base="${ETCDNS_RELEASE_URL:-https://github.com/$repo/releases}"
base="${base%/}"
case "$version" in
  "") die "--version is empty; give a release such as v0.2.0, or latest" ;;
  latest) release_path="latest/download" ;;
  v*) release_path="download/$version" ;;
  *) version="v$version" && release_path="download/$version" ;;
esac

# The root: "" means this machine's /, anything else is a staging directory.
root="${root%/}"
live=0
[ -n "$root" ] || live=1

# This machine's release target, named as deno compile names it.
host_target() {
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$os/$arch" in
    Linux/x86_64 | Linux/amd64) echo x86_64-unknown-linux-gnu ;;
    Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-gnu ;;
    Darwin/x86_64) echo x86_64-apple-darwin ;;
    Darwin/arm64 | Darwin/aarch64) echo aarch64-apple-darwin ;;
    *) return 1 ;;
  esac
}

host="$(host_target)" || host=""
if [ -z "$target" ]; then
  [ -n "$host" ] || die "no etcdns release for $(uname -s) $(uname -m); releases exist for: $TARGETS (and Windows: etcdns-x86_64-pc-windows-msvc.exe on the release page)"
  target="$host"
fi
case " $TARGETS " in
  *" $target "*) ;;
  *) die "unknown target '$target'; one of: $TARGETS" ;;
esac
case "$target" in
  *-linux-*)
    if [ "$target" = "$host" ] && ls /lib/ld-musl-* >/dev/null 2>&1 && ! ls /lib*/ld-linux* >/dev/null 2>&1; then
      die "this looks like a musl system (Alpine?); the release binaries need glibc"
    fi
    ;;
  *)
    if [ "$service" = 1 ]; then
      say "no systemd on $target: installing the binary only (run it as: etcdns -conf /etc/etcdns/Corefile)"
      service=0
    fi
    ;;
esac

if [ "$live" = 1 ] && [ "$dry_run" = 0 ] && [ "$(id -u)" != 0 ]; then
  die "installing into / needs root: run it with sudo, or use --root DIR or --dry-run"
fi

# Tools: a downloader and a SHA-256 program, whichever this system has.
if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 3 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "neither curl nor wget is installed; install one of them and run this again"
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | awk '{ print $1 }'; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | awk '{ print $1 }'; }
elif command -v openssl >/dev/null 2>&1; then
  sha256() { openssl dgst -sha256 -r "$1" | awk '{ print $1 }'; }
else
  die "no SHA-256 tool (sha256sum, shasum or openssl) found; install coreutils and run this again"
fi

tmp="$(mktemp -d 2>/dev/null || mktemp -d -t etcdns-install)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# download NAME: fetches one asset of the release into $tmp/NAME and checks its SHA-256.
download() {
  url="$base/$release_path/$1"
  fetch "$url" "$tmp/$1" || die "could not download $url; check --version ($version) and the network, or set ETCDNS_RELEASE_URL"
  [ "$1" = SHA256SUMS ] && return 0
  expected="$(awk -v f="$1" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS")"
  [ -n "$expected" ] || die "SHA256SUMS of release $version has no entry for $1; refusing to install it"
  actual="$(sha256 "$tmp/$1")"
  [ "$actual" = "$expected" ] ||
    die "checksum mismatch for $1 from $url: expected $expected, got $actual; refusing to install it (a corrupted or tampered download)"
}

say "etcdns $version for $target from $base"
download SHA256SUMS
binary_asset="etcdns-$target"
download "$binary_asset"
chmod 0755 "$tmp/$binary_asset"
if [ "$service" = 1 ]; then
  download etcdns.service
  download Corefile
fi

# A binary for this machine must run here; one for another target is only installed.
if [ "$target" = "$host" ]; then
  "$tmp/$binary_asset" -version >"$tmp/version.txt" 2>&1 ||
    die "the downloaded binary does not run on this machine: $(head -n 3 "$tmp/version.txt")"
  installed_version="$(head -n 1 "$tmp/version.txt")"
else
  installed_version="etcdns $version ($target)"
fi

changed=""
# place SRC DEST MODE [keep]: installs SRC at DEST atomically, unless DEST already has the same
# content, or exists at all when "keep" is given (the admin's Corefile is never overwritten).
place() {
  src="$1" dest="$2" mode="$3" keep="${4:-}"
  if [ -e "$dest" ] && [ "$keep" = keep ]; then
    say "kept $dest (exists)"
    return 0
  fi
  if [ -e "$dest" ] && cmp -s "$src" "$dest"; then
    say "unchanged $dest"
    return 0
  fi
  if [ -e "$dest" ]; then verb="replace"; else verb="install"; fi
  changed="$changed $dest"
  if [ "$dry_run" = 1 ]; then
    say "would $verb $dest"
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  # Copy next to the destination, then rename: a running binary is never half-written.
  cp "$src" "$dest.tmp.$$"
  chmod "$mode" "$dest.tmp.$$"
  mv -f "$dest.tmp.$$" "$dest"
  say "${verb%e}ed $dest"
}

bin="$root/usr/local/bin/etcdns"
unit="$root/etc/systemd/system/etcdns.service"
corefile="$root/etc/etcdns/Corefile"
place "$tmp/$binary_asset" "$bin" 0755
if [ "$service" = 1 ]; then
  place "$tmp/etcdns.service" "$unit" 0644
  place "$tmp/Corefile" "$corefile" 0644 keep
fi

# systemctl only for this machine's own systemd; a --root install is for someone else to boot.
systemctl_run() {
  if [ "$dry_run" = 1 ]; then
    say "would run: systemctl $*"
  else
    say "run: systemctl $*"
    systemctl "$@"
  fi
}
if [ "$service" = 1 ] && [ "$live" = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  active=0
  ! systemctl is-active --quiet etcdns.service || active=1
  case "$changed" in *"$unit"*) systemctl_run daemon-reload ;; esac
  [ "$now" = 0 ] || systemctl_run enable etcdns.service
  if [ "$active" = 1 ] && [ -n "$changed" ]; then
    # An upgrade: the running server picks up the new binary or unit.
    systemctl_run restart etcdns.service
  elif [ "$active" = 0 ] && [ "$now" = 1 ]; then
    systemctl_run start etcdns.service
  fi
elif [ "$service" = 1 ] && [ "$now" = 1 ]; then
  say "not starting etcdns.service: systemd is not running here${root:+ (--root $root)}"
fi

if [ "$dry_run" = 1 ]; then
  say "dry run: nothing was changed ($installed_version)"
elif [ -z "$changed" ]; then
  say "already up to date: $installed_version"
else
  say "installed $installed_version"
  if [ "$service" = 1 ] && [ "$now" = 0 ] && [ "$live" = 1 ]; then
    say "next: edit /etc/etcdns/Corefile, then: systemctl enable --now etcdns"
  fi
fi
