#!/bin/sh
# Tests `make install` and `make uninstall` without building anything or touching the host:
# each case installs into a fresh DESTDIR under a temporary directory, from a BIN_DIR of
# stand-in ternd, ternctl and tern-load scripts (NO_BUILD=1), and checks the tree:
#
#   Linux, PREFIX=/usr/local  programs, README, config, unit with ternd paths rewritten,
#                             sysusers.d entry, no SMF files, nothing outside DESTDIR's
#                             expected tree; the installed unit passes etc/systemd/verify.sh
#                             (when systemd-analyze is installed)
#   again over that tree      an existing /etc/tern/tern.toml is kept as it is
#   Linux, PREFIX=/usr        unit in /lib/systemd/system, no /usr/local left in it
#   SunOS, PREFIX=/opt/tern   manifest and method script in /lib/svc, paths rewritten; the
#                             installed manifest passes smf/check.py
#   uninstall (each)          only etc/tern/tern.toml is left
#   missing binary            make install fails and installs nothing
#
#   sh etc/install-test.sh
#
# CONFIG_SRC (default etc/tern/tern.toml) is the example config to install. MAKE selects
# the make program (default make). Prints one line per check and `N passed, N failed`;
# exits 1 if any check failed. Removes its temporary directory.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
make=${MAKE:-make}
config_src=${CONFIG_SRC:-$root/etc/tern/tern.toml}
if [ ! -f "$config_src" ]; then
    echo "install-test.sh: the example config $config_src is missing" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tern-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

mkdir "$tmp/bin"
for b in ternd ternctl tern-load; do
    printf '#!/bin/sh\necho "stand-in %s"\n' "$b" > "$tmp/bin/$b"
    chmod 0755 "$tmp/bin/$b"
done

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
    _what=$1
    shift
    if "$@"; then
        passed=$((passed + 1)); echo "ok   $_what"
    else
        failed=$((failed + 1)); echo "FAIL $_what"
    fi
}
# inst DESTDIR TARGET [VAR=VALUE...]: runs make TARGET for that DESTDIR; log in $tmp/log.
inst() {
    _dest=$1
    _target=$2
    shift 2
    "$make" -C "$root" --no-print-directory "$_target" NO_BUILD=1 BIN_DIR="$tmp/bin" \
        CONFIG_SRC="$config_src" DESTDIR="$_dest" "$@" > "$tmp/log" 2>&1
    _rc=$?
    [ $_rc -eq 0 ] || [ -n "${expect_failure:-}" ] || sed 's/^/     | /' "$tmp/log"
    return $_rc
}
# tree DESTDIR: every file and symlink under DESTDIR, relative, sorted.
tree() { (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort); }
is_exec() { [ -f "$1" ] && [ -x "$1" ]; }
same() { cmp -s "$1" "$2"; }
has() { grep -qF -- "$2" "$1"; }
has_line() { grep -qxF -- "$2" "$1"; }
fails() { ! "$@"; }
lacks() { ! grep -qF -- "$2" "$1"; }
only() { [ "$(tree "$1")" = "$2" ]; }

# --- Linux, PREFIX=/usr/local -------------------------------------------------------------
d=$tmp/linux
check "linux: make install PREFIX=/usr/local succeeds" inst "$d" install PREFIX=/usr/local INSTALL_OS=Linux
check "linux: exactly the expected files" only "$d" "etc/tern/tern.toml
usr/local/bin/tern-load
usr/local/bin/ternctl
usr/local/lib/systemd/system/tern.service
usr/local/lib/sysusers.d/tern.conf
usr/local/sbin/ternd
usr/local/share/doc/tern/README.md
usr/local/share/doc/tern/systemd.md"
check "linux: ternd installed, executable" is_exec "$d/usr/local/sbin/ternd"
check "linux: ternd is BIN_DIR's" same "$tmp/bin/ternd" "$d/usr/local/sbin/ternd"
check "linux: ternctl installed, executable" is_exec "$d/usr/local/bin/ternctl"
check "linux: tern-load installed, executable" is_exec "$d/usr/local/bin/tern-load"
check "linux: config is the example" same "$config_src" "$d/etc/tern/tern.toml"
u=$d/usr/local/lib/systemd/system/tern.service
check "linux: unit ExecStart" has_line "$u" "ExecStart=/usr/local/sbin/ternd --config /etc/tern/tern.toml"
check "linux: unit ExecStartPre checks the config" has_line "$u" "ExecStartPre=/usr/local/sbin/ternd --check --config /etc/tern/tern.toml"
check "linux: unit is the source unit (PREFIX=/usr/local)" same "$root/etc/systemd/tern.service" "$u"
check "linux: DESTDIR does not leak into the unit" lacks "$u" "$tmp"
if command -v systemd-analyze >/dev/null 2>&1; then
    check "linux: installed unit passes etc/systemd/verify.sh" sh "$root/etc/systemd/verify.sh" "$u"
else
    echo "skip linux: systemd-analyze not installed, installed unit not verified"
fi

echo "# the operator's own config" > "$d/etc/tern/tern.toml"
cp "$d/etc/tern/tern.toml" "$tmp/operator.toml"
check "linux: make install over an installed tree succeeds" inst "$d" install PREFIX=/usr/local INSTALL_OS=Linux
check "linux: existing config not overwritten" same "$tmp/operator.toml" "$d/etc/tern/tern.toml"
check "linux: install says it kept the config" has "$tmp/log" "kept the existing"
check "linux: no leftover temporary files" only "$d" "$(tree "$d" | grep -v '\.new$')"

check "linux: make uninstall succeeds" inst "$d" uninstall PREFIX=/usr/local INSTALL_OS=Linux
check "linux: uninstall leaves only the config" only "$d" "etc/tern/tern.toml"
check "linux: the config left is the operator's" same "$tmp/operator.toml" "$d/etc/tern/tern.toml"

# --- Linux, PREFIX=/usr -------------------------------------------------------------------
d=$tmp/usr
check "usr: make install PREFIX=/usr succeeds" inst "$d" install PREFIX=/usr INSTALL_OS=Linux
check "usr: exactly the expected files" only "$d" "etc/tern/tern.toml
lib/systemd/system/tern.service
usr/bin/tern-load
usr/bin/ternctl
usr/lib/sysusers.d/tern.conf
usr/sbin/ternd
usr/share/doc/tern/README.md
usr/share/doc/tern/systemd.md"
u=$d/lib/systemd/system/tern.service
check "usr: unit ExecStart rewritten" has_line "$u" "ExecStart=/usr/sbin/ternd --config /etc/tern/tern.toml"
check "usr: unit ExecStartPre rewritten" has_line "$u" "ExecStartPre=/usr/sbin/ternd --check --config /etc/tern/tern.toml"
check "usr: unit ExecReload check rewritten" has_line "$u" "ExecReload=/usr/sbin/ternd --check --config /etc/tern/tern.toml"
check "usr: unit Documentation rewritten" has_line "$u" "Documentation=file:/usr/share/doc/tern/README.md"
check "usr: no /usr/local/ left in the unit" lacks "$u" "/usr/local/"
check "usr: no /usr/local/ left in the sysusers entry" lacks "$d/usr/lib/sysusers.d/tern.conf" "/usr/local/"
if command -v systemd-analyze >/dev/null 2>&1; then
    check "usr: installed unit passes etc/systemd/verify.sh" sh "$root/etc/systemd/verify.sh" "$u"
fi
check "usr: make uninstall succeeds" inst "$d" uninstall PREFIX=/usr INSTALL_OS=Linux
check "usr: uninstall leaves only the config" only "$d" "etc/tern/tern.toml"

# --- SunOS (illumos), PREFIX=/opt/tern ------------------------------------------------------
d=$tmp/illumos
check "illumos: make install PREFIX=/opt/tern succeeds" inst "$d" install PREFIX=/opt/tern INSTALL_OS=SunOS
check "illumos: exactly the expected files" only "$d" "etc/tern/tern.toml
lib/svc/manifest/network/routing/tern.xml
lib/svc/method/tern
opt/tern/bin/tern-load
opt/tern/bin/ternctl
opt/tern/sbin/ternd
opt/tern/share/doc/tern/README.md
opt/tern/share/doc/tern/smf.md"
m=$d/lib/svc/method/tern
x=$d/lib/svc/manifest/network/routing/tern.xml
check "illumos: method script executable" is_exec "$m"
check "illumos: method runs PREFIX's ternd" has_line "$m" "TERND=/opt/tern/sbin/ternd"
check "illumos: no /usr/local/ left in the method" lacks "$m" "/usr/local/"
check "illumos: no /usr/local/ left in the manifest" lacks "$x" "/usr/local/"
check "illumos: manifest doc link rewritten" has "$x" "file://localhost/opt/tern/share/doc/tern/README.md"
check "illumos: manifest start method unchanged" has "$x" 'exec="/lib/svc/method/tern start"'
check "illumos: installed manifest passes smf/check.py" python3 "$root/smf/check.py" "$x"
check "illumos: make uninstall succeeds" inst "$d" uninstall PREFIX=/opt/tern INSTALL_OS=SunOS
check "illumos: uninstall leaves only the config" only "$d" "etc/tern/tern.toml"

# --- a missing binary ------------------------------------------------------------------------
d=$tmp/missing
rm "$tmp/bin/tern-load"
expect_failure=1
check "missing binary: make install fails" fails inst "$d" install INSTALL_OS=Linux
expect_failure=
check "missing binary: the error names it" has "$tmp/log" "tern-load is missing"
check "missing binary: nothing installed" fails test -e "$d"

echo "install-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
