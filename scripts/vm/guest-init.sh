#!/bin/sh
# PID 1 of the test VM (busybox sh in the initramfs built by prepare.sh; run.sh boots it).
# Loads the modules, mounts the host's root read-only as the guest's root (with tmpfs where programs write),
# the per-run exchange directory and the checkout read-write, then runs the command run.sh wrote, and powers
# off. The command's exit code travels back in the exchange directory, not on the console.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

while read -r m; do
  modprobe "$m" 2>/dev/null || echo "tslvsd-vm: module $m did not load"
done </etc/modules

V9P=trans=virtio,version=9p2000.L,msize=512000
# The host's root is read-only here, so the page cache may keep what it read.
mount -t 9p -o $V9P,ro,cache=loose hostroot /host || { echo "tslvsd-vm: cannot mount the host root"; poweroff -f; }
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/pts /host/dev/shm 2>/dev/null
mount -t devpts devpts /host/dev/pts
mount -t tmpfs shm /host/dev/shm
# Where programs write: /tmp, /run (ip netns, pid files), /var/tmp, /var/log.
for d in /tmp /run /var/tmp /var/log; do mount -t tmpfs -o mode=1777 tmpfs /host$d; done
chmod 755 /host/run /host/var/log
# The guest kernel's modules (the host's root has none for this kernel), for kmod in the command:
# `modprobe -d /run/tslvsd-guest ip_vs` (run.sh exports this as TSLVSD_VM_MODULES_ROOT).
mkdir -p /host/run/tslvsd-guest/lib/modules
mount -o bind /lib/modules /host/run/tslvsd-guest/lib/modules
mkdir -p /host/run/tslvsd-vm
mount -t 9p -o $V9P xfer /host/run/tslvsd-vm
X=/host/run/tslvsd-vm
P=$(cat $X/checkout)
mkdir -p "/host$P" 2>/dev/null
# cache=loose: the guest keeps what it read in its page cache. Without it every stat and read of node_modules
# crosses 9p again, and loading the daemon took 39 s instead of 19 s under TCG (measured at load 9). The host
# does not change the checkout while a VM runs, and the guest's writes reach it by the sync before power-off.
mount -t 9p -o $V9P,cache=loose checkout "/host$P" || { echo "tslvsd-vm: cannot mount the checkout $P"; poweroff -f; }

hostname tslvsd-vm
ip link set lo up

echo "=== tslvsd-vm: command starts"
# Output through a pipe, not the serial tty: programs then print plain lines, not terminal animations.
mkfifo /output
cat /output &
reader=$!
chroot /host /bin/sh /run/tslvsd-vm/command.sh </dev/null >/output 2>&1
# A process the command left behind may still hold the pipe open: end every process but the reader (kernel
# threads ignore the signal), so the reader sees the end of the output and finishes printing it.
for p in /proc/[0-9]*; do
  p=${p#/proc/}
  [ "$p" = 1 ] || [ "$p" = "$reader" ] || kill -KILL "$p" 2>/dev/null
done
wait $reader
echo "=== tslvsd-vm: command ended"
sync
poweroff -f
