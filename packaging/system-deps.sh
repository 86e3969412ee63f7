#!/usr/bin/env bash
# Installs the Debian packages that packaging/debian-packages.txt lists for the given uses
# (build, run, demo, test, bench) and that are not installed yet. Nothing runs when all are
# there; `apt-get update` only when something is missing. Not root, or not Debian: one line
# naming what is missing and the command, and the caller goes on where it can.
#   packaging/system-deps.sh build test      install for those uses
#   packaging/system-deps.sh --list test     print the packages for those uses
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list_only=0
[ "${1:-}" = "--list" ] && { list_only=1; shift; }
uses=" ${*:-build run demo test bench} "
pkgs=()
while read -r pkg for _; do
  for u in ${for//,/ }; do
    if [[ "$uses" == *" $u "* ]]; then pkgs+=("$pkg"); break; fi
  done
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/debian-packages.txt")
[ "$list_only" = 1 ] && { printf '%s\n' "${pkgs[@]}"; exit 0; }
[ ${#pkgs[@]} -eq 0 ] && exit 0

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "vigil: not a Debian system: install the equivalents of ${pkgs[*]} by hand" >&2
  exit 0
fi
mapfile -t installed < <(dpkg-query -W -f='${db:Status-Status} ${Package}\n' "${pkgs[@]}" 2>/dev/null | awk '$1 == "installed" { print $2 }')
missing=()
for p in "${pkgs[@]}"; do
  [[ " ${installed[*]} " == *" $p "* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "vigil: missing Debian packages (tests that need them will skip): sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
echo "vigil: installing the Debian packages it needs: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || { echo "vigil: apt-get update failed" >&2; exit 1; }
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
  || { echo "vigil: apt-get install ${missing[*]} failed" >&2; exit 1; }
