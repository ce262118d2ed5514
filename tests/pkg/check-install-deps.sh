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
# What make rpm-check and tests/monitoring need on Debian, on top of what was there before.
DEBIAN_TEST_NEW="rpm rpmlint shellcheck coturn prometheus libmonitoring-plugin-perl chromium chromium-driver python3-selenium baresip-core firefox-esr"
# tests/monitoring on EL: a separate, best-effort install (EPEL has some of them).
EL9_MONITORING="golang-github-prometheus perl-Monitoring-Plugin chromium chromedriver python3-selenium coturn baresip firefox"

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
# Not all of them exist on EL: a name dnf does not know must not stop the install.
same "dnf --test: tests/monitoring packages" "$(words "$EL9_MONITORING")" "$(installed_by perl-Monitoring-Plugin)"
if grep -q -- '--setopt=strict=0 .*perl-Monitoring-Plugin' "$tmp/calls"; then ok "dnf: tests/monitoring packages with strict=0"
else fail "dnf: tests/monitoring packages installed without --setopt=strict=0: $(cat "$tmp/calls")"; fi

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

# "Already installed?" (pkgs_ok) asks for each test tool on Debian: with all of
# them there install-deps --test installs nothing; without one it runs apt-get.
# Stubs stand for every tool (pkg-config finds everything); /usr/bin/python3 is
# the real one (its jsonschema and selenium are checked on this machine as is).
# debian_pkgs_ok MISSING: install-deps --test ran no apt-get with the tool MISSING
# taken away (perl: a perl without Monitoring::Plugin); "" for none.
debian_pkgs_ok() {
    local c
    rm -rf "${tmp:?}/bin"; mkdir "$tmp/bin"; : > "$tmp/calls"
    for c in pkg-config cc make jq curl openssl ip nft iperf3 tshark tc clang fail2ban-regex tinyproxy \
             rpmbuild rpmlint shellcheck turnserver ffmpeg promtool chromium chromedriver baresip firefox-esr; do
        [ "$c" = "$1" ] || stub "$c" 'exit 0'
    done
    if [ "$1" = perl ]; then stub perl 'exit 2'; else stub perl 'exit 0'; fi
    stub apt-get "printf '%s\\n' \"\$*\" >> '$tmp/calls'"
    stub id 'echo 0'
    stub sudo 'exec "$@"'
    PATH=$tmp/bin "$BASH" scripts/install-deps --test > "$tmp/out" 2>&1 || true
    ! grep -q '^install' "$tmp/calls"
}
if ! /usr/bin/python3 -c 'import selenium, jsonschema' 2>/dev/null; then
    echo "check-install-deps: skipped the pkgs_ok checks: /usr/bin/python3 lacks selenium or jsonschema here"
elif debian_pkgs_ok ""; then
    ok "apt-get: --test installs nothing when every tool is there"
    for missing in turnserver promtool chromium chromedriver baresip firefox-esr perl; do
        if debian_pkgs_ok "$missing"; then fail "apt-get: --test without $missing installs nothing"
        else ok "apt-get: --test without $missing installs"; fi
    done
else
    fail "apt-get: --test with every tool there still installs: $(cat "$tmp/calls" "$tmp/out")"
fi

if [ $fails -ne 0 ]; then echo "check-install-deps: $fails check(s) failed" >&2; exit 1; fi
echo "check-install-deps: all passed"
