#!/usr/bin/env bash
# The runner of a suite of test scripts (tests/monitoring, tests/webrtc):
# every tests/SUITE/t-*.sh in turn, or the ones named, each with its own
# daemon and port range.
#
#   BIN=build/asan TOOLS=build/tools tests/run-scripts.sh SUITE [t-NAME.sh ...]
#
# A script exits 0 (passed), 77 (skipped: it prints why, e.g. promtool or
# chromium missing) or anything else (failed). The run fails if any failed;
# skips are listed at the end so that a missing tool is visible, not silent.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export BIN=${BIN:-build/asan} TOOLS=${TOOLS:-build/tools}
suite=${1:?usage: tests/run-scripts.sh SUITE [t-NAME.sh ...]}
shift

scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || mapfile -t scripts < <(ls "tests/$suite"/t-*.sh)
failed=() skipped=()
for s in "${scripts[@]}"; do
    [ -e "$s" ] || s=tests/$suite/$s
    echo "== $s"
    bash "$s"
    rc=$?
    case $rc in
        0) ;;
        77) skipped+=("$s") ;;
        *) echo "FAIL $s (exit $rc)"; failed+=("$s") ;;
    esac
done
echo "$suite: ${#scripts[@]} scripts, ${#failed[@]} failed, ${#skipped[@]} skipped"
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
[ ${#failed[@]} -eq 0 ]
