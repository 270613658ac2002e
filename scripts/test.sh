#!/usr/bin/env bash
# Runs every test: lint, type check (part of the build), the helper's plan fuzzer and smoke tests, unit tests, and the
# privileged integration tests (real jaid as root, real unprivileged user, real kernel). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run lint --silent
bash test/helper/run-plan-fuzz.sh
# The helper against the real kernel, built once with ASan/UBSan (the script rebuilds it normally afterwards).
SANITIZE=1 bash test/helper/run-helper-smoke.sh
# A hung test fails after 5 minutes (the slowest takes ~12 s) instead of holding CI until its deadline; a child a
# failed test left running does not keep its file's process alive (the leak checks name such children).
node --test --test-concurrency=1 --test-timeout=300000 --test-force-exit dist/test/unit/*.test.js dist/test/integration/*.test.js dist/test/security/*.test.js
