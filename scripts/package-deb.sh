#!/usr/bin/env bash
# `npm run package:deb`: builds dist-deb/tslvsd_VERSION_ARCH.deb with dpkg-deb alone (no debhelper, no
# fakeroot: --root-owner-group), from the esbuild bundle (scripts/bundle.mjs) and packaging/deb/:
#
#   /usr/bin/tslvsd -> ../lib/tslvsd/tslvsd.mjs   the bundled CLI and daemon (#!/usr/bin/node --optimize-for-size)
#   /usr/lib/tslvsd/                               the rest of the bundle and the prebuilt addons (stripped)
#   /lib/systemd/system/tslvsd.service            systemd/tslvsd.service (bookworm's unit directory)
#   /lib/systemd/system/tslvsd-withdraw-routes.service   its OnFailure= unit (announce_route's routes)
#   /etc/tslvsd.conf                               conffile, etc/tslvsd.conf.example
#   /etc/default/tslvsd                            conffile, etc/default/tslvsd (DAEMON_ARGS)
#   /usr/share/man/man8/tslvsd.8.gz, man5/tslvsd.conf.5.gz
#   /usr/share/bash-completion/completions/tslvsd
#   /usr/share/doc/tslvsd/{copyright,changelog.Debian.gz}
#   /usr/share/lintian/overrides/tslvsd
#
#   bash scripts/package-deb.sh [--outdir DIR]      prints the .deb's path last
#
# Reproducible: every timestamp is the last commit's (SOURCE_DATE_EPOCH overrides), gzip -9n, sorted md5sums.
# Maintainer: DEBFULLNAME / DEBEMAIL override the default.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUTDIR=$ROOT/dist-deb
[[ ${1:-} == --outdir ]] && OUTDIR=$(realpath -m "${2:?--outdir needs a directory}")
PKG=$ROOT/packaging/deb

VERSION=$(node -p "require('$ROOT/package.json').version")-${TSLVSD_DEB_REVISION:-1}
ARCH=$(dpkg --print-architecture)
MAINTAINER="${DEBFULLNAME:-tslvsd developers} <${DEBEMAIL:-tslvsd@users.noreply.github.com}>"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/tslvsd-deb.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
BUNDLE=$STAGE/bundle
ROOTFS=$STAGE/root
node "$ROOT/scripts/bundle.mjs" --outdir "$BUNDLE"

# The program.
LIB=$ROOTFS/usr/lib/tslvsd
install -d "$LIB" "$ROOTFS/usr/bin"
for file in "$BUNDLE"/*.mjs "$BUNDLE"/package.json; do install -m 0644 "$file" "$LIB/"; done
# The installed entry runs Debian's node directly (not through env, whose PATH lookup could pick another).
# V8's memory-saving mode, as bin/tslvsd.js runs it (see there): one argument, so
# no env -S is needed with the interpreter's full path.
sed -i '1s|^#!.*$|#!/usr/bin/node --optimize-for-size|' "$LIB/tslvsd.mjs"
head -1 "$LIB/tslvsd.mjs" | grep -qx '#!/usr/bin/node --optimize-for-size' || { echo "package-deb: tslvsd.mjs has no #! line" >&2; exit 1; }
chmod 0755 "$LIB/tslvsd.mjs"
for file in "$BUNDLE"/*.node; do
  install -m 0644 "$file" "$LIB/"
  strip --strip-unneeded --remove-section=.comment --remove-section=.note "$LIB/$(basename "$file")"
done
ln -s ../lib/tslvsd/tslvsd.mjs "$ROOTFS/usr/bin/tslvsd"

# Service, configuration.
install -D -m 0644 "$ROOT/systemd/tslvsd.service" "$ROOTFS/lib/systemd/system/tslvsd.service"
install -D -m 0644 "$ROOT/systemd/tslvsd-withdraw-routes.service" "$ROOTFS/lib/systemd/system/tslvsd-withdraw-routes.service"
grep -q '^ExecStart=/usr/bin/tslvsd ' "$ROOTFS/lib/systemd/system/tslvsd.service" ||
  { echo "package-deb: systemd/tslvsd.service: ExecStart is not /usr/bin/tslvsd" >&2; exit 1; }
install -D -m 0644 "$ROOT/etc/tslvsd.conf.example" "$ROOTFS/etc/tslvsd.conf"
install -D -m 0644 "$ROOT/etc/default/tslvsd" "$ROOTFS/etc/default/tslvsd"

# Documentation.
DOC=$ROOTFS/usr/share/doc/tslvsd
install -d "$DOC" "$ROOTFS/usr/share/man/man8" "$ROOTFS/usr/share/man/man5"
for page in tslvsd.8:man8 tslvsd.conf.5:man5; do
  name=${page%%:*}
  sed "s/@VERSION@/${VERSION%-*}/" "$PKG/man/$name" | gzip -9n >"$ROOTFS/usr/share/man/${page##*:}/$name.gz"
done
install -D -m 0644 "$PKG/tslvsd.bash-completion" "$ROOTFS/usr/share/bash-completion/completions/tslvsd"
install -D -m 0644 "$PKG/lintian-overrides" "$ROOTFS/usr/share/lintian/overrides/tslvsd"
CHANGELOG_DATE=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
{
  printf 'tslvsd (%s) unstable; urgency=medium\n\n' "$VERSION"
  printf '  * Built by `npm run package:deb` from the tslvsd repository (commit %s).\n' \
    "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  printf '\n -- %s  %s\n' "$MAINTAINER" "$CHANGELOG_DATE"
} | gzip -9n >"$DOC/changelog.Debian.gz"
node "$ROOT/scripts/deb-copyright.mjs" "$BUNDLE/bundled-packages.json" >"$DOC/copyright"

# Control files.
install -d "$ROOTFS/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "$PKG/$script" "$ROOTFS/DEBIAN/$script"; done
printf '/etc/default/tslvsd\n/etc/tslvsd.conf\n' >"$ROOTFS/DEBIAN/conffiles"
INSTALLED_SIZE=$(du -sk --apparent-size --exclude=DEBIAN "$ROOTFS" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" \
  -e "s/@MAINTAINER@/$MAINTAINER/" "$PKG/control" >"$ROOTFS/DEBIAN/control"
(cd "$ROOTFS" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  >"$ROOTFS/DEBIAN/md5sums"
chmod 0644 "$ROOTFS/DEBIAN/control" "$ROOTFS/DEBIAN/conffiles" "$ROOTFS/DEBIAN/md5sums"
find "$ROOTFS" -type d -exec chmod 0755 {} +
find "$ROOTFS" -exec touch --no-dereference -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$OUTDIR"
DEB=$OUTDIR/tslvsd_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$ROOTFS" "$DEB" >/dev/null
echo "package-deb: $(du -k "$DEB" | cut -f1) KiB, $(dpkg-deb -c "$DEB" | wc -l) entries"
echo "$DEB"
