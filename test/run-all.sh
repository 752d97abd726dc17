#!/usr/bin/env bash
# `npm test`: install/build what the tests need (idempotent, cached), then run every suite, and end
# with one plain summary line ("N passed, N failed").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash test/setup.sh
report="$(mktemp -t whistle-vitest-XXXXXX.json)"
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report" 2>/dev/null || true
exit "$status"
