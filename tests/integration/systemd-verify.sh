#!/usr/bin/env bash
# Check systemd units with `systemd-analyze verify`, after the same
# @BINDIR@/@SBINDIR@/@SYSCONFDIR@ substitution that `make install` does.
#
#   tests/integration/systemd-verify.sh systemd/rtpprobed.service systemd/rtpprobe-monitor@.timer ...
#
# verify needs no running systemd (it loads units into a private test manager),
# so it works in containers and CI. It does check that ExecStart= programs
# exist, so @BINDIR@ and @SBINDIR@ become a scratch directory whose programs
# point at the built binaries (build/NAME), or at /bin/true where one has not
# been built. A template (NAME@.service) cannot be verified bare: its copy
# NAME@test.service is, as an instance would be. A timer must have its service
# beside it (same name, .service) and is verified together with it.
# For the monitor service, its example environment file is checked too.
# Fails on a non-zero exit or on any output line about a unit; skips, saying
# why, when systemd-analyze is absent or cannot verify even a trivial unit here.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 UNIT-FILE..." >&2; exit 1; }
for unit in "$@"; do
    [ -r "$unit" ] || { echo "systemd-verify: cannot read $unit" >&2; exit 1; }
done

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "skipped: systemd-analyze not present"
    exit 0
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/rtpprobe-systemd-verify.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/units"

# Can verify work at all here? A unit with nothing wrong in it must pass cleanly;
# if it does not, the tool (not our unit) is the problem.
probe="$tmp/units/rtpprobe-verify-probe.service"
printf '[Unit]\nDescription=probe\n\n[Service]\nExecStart=/bin/true\n' > "$probe"
if ! probe_out=$(systemd-analyze --man=no verify "$probe" 2>&1) || [ -n "$probe_out" ]; then
    echo "skipped: systemd-analyze verify fails on a trivial unit here: $(printf '%s\n' "$probe_out" | head -n 1)"
    exit 0
fi
rm -f "$probe"

# stage UNIT: the unit substituted into $tmp/units under its instance name
# (templates: @test); prints that name.
stage() {
    local unit=$1 name prog
    name=$(basename "$unit" | sed 's/@\./@test./')
    # The programs the unit runs from @BINDIR@ or @SBINDIR@.
    while read -r prog; do
        [ -z "$prog" ] || [ -e "$tmp/bin/$prog" ] && continue
        if [ -x "$root/build/$prog" ]; then
            ln -s "$root/build/$prog" "$tmp/bin/$prog"
            echo "systemd-verify: $prog -> build/$prog" >&2
        else
            ln -s /bin/true "$tmp/bin/$prog"
            echo "systemd-verify: $prog -> /bin/true (build/$prog not built)" >&2
        fi
    done < <(grep -o '@S\{0,1\}BINDIR@/[A-Za-z0-9_.-]*' "$unit" | sed 's|^@[A-Z]*@/||' | sort -u)
    # Same substitution as the Makefile's install target.
    sed "s|@BINDIR@|$tmp/bin|g; s|@SBINDIR@|$tmp/bin|g; s|@SYSCONFDIR@|/etc|g" "$unit" > "$tmp/units/$name"
    if grep -n '@[A-Z_]*@' "$tmp/units/$name" >&2; then
        echo "systemd-verify: FAIL: $unit has placeholders that make install does not substitute" >&2
        return 1
    fi
    printf '%s\n' "$name"
}

# check UNIT: verify it (a timer with its service); 0 if clean.
check() {
    local unit=$1 name files rc=0 out problems service score
    name=$(stage "$unit") || return 1
    files=("$tmp/units/$name")
    if [[ $unit == *.timer ]]; then
        service=${unit%.timer}.service
        if ! grep -q '^Unit=' "$unit" && [ ! -r "$service" ]; then
            echo "systemd-verify: FAIL: $unit activates $(basename "$service"), which is not beside it" >&2
            return 1
        fi
        if [ -r "$service" ]; then
            service=$(stage "$service") || return 1
            files+=("$tmp/units/$service")
        fi
    fi
    out=$(systemd-analyze --man=no verify "${files[@]}" 2>&1) || rc=$?
    # Lines about other units (dependencies from the host) are shown but not ours to fix.
    problems=$(printf '%s\n' "$out" | grep -F -e "${name%.*}." -e "$tmp" || true)
    [ -n "$out" ] && printf '%s\n' "$out" | sed "s|$tmp/units/||g; s|^|systemd-analyze: |"
    if [ "$rc" -ne 0 ] || [ -n "$problems" ]; then
        echo "systemd-verify: FAIL: $unit (systemd-analyze verify exit $rc)" >&2
        return 1
    fi
    # The hardening score, for information (systemd >= 250 can rate a unit file offline).
    if [[ $unit == *.service ]] &&
        score=$(systemd-analyze security --offline=yes "$tmp/units/$name" 2>/dev/null | grep 'Overall exposure'); then
        echo "systemd-verify: ${score#→ }"
    fi
    echo "systemd-verify: ok: $unit"
}

# check_env_example: the monitor unit runs the probe with $RTPPROBE_ARGS from its
# environment file; conf/rtpprobe-monitor.env.example must set it, with options
# the probe has (rtpprobe --help, when build/rtpprobe is built).
check_env_example() {
    local example=$root/conf/rtpprobe-monitor.env.example args opt help bad=0
    args=$(sed -n 's/^RTPPROBE_ARGS="\(.*\)"$/\1/p' "$example")
    if [ -z "$args" ]; then
        echo "systemd-verify: FAIL: $example sets no RTPPROBE_ARGS=\"...\"" >&2
        return 1
    fi
    if [ ! -x "$root/build/rtpprobe" ]; then
        echo "systemd-verify: $example: options not checked (build/rtpprobe not built)"
        return 0
    fi
    help=$("$root/build/rtpprobe" --help 2>&1 || true)
    for opt in $args; do
        [[ $opt == --* ]] || continue
        grep -qE -- "(^|[ /])$opt( |\$)" <<<"$help" && continue
        echo "systemd-verify: FAIL: $example: rtpprobe --help has no $opt" >&2
        bad=1
    done
    [ $bad -eq 0 ] && echo "systemd-verify: ok: $example (its options are rtpprobe's)"
    return $bad
}

fails=0
for unit in "$@"; do
    check "$unit" || fails=$((fails + 1))
    if [[ $unit == */rtpprobe-monitor@.service ]]; then
        check_env_example || fails=$((fails + 1))
    fi
done
[ $fails -eq 0 ] || { echo "systemd-verify: $fails unit(s) failed" >&2; exit 1; }
