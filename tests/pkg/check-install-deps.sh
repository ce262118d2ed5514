#!/usr/bin/env bash
# scripts/install-deps: shellcheck-clean, and the packages its dnf path asks for
# are EL 9's names (issue 14). The script runs for real, with a PATH of stubs: a
# dnf (or apt-get) that records its arguments, a pkg-config that finds nothing,
# an id that says "not root" and a sudo that runs the command. Nothing is
# installed. The build list is also compared with rpm/rtpprobe.spec's
# BuildRequires, so that the script and the package cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/../.."

# EL 9 package names (RHEL 9 AppStream/CRB, EPEL 9).
EL9_BUILD="gcc make pkgconf-pkg-config openssl libevent-devel openssl-devel libsrtp-devel
           libconfig-devel opus-devel jansson-devel libcurl-devel"
EL9_TEST="libcmocka-devel jq curl iproute nftables iperf3 wireshark-cli clang compiler-rt fail2ban
          python3-jsonschema tinyproxy rpm-build rpmlint ShellCheck /usr/lib/rpm/macros.d/macros.systemd"
# What make rpm-check needs on Debian, on top of what was there before.
DEBIAN_TEST_NEW="rpm rpmlint shellcheck"

fails=0
fail() { echo "check-install-deps: FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "check-install-deps: ok: $*"; }
words() { tr -s ' \n\t' '\n' <<<"$*" | sed '/^$/d' | sort -u; }

if out=$(shellcheck scripts/install-deps 2>&1); then ok "shellcheck scripts/install-deps"
else echo "$out" >&2; fail "shellcheck scripts/install-deps"; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stub() { printf '#!%s\n%s\n' "$BASH" "$2" > "$tmp/bin/$1"; chmod +x "$tmp/bin/$1"; }

# run_script MANAGER [ARGS]: install-deps with MANAGER (dnf or apt-get) as the
# only package manager; its calls are left in $tmp/calls, one line each.
run_script() {
    local manager=$1; shift
    rm -rf "${tmp:?}/bin"; mkdir "$tmp/bin"; : > "$tmp/calls"
    stub "$manager" "printf '%s\\n' \"\$*\" >> '$tmp/calls'"
    stub pkg-config 'exit 1'
    stub id 'echo 1000'
    stub sudo 'exec "$@"'
    # It must end in failure: pkg-config still finds nothing after "installing".
    if PATH=$tmp/bin "$BASH" scripts/install-deps "$@" > "$tmp/out" 2>&1; then
        fail "install-deps $* with a stub $manager succeeded; it cannot have checked pkg-config"
    elif ! grep -q 'pkg-config still misses some' "$tmp/out"; then
        fail "install-deps $* with a stub $manager: unexpected end: $(cat "$tmp/out")"
    fi
}

# installed_by PACKAGE: the package list of the install call that names PACKAGE.
installed_by() {
    local line
    line=$(grep -E "(^| )install( .*)? $1( |\$)" "$tmp/calls" || true)
    words "$(sed 's/\(^\| \)-[^ ]*//g; s/\(^\| \)install / /' <<<"$line")"
}

# same WHAT WANT GOT: two sorted lists are equal, or say what differs.
same() {
    if [ "$2" = "$3" ]; then ok "$1"; return; fi
    fail "$1: missing: $(comm -23 <(echo "$2") <(echo "$3") | tr '\n' ' ')" \
         "unexpected: $(comm -13 <(echo "$2") <(echo "$3") | tr '\n' ' ')"
}

run_script dnf
same "dnf build packages are EL 9's" "$(words "$EL9_BUILD")" "$(installed_by libevent-devel)"
# EPEL (libsrtp, cmocka, ShellCheck...) must be there before the main install,
# and CRB (EL 9) or PowerTools (EL 8) enabled, which EPEL's packages need.
if [ "$(head -1 "$tmp/calls")" = "install -y epel-release dnf-plugins-core" ]; then ok "dnf: epel-release first"
else fail "dnf: epel-release is not installed first: $(cat "$tmp/calls")"; fi
if sed -n 2p "$tmp/calls" | grep -qx 'config-manager --set-enabled crb'; then ok "dnf: CRB enabled before the install"
else fail "dnf: CRB is not enabled before the install: $(cat "$tmp/calls")"; fi

run_script dnf --test
same "dnf build + test packages are EL 9's" "$(words "$EL9_BUILD $EL9_TEST")" "$(installed_by libevent-devel)"

# The spec's BuildRequires (those outside %if: the rest are EL-version or
# --with check choices) are the script's build list less the openssl command.
spec_br=$(awk '/^%if/ { depth++ } /^%endif/ { depth-- }
               depth == 0 && /^BuildRequires:/ { print $2 }' rpm/rtpprobe.spec | sort -u)
same "rpm/rtpprobe.spec BuildRequires = install-deps' dnf build list less openssl" \
    "$(words "$EL9_BUILD" | grep -vx openssl)" "$spec_br"

run_script apt-get --test
debian=$(installed_by libevent-dev)
missing=$(comm -23 <(words "$DEBIAN_TEST_NEW") <(echo "$debian") | tr '\n' ' ')
if [ -z "$missing" ]; then ok "apt-get --test installs $DEBIAN_TEST_NEW"
else fail "apt-get --test does not install: $missing"; fi

if [ $fails -ne 0 ]; then echo "check-install-deps: $fails check(s) failed" >&2; exit 1; fi
echo "check-install-deps: all passed"
