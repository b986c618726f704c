#!/usr/bin/env bash
# Installs the Debian packages that are missing: bash scripts/apt-ensure.sh <who> <package>…
# Does nothing when all are installed; otherwise needs root (apt-get). <who> names the caller in
# its messages. Exit 0: all installed (1 line on stderr says which were added); 2: not root.
set -euo pipefail

who=$1
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "$who: $* already installed" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then echo "$who: needs root for apt-get install ${missing[*]}" >&2; exit 2; fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "$who: installed ${missing[*]}" >&2
