#!/usr/bin/env bash
# Installs the Debian packages that the named purposes need (scripts/setup/packages.txt) and this machine
# lacks, naming each one; as root only. The one installer the test runner, the demo, the VM harness and CI use.
#
#   bash scripts/setup/ensure-packages.sh PURPOSE...          install what is missing (root)
#   bash scripts/setup/ensure-packages.sh --check PURPOSE...  list what is missing on stdout; exit 1 if any
#   bash scripts/setup/ensure-packages.sh --list PURPOSE...   the packages the purposes need, one a line
#
# Exit codes: 0 all there, 1 missing (--check) or the install failed, 2 usage (unknown purpose), 3 missing and
# not root (the one sentence on stderr names them and says how to install them).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIST=$HERE/packages.txt
mode=install
case ${1:-} in --check) mode=check; shift ;; --list) mode=list; shift ;; esac
[[ $# -gt 0 ]] || { echo "usage: $0 [--check|--list] PURPOSE... (purposes: $(sed -n 's/^\([a-z0-9-]*\):.*/\1/p' "$LIST" | tr '\n' ' '))" >&2; exit 2; }

# packages_of PURPOSE: its packages, @includes resolved (depth-first; the list is small and acyclic).
packages_of() {
  local line word
  line=$(grep -E "^$1:" "$LIST") || { echo "ensure-packages: unknown purpose '$1' (see $LIST)" >&2; return 2; }
  for word in ${line#*:}; do
    if [[ $word == @* ]]; then packages_of "${word#@}" || return; else echo "$word"; fi
  done
}
wanted=()
for purpose in "$@"; do
  out=$(packages_of "$purpose") || exit 2
  [[ -n $out ]] && mapfile -t -O "${#wanted[@]}" wanted <<<"$out"
done
[[ ${#wanted[@]} -gt 0 ]] && mapfile -t wanted < <(printf '%s\n' "${wanted[@]}" | sort -u)
if [[ $mode == list ]]; then [[ ${#wanted[@]} -gt 0 ]] && printf '%s\n' "${wanted[@]}"; exit 0; fi

# Installed means dpkg says "install ok installed" (a removed package leaves "deinstall ... config-files").
missing_packages() {
  local p
  for p in "${wanted[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || echo "$p"
  done
}
missing=()
[[ ${#wanted[@]} -gt 0 ]] && mapfile -t missing < <(missing_packages)
if [[ $mode == check ]]; then
  [[ ${#missing[@]} -eq 0 ]] && exit 0
  printf '%s\n' "${missing[@]}"
  exit 1
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "setup: missing Debian packages for $*: ${missing[*]} (run as root to have them installed, or: sudo apt-get install ${missing[*]})" >&2
  exit 3
fi
echo "setup: installing Debian packages for $*: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian starts a daemon it installs (keepalived) where an init system runs; the tests and the demo start
# their own. policy-rc.d is Debian's switch for that; one placed by someone else is left alone.
policy=
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  policy=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\n# tslvsd setup: no daemon starts while packages install\nexit 101\n' >"$policy" && chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
# A fresh machine may have no package lists yet (or stale ones naming versions gone from the mirror).
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -qq || { echo "setup: apt-get update failed" >&2; exit 1; }
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { echo "setup: apt-get install ${missing[*]} failed" >&2; exit 1; }
fi
still=()
mapfile -t still < <(missing_packages)
if [[ ${#still[@]} -gt 0 ]]; then echo "setup: still missing after apt-get install: ${still[*]}" >&2; exit 1; fi
echo "setup: installed ${missing[*]}"
