#!/usr/bin/env bash
# usage: scripts/apt-install.sh LABEL PACKAGE...
# Installs the Debian packages that are not installed yet (as root, or with sudo); prints what
# it installs under LABEL. Shared by setup.sh and build-sanitize.sh.
set -euo pipefail
label="$1"; shift
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -gt 0 ] || exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "$label: installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
