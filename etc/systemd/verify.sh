#!/bin/sh
# Checks the tern systemd unit with `systemd-analyze verify`.
#
#   sh etc/systemd/verify.sh [UNIT]      (default: tern.service beside this script)
#
# UNIT may also be an installed copy (its ternd path rewritten for a PREFIX). ternd need not
# be built or installed: the unit is verified as a copy in a temporary directory whose
# ternd paths (any absolute path ending in /sbin/ternd) point at a stand-in executable there,
# since verify rejects a unit whose ExecStart= binary does not exist. Any message that
# systemd-analyze prints about the unit (unknown or misspelt directives, bad values, missing
# executables) fails the check, not only the errors it exits non-zero for. Then
# `systemd-analyze security` prints the unit's exposure score, for information.
#
# Needs systemd-analyze (Debian: apt-get install systemd); it does not need systemd to be
# running. Exits 0 if the unit is clean, 1 otherwise. Removes its temporary directory.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
unit=${1:-$here/tern.service}

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "verify.sh: systemd-analyze not found (Debian: apt-get install systemd)" >&2
    exit 1
fi
if [ ! -r "$unit" ]; then
    echo "verify.sh: cannot read $unit" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tern-verify.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

mkdir "$tmp/sbin"
printf '#!/bin/sh\nexit 0\n' > "$tmp/sbin/ternd"
chmod 0755 "$tmp/sbin/ternd"
# The unit must keep its name: systemd-analyze derives the unit type from it.
sed "s#/[^ =]*/sbin/ternd#$tmp/sbin/ternd#g" "$unit" > "$tmp/tern.service"

grep -q "^ExecStart=$tmp/sbin/ternd " "$tmp/tern.service" || {
    echo "verify.sh: $unit has no ExecStart= line running an absolute .../sbin/ternd" >&2
    exit 1
}
# Every executable the unit names must exist on this host (e.g. /bin/kill).
sed -n 's/^Exec[A-Za-z]*=[-+!@:]*\([^ ]*\).*/\1/p' "$tmp/tern.service" | sort -u > "$tmp/exes"
while read -r exe; do
    [ -x "$exe" ] || { echo "verify.sh: $unit runs $exe, which is not an executable here" >&2; exit 1; }
done < "$tmp/exes"

status=0
# --man=no: Documentation= is a file: URL, not a man page to look up.
systemd-analyze verify --man=no "$tmp/tern.service" > "$tmp/out" 2>&1 || status=$?
# Messages about other units (e.g. targets on a minimal host) are not this unit's problem.
grep -F "tern.service" "$tmp/out" > "$tmp/ours" || true

if [ "$status" -ne 0 ] || [ -s "$tmp/ours" ]; then
    echo "verify.sh: systemd-analyze verify $unit (exit status $status):" >&2
    sed "s#$tmp/#<tmp>/#g" "$tmp/out" >&2
    exit 1
fi
echo "verify.sh: systemd-analyze verify: $unit is clean"

# Informational: the exposure score of the sandboxing (0 = locked down, 10 = unprotected).
# --offline needs systemd 250 or later.
if systemd-analyze security --offline=true "$tmp/tern.service" > "$tmp/security" 2>&1; then
    grep -E "Overall exposure level" "$tmp/security" | sed "s#$tmp/#<tmp>/#g; s/^/verify.sh: /" || true
fi
exit 0
