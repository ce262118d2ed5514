#!/usr/bin/env bash
# Monitoring tests (issue 15): every tests/monitoring/t-*.sh in turn, each with
# its own daemon and port range on loopback.
#
#   BIN=build/asan TOOLS=build/tools tests/monitoring/run.sh [t-NAME.sh ...]
#
# A script exits 0 (passed), 77 (skipped: it prints why, e.g. promtool or
# chromium missing) or anything else (failed). The run fails if any failed;
# skips are listed at the end so that a missing tool is visible, not silent.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export BIN=${BIN:-build/asan} TOOLS=${TOOLS:-build/tools}

scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || mapfile -t scripts < <(ls tests/monitoring/t-*.sh)
failed=() skipped=()
for s in "${scripts[@]}"; do
    [ -e "$s" ] || s=tests/monitoring/$s
    echo "== $s"
    bash "$s"
    rc=$?
    case $rc in
        0) ;;
        77) skipped+=("$s") ;;
        *) echo "FAIL $s (exit $rc)"; failed+=("$s") ;;
    esac
done
echo "monitoring: ${#scripts[@]} scripts, ${#failed[@]} failed, ${#skipped[@]} skipped"
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
[ ${#failed[@]} -eq 0 ]
