#!/usr/bin/env bash
# Installs what the notebook and page tests need, from Debian: Jupyter's nbconvert and nbclient
# (run notebooks headlessly on the project's tslab kernel, export them to HTML) and Chromium
# (opens the exports and report pages headless, driven by npm playwright-core; no browser is
# downloaded). Needs root (apt). Idempotent: does nothing when all are installed.
set -euo pipefail

bash "$(dirname "$0")/apt-ensure.sh" install-notebook-tools jupyter-nbconvert python3-nbclient jupyter-client chromium python3-scipy
/usr/bin/python3 -c 'import nbclient, nbconvert, jupyter_client' || { echo "install-notebook-tools: /usr/bin/python3 cannot import nbclient/nbconvert" >&2; exit 1; }
command -v chromium >/dev/null || { echo "install-notebook-tools: chromium did not install" >&2; exit 1; }
