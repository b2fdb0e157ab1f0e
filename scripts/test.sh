#!/usr/bin/env bash
# The whole test suite, as the README runs it: the servers it runs against (HAProxy 2.6–3.4,
# Valkey 8 and 9, kustomize; installed once with root or sudo, then cached), npm packages, the
# compiled binary (the e2e tests run it), then every bun:test file. Prints the tests passed and
# failed per HAProxy and Valkey version, and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

t0=$SECONDS
bash scripts/install-test-env.sh || exit 1
install_s=$((SECONDS - t0))
# The lock file's exact versions (npm ci), unless a checkout already has them installed.
[ -x node_modules/.bin/bun ] || npm ci --no-audit --no-fund || exit 1
BUN=node_modules/.bin/bun
$BUN run compile >/dev/null || exit 1   # the package.json "compile" script: one way to build

log=$(mktemp)
t0=$SECONDS
$BUN test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
test_s=$((SECONDS - t0))
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
# Which server versions ran, and how their tests went (the version is in every such test's name;
# the versions are those scripts/install-test-env.sh installed).
bin="${SPOA_TEST_CACHE:-/var/cache/spoa-gcra-test}/bin"
haproxy_versions=$(ls "$bin" | sed -n 's/^haproxy-\([0-9.]*\)$/\1/p' | sed 's/\./\\./g' | paste -sd'|')
valkey_versions=$(ls "$bin" | sed -n 's/^valkey-server-\([0-9]*\)$/\1/p' | paste -sd'|')
for server in "HAProxy ($haproxy_versions)" "Valkey ($valkey_versions)"; do
  # bun prints a failed test twice (where it fails and in the closing list): count each once.
  grep -E '^\((pass|fail)\) ' "$log" | sed 's/ \[[0-9.]*m\?s\]$//' | sort -u | awk -v s="$server" '
    match($0, s "([^0-9.]|$)") { v = substr($0, RSTART, RLENGTH); sub(/[^0-9]$/, "", v); n[v " " substr($0, 2, 4)]++; seen[v] = 1 }
    END { for (v in seen) printf "%s: %d passed, %d failed\n", v, n[v " pass"], n[v " fail"] }' | sort -V
done
rm -f "$log"
echo "time: ${install_s} s installing the test environment, ${test_s} s running the tests"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
exit "$status"
