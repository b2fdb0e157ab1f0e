#!/usr/bin/env bash
# Installs what the test suite runs against, from Debian's archive alone:
#   host (Debian 12):   HAProxy 2.6, Valkey 8 (bookworm-backports), wrk, openssl, debootstrap
#   root "trixie":      HAProxy 3.0
#   root "sid":         HAProxy 3.2, Valkey 9, kustomize
#   root "experimental": HAProxy 3.4 (a copy of the sid root with experimental's haproxy)
#   containers:         podman and local images, by scripts/install-container-env.sh (run last)
# The newer packages need a newer glibc than the host's, so each lives in its own debootstrap root
# under the cache directory, and small wrappers in $CACHE/bin run them with their root's own
# dynamic loader: paths, sockets, PIDs and the network stay the host's, and no chroot (and no root
# privilege) is needed to run them.
#
# Idempotent: it checks first and does nothing (no apt-get update, no sudo) when everything is
# present. A root counts as built only when its stamp exists, written last; a half-built root is
# removed and rebuilt. Packages never start services here (policy-rc.d), and nothing is stopped.
#
#   SPOA_TEST_CACHE   cache directory (default /var/cache/spoa-gcra-test; the tests read it too)
#   MIRROR            Debian mirror (default: the first Debian URI in the host's apt sources)
set -euo pipefail

CACHE=${SPOA_TEST_CACHE:-/var/cache/spoa-gcra-test}
ROOTS="$CACHE/roots"
BIN="$CACHE/bin"
HOST_PACKAGES=(haproxy wrk openssl debootstrap)
BACKPORT_PACKAGES=(valkey-server valkey-tools)
# root name → debootstrap suite and packages; "experimental" is derived from "sid".
declare -A ROOT_SUITE=([trixie]=trixie [sid]=sid)
declare -A ROOT_PACKAGES=([trixie]=haproxy [sid]=haproxy,valkey-server,valkey-tools,kustomize)
ROOT_ORDER=(trixie sid experimental)

# shellcheck source=install-common.sh
. "$(dirname "$0")/install-common.sh"
root_complete() { [ -f "$ROOTS/$1.done" ]; }

missing_host=() missing_backports=() missing_roots=()
for p in "${HOST_PACKAGES[@]}"; do installed "$p" || missing_host+=("$p"); done
for p in "${BACKPORT_PACKAGES[@]}"; do installed "$p" || missing_backports+=("$p"); done
for r in "${ROOT_ORDER[@]}"; do root_complete "$r" || missing_roots+=("$r"); done
wrappers_ok=1
for w in haproxy-2.6 haproxy-3.0 haproxy-3.2 haproxy-3.4 valkey-server-8 valkey-cli-8 valkey-server-9 valkey-cli-9 kustomize; do
  [ -x "$BIN/$w" ] || wrappers_ok=0
done

# The containers (podman, its config, local images from these roots) are the second half.
CONTAINER_ENV="$(dirname "$0")/install-container-env.sh"
if [ ${#missing_host[@]} -eq 0 ] && [ ${#missing_backports[@]} -eq 0 ] && [ ${#missing_roots[@]} -eq 0 ] && [ $wrappers_ok -eq 1 ]; then
  exec env SPOA_TEST_CACHE="$CACHE" bash "$CONTAINER_ENV"
fi

if [ "$(id -u)" -ne 0 ]; then
  rerun_with_sudo "$@"
  echo "install-test-env: missing: ${missing_host[*]} ${missing_backports[*]} ${missing_roots[*]}; run this script as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
started=$(date +%s)
did=()
log() { echo "install-test-env: $*"; }

MIRROR=${MIRROR:-$(debian_mirror)}

# ---- host packages ----
if [ ${#missing_host[@]} -gt 0 ] || [ ${#missing_backports[@]} -gt 0 ]; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  if [ ${#missing_backports[@]} -gt 0 ] && ! grep -rqs -- "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$MIRROR" "$codename" >/etc/apt/sources.list.d/spoa-gcra-test-backports.sources
    log "added apt source ${codename}-backports (/etc/apt/sources.list.d/spoa-gcra-test-backports.sources)"
  fi
  apt-get update -qq
  install_host() {
    [ ${#missing_host[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${missing_host[@]}" >/dev/null
    [ ${#missing_backports[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends -t "${codename}-backports" "${missing_backports[@]}" >/dev/null
  }
  with_policy "" install_host
  did+=("host: ${missing_host[*]} ${missing_backports[*]}")
fi

# ---- roots ----
in_root() { local dir="$1"; shift; chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
NO_VALID_UNTIL=(-o Acquire::Check-Valid-Until=false)

build_debootstrap_root() { # name
  local name="$1" dir="$ROOTS/$1"
  # The policy goes in before debootstrap unpacks anything, so even --include'd packages stay stopped.
  mkdir -p "$dir/usr/sbin"
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  debootstrap --variant=minbase --include="${ROOT_PACKAGES[$name]}" "${ROOT_SUITE[$name]}" "$dir" "$MIRROR" >"$ROOTS/$name.log" 2>&1 ||
    { tail -20 "$ROOTS/$name.log" >&2; return 1; }
  in_root "$dir" apt-get clean
}

build_experimental_root() { # a copy of the finished sid root, with experimental's haproxy
  local dir="$ROOTS/experimental"
  cp -a "$ROOTS/sid" "$dir"
  echo "deb $MIRROR experimental main" >"$dir/etc/apt/sources.list.d/experimental.list"
  # sid's and experimental's Release files may be past Valid-Until on a snapshot mirror.
  in_root "$dir" apt-get "${NO_VALID_UNTIL[@]}" update -qq >"$ROOTS/experimental.log" 2>&1 &&
    with_policy "$dir" in_root "$dir" apt-get "${NO_VALID_UNTIL[@]}" install -y -qq --no-install-recommends -t experimental haproxy >>"$ROOTS/experimental.log" 2>&1 ||
    { tail -20 "$ROOTS/experimental.log" >&2; return 1; }
  in_root "$dir" apt-get clean
}

build_root() { # name: (re)builds one root, then writes its stamp
  local name="$1" dir="$ROOTS/$1" t0
  if [ -e "$dir" ]; then
    log "removing half-built root $dir"
    # An interrupted debootstrap leaves /proc and /sys mounted inside the root: unmount them first
    # (deepest first), so nothing outside the root is touched.
    awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
    rm -rf --one-file-system "$dir"
  fi
  t0=$(date +%s)
  if [ "$name" = experimental ]; then build_experimental_root; else build_debootstrap_root "$name"; fi
  # The stamp, written last, records what the root holds.
  in_root "$dir" dpkg-query -W -f='${Package} ${Version}\n' haproxy valkey-server kustomize 2>/dev/null >"$ROOTS/$name.done.tmp" || true
  mv "$ROOTS/$name.done.tmp" "$ROOTS/$name.done"
  log "installed root $name in $(( $(date +%s) - t0 )) s: $(tr '\n' ' ' <"$ROOTS/$name.done")"
}

mkdir -p "$ROOTS"
# The debootstrap roots download in parallel (the time goes mostly to waiting on the mirror);
# experimental starts from the finished sid root.
pids=() failed=0
for name in "${missing_roots[@]}"; do
  [ "$name" = experimental ] || { build_root "$name" & pids+=($!); }
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ $failed -eq 0 ] || { log "building a root failed (logs in $ROOTS/*.log)"; exit 1; }
for name in "${missing_roots[@]}"; do
  [ "$name" != experimental ] || build_root experimental
done

# ---- wrappers: one command per version ----
mkdir -p "$BIN"
wrap() { # wrap NAME ROOT PROGRAM: runs ROOT's PROGRAM with ROOT's loader and libraries
  local root="$ROOTS/$2" lib="$ROOTS/$2/usr/lib/x86_64-linux-gnu"
  # --argv0 keeps argv[0] pointing at this wrapper, so a master-worker HAProxy re-executes through it.
  printf '#!/bin/sh\nexec %s --library-path %s --argv0 "$0" %s "$@"\n' \
    "$lib/ld-linux-x86-64.so.2" "$lib" "$root$3" >"$BIN/$1.tmp"
  chmod 755 "$BIN/$1.tmp"
  mv "$BIN/$1.tmp" "$BIN/$1"
}
ln -sfn /usr/sbin/haproxy "$BIN/haproxy-2.6"
ln -sfn /usr/bin/valkey-server "$BIN/valkey-server-8"
ln -sfn /usr/bin/valkey-cli "$BIN/valkey-cli-8"
wrap haproxy-3.0 trixie /usr/sbin/haproxy
wrap haproxy-3.2 sid /usr/sbin/haproxy
wrap haproxy-3.4 experimental /usr/sbin/haproxy
wrap valkey-server-9 sid /usr/bin/valkey-server
wrap valkey-cli-9 sid /usr/bin/valkey-cli
wrap kustomize sid /usr/bin/kustomize

for w in haproxy-2.6 haproxy-3.0 haproxy-3.2 haproxy-3.4; do
  "$BIN/$w" -v | sed -n 1p | sed "s/^/install-test-env: $w: /"
done
for w in valkey-server-8 valkey-server-9; do
  "$BIN/$w" --version | sed "s/^/install-test-env: $w: /"
done
sed -n "s/^kustomize /install-test-env: kustomize: /p" "$ROOTS/sid.done"
for line in "${did[@]}"; do log "installed $line"; done
log "done in $(( $(date +%s) - started )) s (cache $CACHE)"
exec env SPOA_TEST_CACHE="$CACHE" ${MIRROR:+MIRROR="$MIRROR"} bash "$CONTAINER_ENV"
