#!/usr/bin/env bash
# Runs one command as root inside a throwaway VM booted from Debian's stock kernel (which has IPVS), and exits
# with the command's exit code. Prepare the VM once with scripts/vm/prepare.sh.
#
#   bash scripts/vm/run.sh CMD [ARGS...]
#   e.g. bash scripts/vm/run.sh ipvsadm -Ln
#        bash scripts/vm/run.sh node node_modules/vitest/vitest.mjs run --project vm
#
# Inside: the host's root read-only over 9p; tmpfs on /tmp, /run, /var/tmp, /var/log, /dev/shm; this
# checkout read-write at the same path; the command runs there (in the same subdirectory, if started from
# one), with its arguments passed exactly (never re-parsed by a shell) and stdout and stderr merged.
# qemu uses software emulation (TCG): KVM guests hang at boot on the machines this runs on.
#
# Environment:
#   TSLVSD_VM_TIMEOUT   seconds before the VM is killed (default 1200; exit code 124)
#   TSLVSD_VM_MEM       guest memory in MiB (default 2048)
#   TSLVSD_VM_CPUS      guest CPUs (default 1; TCG runs one host thread per guest CPU)
#   TSLVSD_VM_CACHE     as in prepare.sh
#   TSLVSD_VM_PASSENV   extra variable names to pass into the guest, space-separated
# Every TSLVSD_* variable, and CI NO_COLOR FORCE_COLOR NODE_OPTIONS DEBUG, are passed into the guest.
# Exit codes besides the command's: 124 timeout, 125 the VM failed before the command ran, 130/143 interrupted.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CHECKOUT=$(cd "$HERE/../.." && pwd)
TIMEOUT=${TSLVSD_VM_TIMEOUT:-1200}
START_MARK='=== tslvsd-vm: command starts'
END_MARK='=== tslvsd-vm: command ended'

if [[ $# -eq 0 ]]; then echo "usage: $0 CMD [ARGS...]" >&2; exit 2; fi
if ! bash "$HERE/prepare.sh" --check; then
  echo "run.sh: the VM is not ready: run bash scripts/vm/prepare.sh" >&2
  exit 125
fi
IMAGE=$(bash "$HERE/prepare.sh" --image-dir)

# Single-quote a word for the guest's /bin/sh: inside '...' nothing is special but the quote itself.
quote() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

# The exchange directory, shared read-write as /run/tslvsd-vm: the checkout path and the command go in,
# the exit code comes out.
X=$(mktemp -d "${TMPDIR:-/tmp}/tslvsd-vm.XXXXXX")
qemu_pid=
reader_pid=
interrupted=
cleanup() {
  [[ -n $qemu_pid ]] && kill -TERM "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
  [[ -n $reader_pid ]] && wait "$reader_pid" 2>/dev/null
  [[ -n ${TSLVSD_VM_KEEP:-} ]] && cp -r "$X" /tmp/vmkeep; rm -rf "$X"
}
trap cleanup EXIT
trap 'interrupted=130; kill -TERM "$qemu_pid" 2>/dev/null' INT
trap 'interrupted=143; kill -TERM "$qemu_pid" 2>/dev/null' TERM

printf '%s\n' "$CHECKOUT" >"$X/checkout"
cwd=$CHECKOUT
[[ $PWD == "$CHECKOUT" || $PWD == "$CHECKOUT"/* ]] && cwd=$PWD
{
  echo "# written by scripts/vm/run.sh"
  # Output reaches the host through a pipe and a serial line: no terminal there.
  echo "export HOME=/tmp/home TERM=dumb PATH=$(quote "$PATH")"
  echo "mkdir -p /tmp/home"
  passenv=(CI NO_COLOR FORCE_COLOR NODE_OPTIONS DEBUG ${TSLVSD_VM_PASSENV:-})
  while IFS= read -r name; do passenv+=("$name"); done < <(compgen -e | grep '^TSLVSD_' || true)
  for name in "${passenv[@]}"; do
    [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ && -n ${!name+set} ]] && echo "export $name=$(quote "${!name}")"
  done
  # Set by the guest's init (guest-init.sh); tests use TSLVSD_VM to know where they are.
  echo "export TSLVSD_VM=1 TSLVSD_VM_MODULES_ROOT=/run/tslvsd-guest"
  echo "cd $(quote "$cwd") || exit 125"
  printf 'set --'
  for word in "$@"; do printf ' %s' "$(quote "$word")"; done
  printf '\n"$@"\necho $? >/run/tslvsd-vm/rc\n'
} >"$X/command.sh"

# Console lines: before the start mark (boot) and after the end mark (power-off) into a log shown only if the
# command never ran; between them, the command's output, streamed.
mkfifo "$X/console"
read_console() {
  local state=boot line started=$EPOCHREALTIME
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    case $state in
      boot)
        # SeaBIOS leaves terminal escapes without a newline before the kernel speaks.
        if [[ $line == *"$START_MARK" ]]; then
          state=run
          awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "### vm: command started %.1f s after qemu\n", b - a }' >&2
        else
          printf '%s\n' "$line" >>"$X/boot.log"
        fi ;;
      run)
        # Output that does not end with a newline runs into the mark: print it as it was.
        if [[ $line == *"$END_MARK" ]]; then state=done; printf '%s' "${line%"$END_MARK"}"; else printf '%s\n' "$line"; fi ;;
      done) printf '%s\n' "$line" >>"$X/boot.log" ;;
    esac
  done
}
read_console <"$X/console" &
reader_pid=$!

# qemu options are comma-separated: a comma in a path is written twice.
# timeout(1) runs qemu in its own process group, so a Ctrl-C reaches only this script, which then stops qemu.
timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 \
  -accel tcg -cpu max -m "${TSLVSD_VM_MEM:-2048}" -smp "${TSLVSD_VM_CPUS:-1}" \
  -nodefaults -no-user-config -nographic -no-reboot -serial stdio -monitor none -nic none \
  -device virtio-rng-pci \
  -kernel "$IMAGE/vmlinuz" -initrd "$IMAGE/initrd.gz" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=${CHECKOUT//,/,,},mount_tag=checkout,security_model=none,multidevs=remap" \
  -virtfs "local,path=${X//,/,,},mount_tag=xfer,security_model=none,multidevs=remap" \
  </dev/null >"$X/console" 2>&1 &
qemu_pid=$!
wait "$qemu_pid"
qemu_rc=$?
# A trapped signal interrupts wait before qemu has gone: wait again for it to stop.
while kill -0 "$qemu_pid" 2>/dev/null; do wait "$qemu_pid"; done
qemu_pid=
wait "$reader_pid"
reader_pid=

if [[ -n $interrupted ]]; then echo "### vm: interrupted" >&2; exit "$interrupted"; fi
if [[ $qemu_rc -eq 124 || $qemu_rc -eq 137 ]]; then
  echo "### vm: timed out after ${TIMEOUT}s (TSLVSD_VM_TIMEOUT)" >&2
  exit 124
fi
if [[ ! -s $X/rc ]]; then
  echo "### vm: the command did not finish (qemu exit $qemu_rc); console:" >&2
  tail -n 40 "$X/boot.log" >&2 2>/dev/null
  exit 125
fi
exit "$(cat "$X/rc")"
