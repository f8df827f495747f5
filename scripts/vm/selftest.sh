#!/usr/bin/env bash
# The harness's own contract, checked from the host (the vm tier runs it before the kernel suites):
# arguments arrive exactly, the exit code comes back, a timeout or an interrupt stops qemu, nothing is left
# behind. Prints TAP lines (`ok N - what` / `not ok N - what`) and exits 1 if any check failed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# A private TMPDIR: run.sh's exchange directory lands in it, so leftovers and live qemu are easy to find.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/tslvsd-vm-selftest.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
export TMPDIR=$SCRATCH
n=0
failed=0
check() { # check NAME COND-EXIT-CODE [detail]
  n=$((n + 1))
  if [[ $2 -eq 0 ]]; then echo "ok $n - $1"; else echo "not ok $n - $1${3:+ ($3)}"; failed=$((failed + 1)); fi
}
no_leftovers() {
  [[ -z $(ls -A "$SCRATCH") ]] && ! pgrep -f -- "$SCRATCH" >/dev/null
}

# 1. Arguments with spaces, quotes, `$`, backslashes, an empty one and a newline reach the program unchanged.
args=('a b' "c'd" '$HOME' '' 'e"f\g' $'line\nbreak')
expected=$(printf '<%s>' "${args[@]}")
got=$(bash "$HERE/run.sh" printf '<%s>' "${args[@]}" 2>/dev/null)
check "arguments arrive exactly" "$([[ $got == "$expected" ]]; echo $?)" "got: $got"
check "no temp files and no qemu left after a run" "$(no_leftovers; echo $?)"

# 2. The command's exit code is run.sh's, and the command runs in the checkout.
out=$(bash "$HERE/run.sh" sh -c 'pwd; exit 7' 2>/dev/null)
rc=$?
check "exit code comes back" "$([[ $rc -eq 7 ]]; echo $?)" "rc $rc"
check "runs in the checkout" "$([[ $out == "$(cd "$HERE/../.." && pwd)" ]]; echo $?)" "pwd $out"

# 3. A command that outlives TSLVSD_VM_TIMEOUT: qemu is killed, exit 124, nothing left.
start=$SECONDS
TSLVSD_VM_TIMEOUT=25 bash "$HERE/run.sh" sleep 600 >/dev/null 2>&1
rc=$?
check "timeout kills the VM with exit 124" "$([[ $rc -eq 124 && $((SECONDS - start)) -lt 60 ]]; echo $?)" "rc $rc after $((SECONDS - start)) s"
check "no temp files and no qemu left after a timeout" "$(no_leftovers; echo $?)"

# 4. An interrupt (Ctrl-C) while the command runs: qemu stops, exit 130, nothing left.
# Job control on: otherwise a background job starts with SIGINT ignored, and could not be interrupted.
set -m
bash "$HERE/run.sh" sleep 600 >/dev/null 2>&1 &
runner=$!
set +m
sleep 20 # into the command (boot takes 5-15 s)
kill -INT "$runner"
wait "$runner"
rc=$?
check "Ctrl-C stops the VM with exit 130" "$([[ $rc -eq 130 ]]; echo $?)" "rc $rc"
sleep 1
check "no temp files and no qemu left after Ctrl-C" "$(no_leftovers; echo $?)"

echo "1..$n"
[[ $failed -eq 0 ]]
