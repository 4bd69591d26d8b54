#!/usr/bin/env bash
# Installs what the project needs from Debian's packages.  Idempotent and
# quick when everything is present: apt-get runs only for missing packages,
# and `apt-get update` runs once before the first install.
set -euo pipefail

PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libcurl4-openssl-dev libjansson-dev libyajl-dev zlib1g-dev libyaml-dev libpcre2-dev
      libsqlite3-dev libunistring-dev libmicrohttpd-dev libcmocka-dev tzdata ca-certificates
      python3 curl
      scdoc bash-completion dpkg-dev systemd man-db cppcheck clang-format
      chromium)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
fi
echo "setup: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
