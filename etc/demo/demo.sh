#!/usr/bin/env bash
# The tern demo (make demo): two ternd processes on 127.0.0.1 and 127.0.0.2 peer with each
# other; r1 announces a prefix with ternctl; both routers' summaries and routes are shown;
# then both stop cleanly (SIGTERM: Cease / Administrative Shutdown to the peer).
#
#   etc/demo/demo.sh [BIN_DIR]      BIN_DIR holds ternd and ternctl (default target/release)
#
# Everything lives in a temporary directory, removed at the end; the daemons are stopped
# by their PIDs, also when the demo fails half way.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${1:-target/release}
ternd="$bin/ternd"
ternctl="$bin/ternctl"
for b in "$ternd" "$ternctl"; do
    [ -x "$b" ] || { echo "demo: $b not found; build first (make demo does)" >&2; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/tern-demo.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# ternctl for router $1, the rest are its arguments; the command is shown first.
ctl() {
    local r=$1; shift
    printf '$ ternctl --socket %s %s\n' "\$DEMO/$r/tern.sock" "$*"
    "$ternctl" --socket "$dir/$r/tern.sock" "$@"
}
# Waits up to $2 seconds for a command to succeed.
wait_until() {
    local what=$1 secs=$2; shift 2
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $end ]; then
            echo "demo: timed out waiting for $what; logs:" >&2
            tail -n 20 "$dir"/r*/ternd.log >&2 || true
            exit 1
        fi
        sleep 0.2
    done
}
established() { "$ternctl" --socket "$dir/$1/tern.sock" show neighbor "$2" | grep -q 'State: *established'; }
has_route() { "$ternctl" --socket "$dir/$1/tern.sock" show route "$2" --exact | grep -q "^$2"; }

step "starting r1 (127.0.0.1, AS 4200000001) and r2 (127.0.0.2, AS 65002) in $dir"
for r in r1 r2; do
    mkdir -p "$dir/$r"
    sed "s|@DIR@|$dir|g" "$here/$r.toml" >"$dir/$r/tern.toml"
    "$ternd" --check --config "$dir/$r/tern.toml"
    "$ternd" --config "$dir/$r/tern.toml" 2>"$dir/$r/ternd.log" &
    pids+=($!)
done
wait_until "the admin sockets" 10 "$ternctl" --socket "$dir/r1/tern.sock" show summary
wait_until "the admin sockets" 10 "$ternctl" --socket "$dir/r2/tern.sock" show summary
wait_until "the session to come up" 20 established r1 r2

step "r1 announces 198.51.100.0/24"
ctl r1 announce 198.51.100.0/24 --community 65000:100
wait_until "r2 to learn it" 10 has_route r2 198.51.100.0/24
wait_until "r1 to learn r2's origin" 10 has_route r1 203.0.113.0/24
sleep 1.2   # session counters are published once a second

for r in r1 r2; do
    step "$r: summary"
    ctl "$r" show summary
    step "$r: routes"
    ctl "$r" show route
done

step "stopping both (SIGTERM)"
kill -TERM "${pids[0]}"
wait "${pids[0]}" && echo "r1 exited cleanly"
sleep 0.5
ctl r2 show neighbor r1 | grep -E 'State|Last received' || true
kill -TERM "${pids[1]}"
wait "${pids[1]}" && echo "r2 exited cleanly"
pids=()
step "done: both daemons stopped; the logs were in $dir (now removed)"
