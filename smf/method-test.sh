#!/bin/sh
# Tests the SMF method script smf/tern on a host without SMF (Linux CI).
#
#   sh smf/method-test.sh
#
# Runs a copy of smf/tern whose illumos paths point at stand-ins in a temporary directory:
# smf_include.sh (the exit codes of smf_method(7) and smf_clear_env), svcprop (answers from
# files) and ternd (records its arguments; `--check` passes or fails on demand; otherwise it
# sleeps like a daemon, or dies at once on demand). The copy is run by each distinct shell
# found among ksh93 (illumos' /sbin/sh is ksh93; Debian: apt-get install ksh), ksh, dash and
# sh. Checks the start method's exit codes and effects (config checked first, ternd left
# running with --config FILE and without the SMF_* variables, state directory created) and
# the check subcommand.
#
# Prints one line per case and `N passed, N failed`; exits 1 if any case failed. Kills every
# stand-in ternd it started and removes its temporary directory.
set -u

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tern-method.XXXXXX")
cleanup() {
    if [ -f "$tmp/pids" ]; then
        while read -r p; do kill "$p" 2>/dev/null; done < "$tmp/pids"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

cat > "$tmp/smf_include.sh" <<'EOF'
SMF_EXIT_OK=0
SMF_EXIT_ERR_FATAL=95
SMF_EXIT_ERR_CONFIG=96
SMF_EXIT_MON_DEGRADE=97
SMF_EXIT_MON_OFFLINE=98
SMF_EXIT_ERR_NOSMF=99
SMF_EXIT_ERR_PERM=100
smf_clear_env () { unset SMF_FMRI SMF_METHOD SMF_RESTARTER SMF_ZONENAME; }
EOF

# svcprop -p GROUP/NAME FMRI: prints props/GROUP_NAME if it exists, fails otherwise.
cat > "$tmp/svcprop" <<EOF
#!/bin/sh
echo "\$3" >> "$tmp/svcprop.fmri"
f="$tmp/props/\$(echo "\$2" | tr / _)"
[ -f "\$f" ] && cat "\$f"
EOF

# ternd: --check exits with the status in check_rc (default 0); otherwise runs until killed,
# or exits 7 at once if the file die exists.
cat > "$tmp/ternd" <<EOF
#!/bin/sh
echo "\$*" >> "$tmp/ternd.args"
case "\$1" in
--check) exit \$(cat "$tmp/check_rc" 2>/dev/null || echo 0) ;;
esac
echo "SMF_FMRI=\${SMF_FMRI-unset} SMF_METHOD=\${SMF_METHOD-unset}" > "$tmp/ternd.env"
echo \$\$ >> "$tmp/pids"
[ -f "$tmp/die" ] && exit 7
exec sleep 30
EOF
chmod 0755 "$tmp/svcprop" "$tmp/ternd"

sed -e "s#/lib/svc/share/smf_include.sh#$tmp/smf_include.sh#" \
    -e "s#/usr/bin/svcprop#$tmp/svcprop#" \
    -e "s#/usr/local/sbin/ternd#$tmp/ternd#" "$here/tern" > "$tmp/tern"
for p in "$tmp/smf_include.sh" "$tmp/svcprop" "$tmp/ternd"; do
    grep -qF "$p" "$tmp/tern" || { echo "method-test.sh: smf/tern no longer uses ${p##*/} at its illumos path" >&2; exit 1; }
done

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $shell: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $shell: $1"; sed 's/^/     | /' "$tmp/out"; }

# reset: fresh properties (config/file and config/state_dir exist or are creatable).
reset() {
    if [ -f "$tmp/pids" ]; then
        while read -r p; do kill "$p" 2>/dev/null; done < "$tmp/pids"
    fi
    rm -rf "$tmp/props" "$tmp/state" "$tmp/ternd.args" "$tmp/ternd.env" "$tmp/die" \
        "$tmp/check_rc" "$tmp/pids" "$tmp/svcprop.fmri"
    mkdir "$tmp/props"
    echo "$tmp/tern.toml" > "$tmp/props/config_file"
    echo "$tmp/state" > "$tmp/props/config_state_dir"
    echo '# stand-in config' > "$tmp/tern.toml"
}

# run METHOD [ENV=VALUE...]: runs the method copy; output (including the stand-in daemon's,
# which outlives it) goes to a file so that nothing waits for the daemon to close it.
run() {
    _method=$1
    shift
    env "$@" "$shell" "$tmp/tern" "$_method" > "$tmp/out" 2>&1
}
unset SMF_FMRI SMF_METHOD SMF_RESTARTER SMF_ZONENAME
FMRI=SMF_FMRI=svc:/network/routing/tern:default

# Each distinct shell once (ksh is often ksh93, sh often dash).
shells=""
seen=" "
for s in ksh93 ksh dash sh; do
    path=$(command -v "$s" 2>/dev/null) || continue
    real=$(readlink -f "$path" 2>/dev/null || echo "$path")
    case "$seen" in *" $real "*) continue ;; esac
    seen="$seen$real "
    shells="$shells $s"
done

for shell in $shells; do
    reset
    run start "$FMRI" SMF_METHOD=start; rc=$?
    if [ $rc -eq 0 ] && [ -d "$tmp/state" ] \
        && [ "$(sed -n 1p "$tmp/ternd.args")" = "--check --config $tmp/tern.toml" ] \
        && [ "$(sed -n 2p "$tmp/ternd.args")" = "--config $tmp/tern.toml" ] \
        && [ "$(cat "$tmp/ternd.env")" = "SMF_FMRI=unset SMF_METHOD=unset" ] \
        && [ "$(sort -u "$tmp/svcprop.fmri")" = "svc:/network/routing/tern:default" ] \
        && kill -0 "$(cat "$tmp/pids")" 2>/dev/null; then
        ok "start: checks, creates the state dir, leaves ternd running, exits 0"
    else
        fail "start: expected exit 0 and a running ternd (exit $rc)"
    fi

    reset
    rm "$tmp/tern.toml"
    run start "$FMRI"; rc=$?
    if [ $rc -eq 96 ] && [ ! -f "$tmp/ternd.args" ] && grep -q "cannot read" "$tmp/out"; then
        ok "start: unreadable config file: exit 96 (SMF_EXIT_ERR_CONFIG)"
    else
        fail "start: unreadable config file: expected exit 96 (exit $rc)"
    fi

    reset
    echo 1 > "$tmp/check_rc"
    run start "$FMRI"; rc=$?
    if [ $rc -eq 96 ] && [ ! -f "$tmp/pids" ]; then
        ok "start: ternd --check fails: exit 96, ternd not started"
    else
        fail "start: ternd --check fails: expected exit 96 (exit $rc)"
    fi

    reset
    : > "$tmp/blocker"
    echo "$tmp/blocker/state" > "$tmp/props/config_state_dir"
    run start "$FMRI"; rc=$?
    if [ $rc -eq 96 ] && [ ! -f "$tmp/pids" ] && grep -q "chown tern:tern" "$tmp/out"; then
        ok "start: state dir cannot be created: exit 96 with the commands to fix it"
    else
        fail "start: state dir cannot be created: expected exit 96 (exit $rc)"
    fi

    reset
    : > "$tmp/die"
    run start "$FMRI"; rc=$?
    if [ $rc -ne 0 ] && grep -q "exited with status 7" "$tmp/out"; then
        ok "start: ternd dies during start-up: exit $rc, its status reported"
    else
        fail "start: ternd dies during start-up: expected a failure (exit $rc)"
    fi

    reset
    run start; rc=$?
    if [ $rc -eq 99 ] && [ ! -f "$tmp/ternd.args" ]; then
        ok "start outside SMF: exit 99 (SMF_EXIT_ERR_NOSMF)"
    else
        fail "start outside SMF: expected exit 99 (exit $rc)"
    fi

    reset
    run check; rc=$?
    if [ $rc -eq 0 ] && grep -q "$tmp/tern.toml is valid" "$tmp/out" \
        && [ "$(cat "$tmp/ternd.args")" = "--check --config $tmp/tern.toml" ] \
        && [ "$(sort -u "$tmp/svcprop.fmri")" = "svc:/network/routing/tern:default" ]; then
        ok "check: reads config/file of the default instance, exit 0"
    else
        fail "check: expected exit 0 (exit $rc)"
    fi

    reset
    echo 1 > "$tmp/check_rc"
    run check; rc=$?
    if [ $rc -eq 1 ] && ! grep -q "is valid" "$tmp/out"; then
        ok "check: invalid config: exit 1"
    else
        fail "check: invalid config: expected exit 1 (exit $rc)"
    fi

    reset
    rm "$tmp/props/config_file"
    run check
    if grep -q "/etc/tern/tern.toml" "$tmp/out"; then
        ok "check: config/file unset: uses /etc/tern/tern.toml"
    else
        fail "check: config/file unset: expected /etc/tern/tern.toml"
    fi

    reset
    run restart; rc=$?
    if [ $rc -eq 2 ] && grep -q usage "$tmp/out"; then ok "unknown method: usage, exit 2"; else fail "unknown method: expected exit 2 (exit $rc)"; fi
done
reset

echo "method-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
