#!/usr/bin/env bash
# Builds the Debian package of the central service from a staged tree (dpkg-deb: nothing to
# install beyond dpkg itself):
#   $CARGO_TARGET_DIR/release/wardside-server_<version>_<arch>.deb
# holding /usr/bin/wardside-server, its settings (/etc/wardside-server/wardside-server.toml, a
# conffile), the hardened systemd unit, a nightly backup timer and the runbook. Then shows the
# package's control data and checks the units with `systemd-analyze verify` where it exists.
#
#   bash scripts/package-server.sh                      # a release build of the server
#   bash scripts/package-server.sh --binary PATH --out DIR   # package a binary already built
#                                                             # (the packaging test: a debug build)
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ -z "$binary" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wardside/target}"
  echo "==> cargo build --release -p wardside-server"
  cargo build -q --release --locked -p wardside-server
  binary="$CARGO_TARGET_DIR/release/wardside-server"
  out="${out:-$CARGO_TARGET_DIR/release}"
fi
out="${out:-.}"
mkdir -p "$out"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
arch=$(dpkg --print-architecture)
# The C library and GCC runtime the binary links: the newest glibc symbol version it needs.
glibc=$(objdump -T "$binary" | sed -n 's/.*GLIBC_\([0-9.]*\).*/\1/p' | sort -uV | tail -n1)
depends="libc6 (>= ${glibc}), libgcc-s1"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/wardside-server"
install -d "$root/DEBIAN" "$root/usr/bin" "$root/etc/wardside-server" \
  "$root/lib/systemd/system" "$root/usr/share/doc/wardside-server"
install -m 0755 -s "$binary" "$root/usr/bin/wardside-server" 2>/dev/null ||
  install -m 0755 "$binary" "$root/usr/bin/wardside-server"
install -m 0640 packaging/server/wardside-server.toml "$root/etc/wardside-server/"
install -m 0644 packaging/server/wardside-server.service packaging/server/wardside-server-backup.service \
  packaging/server/wardside-server-backup.timer "$root/lib/systemd/system/"
install -m 0644 docs/OPERATIONS.md "$root/usr/share/doc/wardside-server/"
install -m 0644 packaging/server/debian/conffiles "$root/DEBIAN/"
install -m 0755 packaging/server/debian/postinst packaging/server/debian/prerm \
  packaging/server/debian/postrm "$root/DEBIAN/"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" \
  packaging/server/debian/control >"$root/DEBIAN/control"
echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)" >>"$root/DEBIAN/control"

deb="$out/wardside-server_${version}_${arch}.deb"
echo "==> dpkg-deb --build $deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb"

if command -v systemd-analyze >/dev/null 2>&1; then
  echo "==> systemd-analyze verify"
  # The units as installed, but naming the staged binary (verify checks that ExecStart exists).
  units="$stage/units"
  mkdir "$units"
  for u in wardside-server.service wardside-server-backup.service wardside-server-backup.timer; do
    sed "s|/usr/bin/wardside-server|$root/usr/bin/wardside-server|g" "$root/lib/systemd/system/$u" >"$units/$u"
  done
  systemd-analyze verify "$units/wardside-server.service" "$units/wardside-server-backup.service" \
    "$units/wardside-server-backup.timer"
  echo "==> systemd-analyze security (the service's exposure; lower is better)"
  systemd-analyze security --offline=yes "$units/wardside-server.service" | tail -n1
fi
ls -l "$deb"
