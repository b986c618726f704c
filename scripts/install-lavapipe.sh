#!/usr/bin/env bash
# Installs Mesa >= 25 (lavapipe, a software Vulkan driver) from Debian bookworm-backports, so that
# Dawn (npm `webgpu`) finds a Vulkan adapter on a machine without a GPU. bookworm's own Mesa 22.3
# is refused by Dawn. Backports is not in apt's sources by default: we add it with the same mirror
# as the existing Debian entries. Needs root (apt). Idempotent.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then echo "install-lavapipe: needs root for apt-get" >&2; exit 2; fi

have_mesa_25() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 25
}

if have_mesa_25; then
  echo "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed" >&2
  exit 0
fi

. /etc/os-release
codename=${VERSION_CODENAME:-bookworm}
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # The mirror the existing entries use (deb822 'URIs:' or one-line 'deb URL suite').
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | grep -v security | head -n1 | awk '{print $2}')
  [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | grep -v security | head -n1 | awk '{print $2}')
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  cat > /etc/apt/sources.list.d/backports.sources <<SRC
Types: deb
URIs: ${mirror}
Suites: ${codename}-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  echo "install-lavapipe: added ${codename}-backports from ${mirror}" >&2
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t "${codename}-backports" mesa-vulkan-drivers libvulkan1 >/dev/null
have_mesa_25 || { echo "install-lavapipe: mesa-vulkan-drivers >= 25 did not install" >&2; exit 1; }
echo "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)" >&2
