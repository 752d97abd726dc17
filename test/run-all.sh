#!/usr/bin/env bash
# `npm test`: install/build what the tests need (idempotent, cached), then run every suite, and end
# with one plain summary line ("N passed, N failed").
# The etcd suites run last, one file per vitest run: they kill and heal real etcd members with 100 ms
# heartbeats, and a Kubernetes control plane starting on the other core makes elections flap.
# With arguments (`npm test -- test/ingest`), only those run, in one pass.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash test/setup.sh
dir="$(mktemp -d -t whistle-vitest-XXXXXX)"
trap 'rm -rf "$dir"' EXIT
status=0
if [ $# -gt 0 ]; then
  npx vitest run --reporter=default --reporter=json --outputFile.json="$dir/1.json" "$@" || status=$?
else
  npx vitest run --reporter=default --reporter=json --outputFile.json="$dir/1.json" --exclude 'test/etcd/**' || status=$?
  # One vitest run per etcd file, each from a clean process on a quiet machine. Each runs once:
  # a failure counts.
  for f in test/etcd/*.test.ts; do
    npx vitest run --reporter=default --reporter=json --outputFile.json="$dir/$(basename "$f").json" "$f" || status=$?
  done
fi
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { failed++; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests;
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$dir"/*.json
exit "$status"
