#!/usr/bin/env bash
# Prepares the VM that runs the kernel suites (this host's kernel may have no IPVS): Debian's stock kernel
# and a small busybox initramfs, built once into a cache directory. scripts/vm/run.sh boots them.
#
#   bash scripts/vm/prepare.sh               install what is missing, fetch the kernel, build the initramfs
#   bash scripts/vm/prepare.sh --check       exit 0 only if everything is ready (no network, changes nothing)
#   bash scripts/vm/prepare.sh --image-dir   print the directory run.sh boots from (ready or not)
#
# Environment:
#   TSLVSD_VM_CACHE       cache directory (default ${XDG_CACHE_HOME:-$HOME/.cache}/tslvsd-vm)
#   TSLVSD_VM_KERNEL_DEB  use this linux-image .deb instead of downloading Debian's current one
#
# The image lives in a directory named by a hash of this script, the guest init and the module list:
# editing any of them makes --check fail until prepare.sh runs again, so a stale initramfs is never used
# silently, and checkouts of different versions (worktrees, CI beside a developer) each keep their own image
# beside one shared copy of the kernel package. The Debian packages come from scripts/setup/packages.txt
# (purpose vm-harness), installed by scripts/setup/ensure-packages.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${TSLVSD_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/tslvsd-vm}
ENSURE=$HERE/../setup/ensure-packages.sh
# Module trees copied whole, so the guest kernel can autoload what a lab asks for (nftables expressions,
# tc qdiscs, tunnel types) on top of the explicit list in modules.txt.
AUTOLOAD_TREES=(kernel/net/netfilter kernel/net/ipv4 kernel/net/ipv6 kernel/net/sched kernel/net/bridge)
BUSYBOX_APPLETS=(sh mount umount mkdir mkfifo cat sed modprobe insmod poweroff sync chroot ip hostname sleep echo kill)

recipe_hash() {
  cat "$HERE/prepare.sh" "$HERE/guest-init.sh" "$HERE/modules.txt" | sha256sum | cut -d' ' -f1
}

IMAGE=$CACHE/image-$(recipe_hash | cut -c1-16)

check() {
  local missing
  missing=$(bash "$ENSURE" --check vm-harness | tr '\n' ' ')
  if [[ -n $missing ]]; then echo "missing packages: $missing" >&2; return 1; fi
  for f in vmlinuz initrd.gz stamp; do
    [[ -s $IMAGE/$f ]] || { echo "not prepared: $IMAGE/$f missing (this recipe was never built here)" >&2; return 1; }
  done
  if [[ $(sed -n 's/^recipe=//p' "$IMAGE/stamp") != "$(recipe_hash)" ]]; then
    echo "not prepared: $IMAGE holds another recipe" >&2
    return 1
  fi
}

case ${1:-} in
  --check) check; exit ;;
  --image-dir) echo "$IMAGE"; exit 0 ;;
esac

export DEBIAN_FRONTEND=noninteractive
bash "$ENSURE" vm-harness || exit 1
# A dynamically linked busybox cannot run in the initramfs, which has no libc.
if ldd "$(command -v busybox)" >/dev/null 2>&1; then echo "prepare: $(command -v busybox) is not static (busybox-static)" >&2; exit 1; fi

if check 2>/dev/null; then
  echo "prepare: ready ($(sed -n 's/^kernel=//p' "$IMAGE/stamp"), $IMAGE)"
  exit 0
fi

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# The kernel: the package linux-image-amd64 currently depends on (Debian's stock kernel, with IPVS as modules).
if [[ -n ${TSLVSD_VM_KERNEL_DEB:-} ]]; then
  deb=$TSLVSD_VM_KERNEL_DEB
else
  kernel_package() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'; }
  pkg=$(kernel_package)
  [[ -n $pkg ]] || { apt-get update -qq; pkg=$(kernel_package); }
  [[ -n $pkg ]] || { echo "prepare: apt knows no linux-image-amd64 (is a Debian mirror configured?)" >&2; exit 1; }
  # Kept in the cache: a change to the recipe rebuilds the initramfs without fetching 70 MB again.
  deb=$(compgen -G "$CACHE/${pkg}_*.deb" | tail -n 1 || true)
  if [[ -z $deb ]]; then
    echo "prepare: downloading $pkg"
    # apt's sandbox user cannot write into root's cache; the warning about it is noise.
    apt-get download -q "$pkg" >/dev/null 2>&1 || { apt-get update -qq; apt-get download -q "$pkg" >/dev/null; }
    rm -f "$CACHE"/linux-image-*.deb
    mv "$WORK"/"$pkg"_*.deb "$CACHE"/
    deb=$(ls "$CACHE"/"$pkg"_*.deb | tail -n 1)
  fi
fi
dpkg-deb -x "$deb" kroot
KV=$(ls kroot/lib/modules)
[[ $(wc -w <<<"$KV") -eq 1 ]] || { echo "prepare: expected one kernel in $deb, found: $KV" >&2; exit 1; }
depmod -b kroot "$KV"
MODS=kroot/lib/modules/$KV

# The initramfs: static busybox, the guest init, and the listed modules with their dependencies.
R=initrd
mkdir -p $R/{bin,sbin,etc,proc,sys,dev,host,lib/modules/$KV}
cp "$(command -v busybox)" $R/bin/busybox
for a in "${BUSYBOX_APPLETS[@]}"; do ln -s busybox "$R/bin/$a"; done
# The kernel's module autoloader runs /sbin/modprobe in the initramfs' root, not in the chroot.
ln -s ../bin/busybox $R/sbin/modprobe
cp "$HERE/guest-init.sh" $R/init
chmod 755 $R/init

wanted=()
while read -r name; do wanted+=("$name"); done < <(sed 's/#.*//; /^[[:space:]]*$/d' "$HERE/modules.txt")
: >$R/etc/modules
for name in "${wanted[@]}"; do
  # --show-depends lists the .ko files to load, dependencies first ("builtin X" for built-in ones).
  if deps=$(modprobe -d kroot -S "$KV" --show-depends "$name" 2>/dev/null); then
    echo "$name" >>$R/etc/modules
    while read -r verb path _; do
      [[ $verb == insmod ]] || continue
      rel=${path#*/lib/modules/$KV/}
      mkdir -p "$R/lib/modules/$KV/$(dirname "$rel")"
      cp -n "$MODS/$rel" "$R/lib/modules/$KV/$rel"
    done <<<"$deps"
  else
    echo "prepare: kernel $KV has no module $name (skipped)"
  fi
done
(cd "$MODS" && cp -r --parents "${AUTOLOAD_TREES[@]}" "$WORK/$R/lib/modules/$KV/")
# Anything the autoload trees need from elsewhere (lib/, crypto/, drivers/): copy until closed.
while :; do
  depmod -b $R "$KV" 2>/dev/null
  absent=$(sed 's/:/ /' $R/lib/modules/"$KV"/modules.dep | tr ' ' '\n' | sed '/^$/d' | sort -u |
    while read -r rel; do [[ -e $R/lib/modules/$KV/$rel ]] || echo "$rel"; done)
  [[ -z $absent ]] && break
  for rel in $absent; do
    mkdir -p "$R/lib/modules/$KV/$(dirname "$rel")"
    cp "$MODS/$rel" "$R/lib/modules/$KV/$rel"
  done
done
cp "$MODS"/modules.builtin* "$MODS"/modules.order $R/lib/modules/"$KV"/
depmod -b $R "$KV"

(cd $R && find . | cpio -o -H newc --quiet | gzip -6) >initrd.gz
cp kroot/boot/vmlinuz-"$KV" vmlinuz
printf 'kernel=%s\nrecipe=%s\nbuilt=%s\n' "$KV" "$(recipe_hash)" "$(date -u +%FT%TZ)" >stamp
# The stamp goes in last, so an interrupted run leaves no image that --check would take for ready.
mkdir -p "$IMAGE"
mv -f vmlinuz initrd.gz "$IMAGE"/
mv -f stamp "$IMAGE"/
echo "prepare: ready ($KV, initramfs $(du -h "$IMAGE/initrd.gz" | cut -f1), $IMAGE)"
