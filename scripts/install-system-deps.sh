#!/usr/bin/env bash
# Installs the real servers the test suite starts: HAProxy 2.6 (Debian), Valkey 8
# (bookworm-backports), wrk and openssl. Idempotent; needs root (or sudo) only when
# something is missing.
set -euo pipefail

missing=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v valkey-server >/dev/null 2>&1 || missing+=(valkey)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# kubectl (for `kubectl kustomize` in tests/deploy) ships with this machine image; try apt if absent.
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-system-deps: missing ${missing[*]} and not root; install them with apt (see README)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian ${codename}-backports main" | $SUDO tee /etc/apt/sources.list.d/backports.list >/dev/null
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq haproxy wrk openssl >/dev/null
command -v kubectl >/dev/null 2>&1 || $SUDO apt-get install -y -qq kubectl >/dev/null || echo "install-system-deps: kubectl unavailable; tests/deploy will fail" >&2
$SUDO apt-get install -y -qq -t "${codename}-backports" valkey-server valkey-tools >/dev/null
# The Debian packages may start system services; the tests start their own servers on free ports.
$SUDO sh -c 'pkill -x haproxy; pkill -x valkey-server' 2>/dev/null || true
echo "install-system-deps: installed ${missing[*]}"
