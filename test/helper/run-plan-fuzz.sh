#!/usr/bin/env bash
# Builds test/helper/plan_fuzz.c against native/helper/plan.c with ASan/UBSan and runs a bounded fuzz loop.
#   test/helper/run-plan-fuzz.sh [ITERATIONS [SEED]]    (default 200000 iterations, seed from the clock)
# Exit status: non-zero when the build fails, a sanitizer reports, or an invariant breaks.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-cc}
OUT=$(mktemp -d /tmp/jai-plan-fuzz.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

"$CC" -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all -I"$ROOT/native/helper" \
	-o "$OUT/plan_fuzz" "$ROOT/test/helper/plan_fuzz.c" "$ROOT/native/helper/plan.c"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
"$OUT/plan_fuzz" "${1:-200000}" ${2:+"$2"}
