#!/usr/bin/env bash
# Runs every test: lint, type check (part of the build), the helper's plan fuzzer and smoke tests, unit tests, and the
# privileged integration tests (real jaid as root, real unprivileged user, real kernel). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run lint --silent
bash test/helper/run-plan-fuzz.sh
# The helper against the real kernel, built once with ASan/UBSan (the script rebuilds it normally afterwards), each
# helper forked by `jai-helper --zygote` as jaid runs them (the exec'd path is the same main(); helper-zygote.test
# runs one).
SANITIZE=1 JAI_SMOKE_ZYGOTE=1 bash test/helper/run-helper-smoke.sh
# A hung test fails after 5 minutes (the slowest takes ~12 s); a file kept alive by a child its failed test left
# running is ended by the overall bound (a whole run takes ~8 min), so CI fails with a reason before its deadline.
# Not --test-force-exit: on Node 20 it drops finished tests from the report (policy-load.test.js's 126 reported as
# 111–126 from run to run, still green), so a test could stop running unnoticed.
timeout --kill-after=30 3600 node --test --test-concurrency=1 --test-timeout=300000 \
  dist/test/unit/*.test.js dist/test/integration/*.test.js dist/test/security/*.test.js
