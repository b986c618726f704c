#!/usr/bin/env bash
# Installs what the notebook and page tests need, from Debian: Jupyter's nbconvert and nbclient
# (run notebooks headlessly on the project's tslab kernel, export them to HTML) and Chromium
# (opens the exports and report pages headless, driven by npm playwright-core; no browser is
# downloaded). Needs root (apt). Idempotent: does nothing when all are installed.
set -euo pipefail

packages=(jupyter-nbconvert python3-nbclient jupyter-client chromium)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-notebook-tools: ${packages[*]} already installed" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then echo "install-notebook-tools: needs root for apt-get install ${missing[*]}" >&2; exit 2; fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
/usr/bin/python3 -c 'import nbclient, nbconvert, jupyter_client' || { echo "install-notebook-tools: /usr/bin/python3 cannot import nbclient/nbconvert" >&2; exit 1; }
command -v chromium >/dev/null || { echo "install-notebook-tools: chromium did not install" >&2; exit 1; }
echo "install-notebook-tools: installed ${missing[*]}" >&2
