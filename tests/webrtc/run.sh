#!/usr/bin/env bash
# Browser pre-call tests (issue 17): every tests/webrtc/t-*.sh in turn, each with
# its own daemon and port range on loopback.
#
#   BIN=build/asan TOOLS=build/tools tests/webrtc/run.sh [t-NAME.sh ...]
#
# A script exits 0 (passed), 77 (skipped: it prints why, e.g.
# chromium missing) or anything else (failed). The run fails if any failed;
# skips are listed at the end so that a missing tool is visible, not silent.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export BIN=${BIN:-build/asan} TOOLS=${TOOLS:-build/tools}

scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || mapfile -t scripts < <(ls tests/webrtc/t-*.sh)
failed=() skipped=()
for s in "${scripts[@]}"; do
    [ -e "$s" ] || s=tests/webrtc/$s
    echo "== $s"
    bash "$s"
    rc=$?
    case $rc in
        0) ;;
        77) skipped+=("$s") ;;
        *) echo "FAIL $s (exit $rc)"; failed+=("$s") ;;
    esac
done
echo "webrtc: ${#scripts[@]} scripts, ${#failed[@]} failed, ${#skipped[@]} skipped"
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
[ ${#failed[@]} -eq 0 ]
