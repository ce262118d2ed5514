#!/usr/bin/env bash
# Check a systemd unit with `systemd-analyze verify`, after the same
# @SBINDIR@/@SYSCONFDIR@ substitution that `make install` does.
#
#   tests/integration/systemd-verify.sh systemd/rtpprobed.service
#
# verify needs no running systemd (it loads units into a private test manager),
# so it works in containers and CI. It does check that ExecStart= programs
# exist, so @SBINDIR@ becomes a scratch directory whose programs point at the
# built binaries (build/NAME), or at /bin/true where one has not been built.
# Fails on a non-zero exit or on any output line about the unit; skips, saying
# why, when systemd-analyze is absent or cannot verify even a trivial unit here.
set -euo pipefail

unit=${1:?usage: $0 UNIT-FILE}
[ -r "$unit" ] || { echo "systemd-verify: cannot read $unit" >&2; exit 1; }

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "skipped: systemd-analyze not present"
    exit 0
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
name=$(basename "$unit")
tmp=$(mktemp -d /tmp/rtpprobe-systemd-verify.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sbin" "$tmp/units"

# Can verify work at all here? A unit with nothing wrong in it must pass cleanly;
# if it does not, the tool (not our unit) is the problem.
probe="$tmp/units/rtpprobe-verify-probe.service"
printf '[Unit]\nDescription=probe\n\n[Service]\nExecStart=/bin/true\n' > "$probe"
if ! probe_out=$(systemd-analyze --man=no verify "$probe" 2>&1) || [ -n "$probe_out" ]; then
    echo "skipped: systemd-analyze verify fails on a trivial unit here: $(printf '%s\n' "$probe_out" | head -n 1)"
    exit 0
fi

# The programs the unit runs from @SBINDIR@.
for prog in $(grep -o '@SBINDIR@/[A-Za-z0-9_.-]*' "$unit" | sort -u | sed 's|@SBINDIR@/||'); do
    if [ -x "$root/build/$prog" ]; then
        ln -s "$root/build/$prog" "$tmp/sbin/$prog"
        echo "systemd-verify: @SBINDIR@/$prog -> build/$prog"
    else
        ln -s /bin/true "$tmp/sbin/$prog"
        echo "systemd-verify: @SBINDIR@/$prog -> /bin/true (build/$prog not built)"
    fi
done

# Same substitution as the Makefile's install target.
sed "s|@SBINDIR@|$tmp/sbin|g; s|@SYSCONFDIR@|/etc|g" "$unit" > "$tmp/units/$name"
if grep -n '@[A-Z_]*@' "$tmp/units/$name"; then
    echo "systemd-verify: FAIL: $unit has placeholders that make install does not substitute" >&2
    exit 1
fi

rc=0
out=$(systemd-analyze --man=no verify "$tmp/units/$name" 2>&1) || rc=$?
# Lines about other units (dependencies from the host) are shown but not ours to fix.
problems=$(printf '%s\n' "$out" | grep -F -e "$name" -e "$tmp" || true)
[ -n "$out" ] && printf '%s\n' "$out" | sed "s|$tmp/units/||g; s|^|systemd-analyze: |"
if [ "$rc" -ne 0 ] || [ -n "$problems" ]; then
    echo "systemd-verify: FAIL: $unit (systemd-analyze verify exit $rc)" >&2
    exit 1
fi

# The hardening score, for information (systemd >= 250 can rate a unit file offline).
if score=$(systemd-analyze security --offline=yes "$tmp/units/$name" 2>/dev/null | grep 'Overall exposure'); then
    echo "systemd-verify: ${score#→ }"
fi
echo "systemd-verify: ok: $unit"
