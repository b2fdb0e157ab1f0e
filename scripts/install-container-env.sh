#!/usr/bin/env bash
# The container half of the test environment (called by scripts/install-test-env.sh):
#   packages:  podman, podman-compose, runc, netavark + aardvark-dns (container names resolve on
#              compose networks), qemu-user-static (runs the arm64 release), prometheus (promtool)
#   config:    $CACHE/containers/{containers,storage}.conf, which the tests hand to podman through
#              CONTAINERS_CONF / CONTAINERS_STORAGE_CONF: the machine's global files stay untouched
#   sysroot:   $CACHE/sysroots/arm64, aarch64 glibc for running the arm64 release under qemu
#   images:    built locally from Debian packages (no image registry is reachable here), each labelled
#              spoa-gcra.test=base and stored in the test env's own image store:
#                localhost/spoa-gcra-test/distroless-cc   glibc, libgcc_s, libstdc++, CA certs, nobody; no shell
#                localhost/spoa-gcra-test/bun:<v>         the above + dash + Bun from npm (the build stage)
#                localhost/spoa-gcra-test/haproxy:2.6     bookworm's haproxy, the official image's paths
#                localhost/spoa-gcra-test/haproxy:3.2     sid's haproxy
#                localhost/spoa-gcra-test/valkey:9        sid's valkey-server and valkey-cli
#                localhost/spoa-gcra-test/pause:catatonit a pod's infra container (podman's own pause image)
#
# Idempotent like install-test-env.sh: it checks first and does nothing when everything is present;
# an image is built only when missing. Facts behind the config (docs/deployment.md, "Verified with"):
# crun 1.8 refuses this hybrid cgroup v1 host, so runc; root lacks CAP_SYS_RESOURCE, so podman's
# default rlimits (above the current ones) fail and the defaults here are the current limits.
set -euo pipefail

CACHE=${SPOA_TEST_CACHE:-/var/cache/spoa-gcra-test}
HERE=$(cd "$(dirname "$0")" && pwd)
CDIR="$CACHE/containers"
ROOTS="$CACHE/roots"
PACKAGES=(podman podman-compose runc netavark aardvark-dns iptables catatonit qemu-user-static prometheus)
# Packages the runtime base is made of: what gcr.io/distroless/cc-debian12 holds (base-debian12 +
# libgcc-s1, libgomp1, libstdc++6), without a shell or a package manager.
DISTROLESS_DEBS=(libc6 libgcc-s1 libgomp1 libstdc++6 libssl3 ca-certificates tzdata netbase)
BUN_VERSION=$(sed -n 's/^ *"bun": *"\([0-9.]*\)".*/\1/p' "$HERE/../package.json" | head -1)
LABEL=spoa-gcra.test=base
IMAGES=(distroless-cc:debian12 "bun:$BUN_VERSION" haproxy:2.6 haproxy:3.2 valkey:9 pause:catatonit)

# shellcheck source=install-common.sh
. "$HERE/install-common.sh"
log() { echo "install-container-env: $*"; }
pod() { CONTAINERS_CONF="$CDIR/containers.conf" CONTAINERS_STORAGE_CONF="$CDIR/storage.conf" podman "$@"; }

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done

# ---- configuration (rewritten only when it differs: cheap, and keeps it in step with this file) ----
soft_nofile=$(ulimit -Sn) soft_nproc=$(ulimit -Su)
# Run-time state (locks, mounts) on /run, which a reboot clears; one directory per cache, so two
# caches (SPOA_TEST_CACHE) never share it.
RUN_DIR="/run/spoa-gcra-test/$(printf %s "$CDIR" | sha256sum | cut -c1-12)"
limit() { [ "$1" = unlimited ] || [ "$1" -gt 1024 ] && echo 1024 || echo "$1"; }
containers_conf="# Written by scripts/install-container-env.sh for the spoa-gcra tests; podman reads it through
# CONTAINERS_CONF (tests/helpers/podman.ts). The machine's /etc/containers stays as it is.
[containers]
# podman's default rlimits exceed what root may set here (no CAP_SYS_RESOURCE): stay at or below them.
default_ulimits = [\"nofile=$(limit "$soft_nofile"):$(limit "$soft_nofile")\", \"nproc=$(limit "$soft_nproc"):$(limit "$soft_nproc")\"]
log_driver = \"k8s-file\"

[engine]
# crun 1.8 fails on this host (\"cgroups in hybrid mode not supported\").
runtime = \"runc\"
# No systemd runs here.
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
events_logfile_path = \"$CDIR/events.log\"
# A pod's infra container, built by the installer (labelled) instead of by podman on first use.
infra_image = \"localhost/spoa-gcra-test/pause:catatonit\"
tmp_dir = \"$RUN_DIR/podman-tmp\"

[network]
network_backend = \"netavark\"
network_config_dir = \"$CDIR/networks\"
"
storage_conf="# Written by scripts/install-container-env.sh: the spoa-gcra tests' own image and container store.
[storage]
driver = \"overlay\"
graphroot = \"$CDIR/storage\"
runroot = \"$RUN_DIR/storage\"
"
write_if_changed() { # file content
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
    mkdir -p "$(dirname "$1")"
    printf '%s\n' "$2" >"$1.tmp" && mv "$1.tmp" "$1"
  fi
}

images_ok=1
if [ ${#missing[@]} -eq 0 ] && [ -f "$CDIR/containers.conf" ] && [ -f "$CDIR/storage.conf" ]; then
  for image in "${IMAGES[@]}"; do pod image exists "localhost/spoa-gcra-test/$image" 2>/dev/null || { images_ok=0; break; }; done
else
  images_ok=0
fi
if [ ${#missing[@]} -eq 0 ] && [ $images_ok -eq 1 ] && [ -f "$CACHE/sysroots/arm64.done" ]; then
  write_if_changed "$CDIR/containers.conf" "$containers_conf"
  write_if_changed "$CDIR/storage.conf" "$storage_conf"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  rerun_with_sudo "$@"
  # The container tests run rootful podman and skip (saying why) without root: not an error here.
  echo "install-container-env: missing: ${missing[*]:-} (or images); run this script as root for the container tests" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
started=$(date +%s)

if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  # prometheus ships a service: policy-rc.d keeps it (and anything else) from starting.
  with_policy "" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "installed ${missing[*]}"
fi
write_if_changed "$CDIR/containers.conf" "$containers_conf"
write_if_changed "$CDIR/storage.conf" "$storage_conf"
mkdir -p "$CDIR/networks" "$CDIR/debs"

work=$(mktemp -d "$CDIR/build.XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT

debs_root() { # DIR PACKAGE…: unpacks the host's Debian (amd64) packages into DIR with dpkg -x
  local dir="$1"; shift
  mkdir -p "$dir"
  (cd "$CDIR/debs" && for p in "$@"; do ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download -qq -o APT::Sandbox::User=root "$p" >/dev/null; done)
  for p in "$@"; do dpkg -x "$(ls "$CDIR/debs/${p}"_*.deb | head -1)" "$dir"; done
}

import_root() { # DIR NAME CHANGE…: imports a directory as an image with the label and the --change's given
  local dir="$1" name="$2" t0; shift 2
  t0=$(date +%s)
  local changes=(--change "LABEL $LABEL")
  for c in "$@"; do changes+=(--change "$c"); done
  tar --numeric-owner -C "$dir" \
    --exclude=./usr/share/doc --exclude=./usr/share/man --exclude=./usr/share/info --exclude=./usr/share/locale \
    --exclude=./var/cache/apt --exclude=./var/lib/apt/lists --exclude=./usr/bin/kustomize \
    --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -c . |
    pod import --quiet "${changes[@]}" - "localhost/spoa-gcra-test/$name" >/dev/null
  log "image localhost/spoa-gcra-test/$name ($(( $(date +%s) - t0 )) s)"
}

distroless_root() { # DIR: the runtime base's files
  local dir="$1"
  debs_root "$dir" "${DISTROLESS_DEBS[@]}"
  # update-ca-certificates' result, without running a maintainer script.
  mkdir -p "$dir/etc/ssl/certs" "$dir/tmp" "$dir/home/nonroot" "$dir/root"
  cat "$dir"/usr/share/ca-certificates/mozilla/*.crt >"$dir/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$dir/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$dir/etc/group"
  printf 'hosts: files dns\n' >"$dir/etc/nsswitch.conf"
  # distroless has no /bin/sh: make sure no package brought one.
  rm -f "$dir/bin/sh" "$dir/usr/bin/sh"
}

have() { pod image exists "localhost/spoa-gcra-test/$1" 2>/dev/null; }

if ! have distroless-cc:debian12; then
  distroless_root "$work/distroless"
  import_root "$work/distroless" distroless-cc:debian12 "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"
fi

if ! have "bun:$BUN_VERSION"; then
  # oven/bun's shape: bun on PATH, a shell for RUN lines, root, /home/bun/app.
  distroless_root "$work/bun"
  debs_root "$work/bun" dash
  ln -sfn dash "$work/bun/bin/sh"
  # The build stage downloads packages from the npm registry: it trusts what this machine trusts
  # (a TLS-inspecting egress proxy's CA in /usr/local/share/ca-certificates, as update-ca-certificates
  # adds them). Only the build base: the runtime base keeps Debian's bundle alone.
  cat /usr/local/share/ca-certificates/*.crt >>"$work/bun/etc/ssl/certs/ca-certificates.crt" 2>/dev/null || true
  (cd "$work" && npm pack --silent "@oven/bun-linux-x64@$BUN_VERSION" >/dev/null)
  mkdir -p "$work/bun/usr/local/bin" "$work/bun/home/bun/app"
  tar -xzf "$work"/oven-bun-linux-x64-*.tgz -C "$work" package/bin/bun
  install -m 0755 "$work/package/bin/bun" "$work/bun/usr/local/bin/bun"
  ln -s bun "$work/bun/usr/local/bin/bunx"
  import_root "$work/bun" "bun:$BUN_VERSION" "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "WORKDIR /home/bun/app" "CMD [\"/usr/local/bin/bun\"]"
fi

if ! have pause:catatonit; then
  # What podman builds as localhost/podman-pause: Debian's static catatonit, alone.
  mkdir -p "$work/pause"
  cp /usr/bin/catatonit "$work/pause/catatonit"
  import_root "$work/pause" pause:catatonit 'ENTRYPOINT ["/catatonit", "-P"]'
fi

derive() { # NAME FROM INSTRUCTION…: a small image on top of another, its instructions as in a Containerfile
  local name="$1" from="$2"; shift 2
  mkdir -p "$work/empty"
  { printf 'FROM localhost/spoa-gcra-test/%s\nLABEL %s\n' "$from" "$LABEL"; printf '%s\n' "$@"; } |
    pod build --pull=never --quiet -t "localhost/spoa-gcra-test/$name" -f - "$work/empty" >/dev/null
  log "image localhost/spoa-gcra-test/$name (from $from)"
}

# HAProxy like the official image: config in /usr/local/etc/haproxy, run as user haproxy, stop on SIGUSR1.
HAPROXY=('CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]' "USER haproxy" "STOPSIGNAL SIGUSR1" "WORKDIR /var/lib/haproxy")
prepare_root() { mkdir -p "$1/usr/local/etc/haproxy" "$1/data"; }

if ! have haproxy:2.6; then
  # bookworm's haproxy 2.6 with its dependencies, from a root of its own (kept, like the others).
  if [ ! -f "$ROOTS/bookworm-haproxy.done" ]; then
    MIRROR=${MIRROR:-$(debian_mirror)}
    rm -rf --one-file-system "$ROOTS/bookworm-haproxy"
    mkdir -p "$ROOTS/bookworm-haproxy/usr/sbin"
    printf '#!/bin/sh\nexit 101\n' >"$ROOTS/bookworm-haproxy/usr/sbin/policy-rc.d" && chmod 755 "$ROOTS/bookworm-haproxy/usr/sbin/policy-rc.d"
    debootstrap --variant=minbase --include=haproxy bookworm "$ROOTS/bookworm-haproxy" "$MIRROR" >"$ROOTS/bookworm-haproxy.log" 2>&1 ||
      { tail -20 "$ROOTS/bookworm-haproxy.log" >&2; exit 1; }
    chroot "$ROOTS/bookworm-haproxy" apt-get clean
    chroot "$ROOTS/bookworm-haproxy" dpkg-query -W -f='${Package} ${Version}\n' haproxy >"$ROOTS/bookworm-haproxy.done"
  fi
  prepare_root "$ROOTS/bookworm-haproxy"
  have root:bookworm-haproxy || import_root "$ROOTS/bookworm-haproxy" root:bookworm-haproxy
  derive haproxy:2.6 root:bookworm-haproxy "${HAPROXY[@]}"
fi
if ! have haproxy:3.2 || ! have valkey:9; then
  prepare_root "$ROOTS/sid"
  have root:sid || import_root "$ROOTS/sid" root:sid
  have haproxy:3.2 || derive haproxy:3.2 root:sid "${HAPROXY[@]}"
  if ! have valkey:9; then
    # The official valkey image builds valkey-server with protected mode off (it listens on the
    # container network without a password); Debian's keeps it on. This entrypoint restores the
    # official image's behaviour for a command line that does not set it.
    mkdir -p "$work/empty"
    printf '%s\n' '#!/bin/sh' '# Like the official valkey image: protected mode off unless the command sets it.' \
      'case "$*" in *protected-mode*) exec "$@" ;; esac' \
      '[ "$1" = valkey-server ] && exec "$@" --protected-mode no' 'exec "$@"' >"$work/empty/docker-entrypoint.sh"
    chmod 755 "$work/empty/docker-entrypoint.sh"
    derive valkey:9 root:sid "COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh" \
      'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' 'CMD ["valkey-server"]' "USER valkey" "WORKDIR /data" "EXPOSE 6379"
  fi
fi

# ---- arm64 sysroot: glibc for aarch64, so qemu-aarch64-static runs the linux-arm64 release ----
# (tests/container/release.test.ts). The amd64 package's pool path with _arm64: no foreign
# architecture is added to the machine's dpkg.
if [ ! -f "$CACHE/sysroots/arm64.done" ]; then
  MIRROR=${MIRROR:-$(debian_mirror)}
  deb=$(apt-cache show libc6 | sed -n 's/^Filename: //p' | head -1 | sed 's/_amd64\.deb$/_arm64.deb/')
  rm -rf "$CACHE/sysroots/arm64" && mkdir -p "$CACHE/sysroots/arm64"
  if curl -fsS -o "$work/libc6-arm64.deb" "$MIRROR/$deb" && dpkg -x "$work/libc6-arm64.deb" "$CACHE/sysroots/arm64"; then
    basename "$deb" >"$CACHE/sysroots/arm64.done"
    log "arm64 sysroot $CACHE/sysroots/arm64 ($(basename "$deb"))"
  else
    log "arm64 sysroot not installed (could not fetch $deb): the arm64 release test will say so"
  fi
fi

pod images --filter "label=$LABEL" --format '{{.Repository}}:{{.Tag}} {{.Size}}' | sed 's/^/install-container-env: /'
log "done in $(( $(date +%s) - started )) s (config and images in $CDIR)"
