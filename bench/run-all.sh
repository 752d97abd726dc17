#!/usr/bin/env bash
# `npm run bench`: every benchmark, one after another (never two at once on a small machine), each
# printing its own figures; the last line of each is one JSON object. A failing benchmark is
# reported and the rest still run; the exit status says whether any failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
status=0
for name in $(node -e 'console.log(Object.keys(require("./package.json").scripts).filter((s) => s.startsWith("bench:")).join(" "))'); do
  echo "== npm run $name"
  npm run -s "$name" || { echo "== $name failed"; status=1; }
done
exit "$status"
