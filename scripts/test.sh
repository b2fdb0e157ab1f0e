#!/usr/bin/env bash
# The whole test suite, as the README runs it: system servers, npm packages, the compiled
# binary (the e2e tests run it), then every bun:test file. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh || exit 1
# npm install rather than npm ci: see .ci/run.
[ -x node_modules/.bin/bun ] || npm install --no-audit --no-fund || exit 1
BUN=node_modules/.bin/bun
$BUN run compile >/dev/null || exit 1   # the package.json "compile" script: one way to build

log=$(mktemp)
$BUN test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
failed=$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
rm -f "$log"
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
exit "$status"
