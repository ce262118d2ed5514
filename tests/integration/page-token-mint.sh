#!/usr/bin/env bash
# The page-token minting examples of docs/webrtc.md, as printed there: the
# Python and PHP blocks after their <!-- page-token-mint.* --> markers are
# run (python3, php) on a fresh secret file, and their tokens checked with the
# daemon's own rp_pagetoken_check (build/tools/pagetool), as is a token from
# `rtpprobed --page-token` for the same secret. A token from another secret
# must be refused. No daemon, no ports: no suite lock needed.
#   BIN=build TOOLS=build/tools tests/integration/page-token-mint.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-build}
TOOLS=${TOOLS:-build/tools}
PYTHON=${PYTHON:-/usr/bin/python3}
DOC=docs/webrtc.md
if [ ! -x "$TOOLS/pagetool" ] || [ ! -x "$BIN/rtpprobed" ]; then
    echo "page-token-mint: FAIL: $TOOLS/pagetool or $BIN/rtpprobed missing (make all build/tools/pagetool)"
    exit 1
fi
WORK=$(mktemp -d /tmp/rtpprobe-mint.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
pass=0 fail=0
ok() { echo "   ok   $*"; pass=$((pass + 1)); }
bad() { echo "   FAIL $*"; fail=$((fail + 1)); }
# expect WHAT TOKEN WANT [SECRET]: the daemon's verdict on TOKEN is WANT
expect() {
    local v
    v=$("$TOOLS/pagetool" check "${4:-$WORK/page.secret}" "$2" 3600 || true)
    if [ "$v" = "$3" ]; then ok "$1: $2 -> $v"; else bad "$1: '$2' -> '$v', not '$3'"; fi
}

# block MARKER: the fenced code block that follows the line <!-- MARKER ... -->
block() {
    awk -v m="<!-- $1" 'index($0, m) == 1 { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$DOC"
}
(umask 027 && openssl rand -hex 32 > "$WORK/page.secret")
(umask 027 && openssl rand -hex 32 > "$WORK/other.secret")
# The examples read /etc/rtpprobe/page.secret: point them at the test's file.
at_work() { sed "s|/etc/rtpprobe/page.secret|$WORK/page.secret|"; }

block page-token-mint.py | at_work > "$WORK/mint.py"
[ "$(grep -c . "$WORK/mint.py")" = 6 ] || bad "the Python example is not the 6 lines expected: $(cat "$WORK/mint.py")"
printf 'print(page_token(secret, "alice"))\nprint(page_token(secret))\n' >> "$WORK/mint.py"
mapfile -t py < <("$PYTHON" "$WORK/mint.py")
expect "Python example" "${py[0]:-}" "ok alice"
expect "Python example without agent" "${py[1]:-}" "ok "

if command -v php >/dev/null; then
    block page-token-mint.php | at_work > "$WORK/mint.php"
    [ "$(grep -c . "$WORK/mint.php")" = 7 ] || bad "the PHP example is not <?php + 6 lines: $(cat "$WORK/mint.php")"
    # shellcheck disable=SC2016 # PHP's variables, not the shell's
    printf 'echo page_token($secret, "alice"), "\\n", page_token($secret), "\\n";\n' >> "$WORK/mint.php"
    mapfile -t ph < <(php "$WORK/mint.php")
    expect "PHP example" "${ph[0]:-}" "ok alice"
    expect "PHP example without agent" "${ph[1]:-}" "ok "
else
    echo "   skip PHP example: php missing (apt-get install php-cli)"
fi

printf 'control = { tokens = ( "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" ); };\n'`
       `'webrtc = { page_secret_file = "%s"; };\n' "$WORK/page.secret" > "$WORK/rtpprobed.conf"
cli=$("$BIN/rtpprobed" --page-token --agent alice -c "$WORK/rtpprobed.conf")
expect "rtpprobed --page-token" "$cli" "ok alice"
expect "checked with another secret" "${py[0]:-}" bad_signature "$WORK/other.secret"
echo "page-token-mint: $pass passed, $fail failed"
[ "$fail" = 0 ]
