#!/usr/bin/env bash
# `npm test`: install/build what the tests need (idempotent, cached), then run every suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash test/setup.sh
exec npx vitest run "$@"
