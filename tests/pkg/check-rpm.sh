#!/usr/bin/env bash
# make rpm-check, after make rpm: rpmlint on the spec and the built package (no
# error, no warning that rpm/rtpprobe.rpmlintrc does not explain), then what the
# package holds and does: files, owners, modes, config flags, the unit's
# ExecStart, the group, the scriptlets, and binaries that run.
# Environment: RPM_TOP (rpmbuild's _topdir, default build/rpm), RPM_MACROS
# (the --load option make rpm used; non-empty on Debian, see rpm/macros.debian).
set -euo pipefail
cd "$(dirname "$0")/../.."

RPM_TOP=${RPM_TOP:-$PWD/build/rpm}
RPM_MACROS=${RPM_MACROS:-}
fails=0
fail() { echo "rpm-check: FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "rpm-check: ok: $*"; }

# rpm --eval with the macros the package was built with.
rpmeval() {
    # shellcheck disable=SC2086 # RPM_MACROS is an option and its argument, or nothing
    rpm $RPM_MACROS --eval "$1"
}

version=$(sed -n 's/^VERSION *= *//p' Makefile)
spec_version=$(sed -n 's/^Version: *//p' rpm/rtpprobe.spec)
if [ "$version" = "$spec_version" ]; then ok "spec Version $spec_version = Makefile VERSION"
else fail "spec Version '$spec_version' differs from the Makefile's VERSION '$version'"; fi

shopt -s nullglob
rpms=("$RPM_TOP"/RPMS/*/rtpprobe-"$version"-*.rpm)
shopt -u nullglob
if [ ${#rpms[@]} -ne 1 ]; then
    fail "expected one rtpprobe-$version-*.rpm under $RPM_TOP/RPMS, found ${#rpms[@]}"
    exit 1
fi
pkg=${rpms[0]}
echo "rpm-check: $pkg"

# --- rpmlint -----------------------------------------------------------------
# The spec is linted beside its sources (rpmlint takes the spec's directory as
# _sourcedir, and EL's sysusers_create_compat reads Source1 while parsing).
cp rpm/rtpprobe.spec "$RPM_TOP/SOURCES/rtpprobe.spec"
lint_args=(-r rpm/rtpprobe.rpmlintrc)
[ -n "$RPM_MACROS" ] && lint_args+=(-c rpm/rpmlint-debian.toml)
lint_rc=0
lint_out=$(rpmlint "${lint_args[@]}" "$RPM_TOP/SOURCES/rtpprobe.spec" "$pkg" 2>&1) || lint_rc=$?
while IFS= read -r line; do echo "    $line"; done <<<"$lint_out"
if [ $lint_rc -ne 0 ] || grep -qE ': [EW]: ' <<<"$lint_out"; then
    fail "rpmlint: errors or unexplained warnings (exit $lint_rc); fix them, or filter in rpm/rtpprobe.rpmlintrc with the reason"
else
    ok "rpmlint: spec and package clean"
fi
if grep -q '^License: *LicenseRef-TBD' rpm/rtpprobe.spec; then
    echo "rpm-check: NOTE: License is a placeholder: the repository states no license (rpm/rtpprobe.spec)"
fi

# --- files, owners, modes, flags ----------------------------------------------
sbindir=$(rpmeval '%{_sbindir}')
bindir=$(rpmeval '%{_bindir}')
unitdir=$(rpmeval '%{_unitdir}')
sysusersdir=$(rpmeval '%{_sysusersdir}')
mandir=$(rpmeval '%{_mandir}')
listing=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags}. %{FILENAMES}\n]' "$pkg")
# want PATTERN WHAT: one line of the listing matches the extended regex.
want() {
    if grep -qE "$1" <<<"$listing"; then ok "$2"; else fail "$2: no file matches /$1/"; fi
}
want "^-rwxr-xr-x root root \\. $sbindir/rtpprobed\$" "daemon in $sbindir"
want "^-rwxr-xr-x root root \\. $bindir/rtpprobe\$" "probe in $bindir"
want "^-rw-r--r-- root root \\. $unitdir/rtpprobed\\.service\$" "unit in $unitdir"
want "^-rw-r--r-- root root \\. $sysusersdir/rtpprobe\\.conf\$" "sysusers file in $sysusersdir"
want "^drwxr-x--- root rtpprobe \\. /etc/rtpprobe\$" "/etc/rtpprobe root:rtpprobe 0750"
want "^-rw-r----- root rtpprobe cn\\. /etc/rtpprobe/rtpprobed\\.conf\$" \
    "rtpprobed.conf root:rtpprobe 0640, config(noreplace)"
want "^-rw-r--r-- root root d\\. $mandir/man1/rtpprobe\\.1(\\.gz)?\$" "rtpprobe(1)"
want "^-rw-r--r-- root root d\\. $mandir/man8/rtpprobed\\.8(\\.gz)?\$" "rtpprobed(8)"
for snippet in nginx/rtpprobe.conf fail2ban/filter.d/rtpprobed.conf fail2ban/jail.d/rtpprobed.conf; do
    want "^-rw-r--r-- root root d\\. /usr/share/doc/rtpprobe[^/]*/$snippet\$" "doc $snippet"
done

# --- contents -----------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && rpm2cpio "$pkg" | cpio -idm --quiet)
unit=$tmp$unitdir/rtpprobed.service
exec_line=$(grep '^ExecStart=' "$unit" || true)
if [ "$exec_line" = "ExecStart=$sbindir/rtpprobed -c /etc/rtpprobe/rtpprobed.conf" ]; then
    ok "unit: $exec_line"
else
    fail "unit: '$exec_line' does not start $sbindir/rtpprobed with /etc/rtpprobe/rtpprobed.conf"
fi
if grep -q '@[A-Z]*@' "$unit"; then fail "unit: placeholders left: $(grep -o '@[A-Z]*@' "$unit" | sort -u | tr '\n' ' ')"
else ok "unit: no @...@ placeholder left"; fi
sysusers=$(grep -v '^#' "$tmp$sysusersdir/rtpprobe.conf")
unit_group=$(sed -n 's/^SupplementaryGroups=//p' "$unit")
if [ "$sysusers" = "g $unit_group -" ]; then ok "sysusers creates the unit's group '$unit_group'"
else fail "sysusers says '$sysusers', the unit's SupplementaryGroups= is '$unit_group'"; fi
if cmp -s "$tmp/etc/rtpprobe/rtpprobed.conf" conf/rtpprobed.conf; then ok "rtpprobed.conf is conf/rtpprobed.conf"
else fail "/etc/rtpprobe/rtpprobed.conf differs from conf/rtpprobed.conf"; fi
for b in "$sbindir/rtpprobed" "$bindir/rtpprobe"; do
    # Runs where the package was built for this host (always so on the build host).
    out=$("$tmp$b" --version 2>&1) || true
    if grep -qF "$version" <<<"$out"; then ok "$(basename "$b") --version: $out"
    else fail "$(basename "$b") --version printed '$out', not $version"; fi
done

# --- scriptlets ---------------------------------------------------------------
pre=$(rpm -qp --qf '%{PREIN}' "$pkg")
if grep -qE "groupadd -r '?rtpprobe'?" <<<"$pre"; then ok "pre-install creates the group rtpprobe"
else fail "pre-install does not create the group rtpprobe: $pre"; fi
for tag in POSTIN PREUN POSTUN; do
    s=$(rpm -qp --qf "%{$tag}" "$pkg")
    if grep -qE '(systemctl|systemd-update-helper).* rtpprobed\.service' <<<"$s"; then
        ok "$tag scriptlet handles rtpprobed.service"
    else
        fail "$tag scriptlet does not handle rtpprobed.service: $s"
    fi
done

if [ $fails -ne 0 ]; then echo "rpm-check: $fails check(s) failed" >&2; exit 1; fi
echo "rpm-check: all passed"
