# Helpers both test-environment installers source (install-test-env.sh, install-container-env.sh).
# Expects CACHE to be set; runs nothing by itself.

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# Re-runs the calling script as root through sudo, keeping the cache directory and the mirror;
# returns (for the caller's own message) only when there is no sudo.
rerun_with_sudo() { # rerun_with_sudo "$@"
  if command -v sudo >/dev/null 2>&1; then
    exec sudo env SPOA_TEST_CACHE="$CACHE" ${MIRROR:+MIRROR="$MIRROR"} bash "$0" "$@"
  fi
}

# The Debian mirror the host's apt uses: deb822 sources first (`URIs: http://…/debian`), then
# one-line sources, else deb.debian.org.
debian_mirror() {
  local mirror
  mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)[[:space:]]*$/\1/p' | head -1)
  [ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\)[[:space:]].*/\2/p' | head -1)
  echo "${mirror:-http://deb.debian.org/debian}"
}

# Keep Debian's packages from starting services while we install (only if no policy exists).
with_policy() { # with_policy DIR command…: runs the command with DIR/usr/sbin/policy-rc.d denying starts
  local policy="$1/usr/sbin/policy-rc.d" ours=0
  shift
  if [ ! -e "$policy" ]; then
    mkdir -p "$(dirname "$policy")"
    printf '#!/bin/sh\n# spoa-gcra test installer: packages must not start services\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ours=1
  fi
  local status=0
  "$@" || status=$?
  [ $ours -eq 1 ] && rm -f "$policy"
  return $status
}
