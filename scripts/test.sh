#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The whole test suite, as root on Debian 12:
#   1. install missing dependencies (scripts/install-deps.sh);
#   2. build build/ (RelWithDebInfo) and run every ctest test there but the
#      ones labelled `long` (ctest -L long runs those: 10^7-frame fuzzing &c.);
#   3. build build-asan/ (-DSYNGUARD_SANITIZE=ON: ASan + UBSan) and run the
#      userspace-heavy tests there (cookie_unit, cli, xdp_fixtures).
# Exits non-zero if any build or test fails. The last line is a ctest-style
# summary over both runs ("N% tests passed, N tests failed out of N").
#
# usage: ./scripts/test.sh
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JOBS=$(nproc)
ASAN_TESTS='^(cookie_unit|cli|cli_units|xdp_fixtures|flow_fixtures)$'
LOGDIR=$(mktemp -d /tmp/synguard-test.XXXXXX)
trap 'rm -rf "$LOGDIR"' EXIT

say() { printf '\n== %s\n' "$*"; }
elapsed() { echo "$((SECONDS - $1)) s"; }

if [[ $(id -u) -ne 0 ]]; then
	echo "test.sh: must run as root (tests load XDP programs and create network namespaces)" >&2
	exit 1
fi

T0=$SECONDS
say "dependencies"
"$ROOT/scripts/install-deps.sh"

# build DIR CMAKE_ARGS...: configure and build, or exit with the failure.
build() {
	local dir=$1 t=$SECONDS
	shift
	say "build $dir ($*)"
	if ! cmake -S "$ROOT" -B "$ROOT/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$LOGDIR/$dir.configure.log" 2>&1; then
		cat "$LOGDIR/$dir.configure.log"
		echo "test.sh: configuring $dir failed" >&2
		exit 1
	fi
	if ! cmake --build "$ROOT/$dir" -j"$JOBS" >"$LOGDIR/$dir.build.log" 2>&1; then
		tail -n 80 "$LOGDIR/$dir.build.log"
		echo "test.sh: building $dir failed (log above)" >&2
		exit 1
	fi
	echo "built $dir in $(elapsed "$t")"
}

# run_ctest DIR [CTEST_ARGS...]: run ctest in DIR, add its counts to TOTAL and
# FAILED, and set RESULT=1 on any failure.
TOTAL=0 FAILED=0 RESULT=0
SUMMARIES=()
run_ctest() {
	local dir=$1 t=$SECONDS rc=0 line total failed
	shift
	say "ctest in $dir $*"
	(cd "$ROOT/$dir" && ctest --output-on-failure --timeout 600 "$@") 2>&1 | tee "$LOGDIR/$dir.ctest.log" || rc=$?
	line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$LOGDIR/$dir.ctest.log" | tail -n1 || true)
	if [[ -z $line ]]; then
		echo "test.sh: ctest in $dir printed no summary (exit $rc)" >&2
		RESULT=1
		SUMMARIES+=("$dir: no summary, ctest exit $rc")
		return
	fi
	failed=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")
	total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
	TOTAL=$((TOTAL + total))
	FAILED=$((FAILED + failed))
	((rc == 0 && failed == 0)) || RESULT=1
	SUMMARIES+=("$dir: $line ($(elapsed "$t"))")
}

build build
run_ctest build -LE long
build build-asan -DSYNGUARD_SANITIZE=ON
run_ctest build-asan -R "$ASAN_TESTS"

say "summary ($(elapsed "$T0") in all)"
printf '%s\n' "${SUMMARIES[@]}"
if ((TOTAL == 0)); then
	echo "test.sh: no test ran" >&2
	RESULT=1
fi
PASSED=$((TOTAL - FAILED))
PCT=$((TOTAL ? PASSED * 100 / TOTAL : 0))
echo "$PCT% tests passed, $FAILED tests failed out of $TOTAL"
exit "$RESULT"
