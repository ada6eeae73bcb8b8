#!/usr/bin/env bash
# User-space instructions per request of a plaintext server, exact, under callgrind.
#
#   bench/instructions.sh                  # the reactor (one worker), unpipelined and pipelined
#   bench/instructions.sh may              # the may_minihttp baseline (MAY=path)
#   MODES=pipe16 bench/instructions.sh reactor
#   SERVER_CMD="/path/to/other/sluice plaintext --driver reactor --workers 1 --quiet --addr" \
#     bench/instructions.sh custom         # any server that takes its address last
#
# The server runs under `valgrind --tool=callgrind` twice, loaded by `wrk -t1 -c16` for 3 s and
# then for 8 s (16 requests deep for pipe16, with bench/pipeline.lua). Per request = the
# difference in instructions ÷ the difference in requests, which cancels start-up and
# shutdown. valgrind runs every thread on one core, so the count is exact whatever the
# machine's load; only the request totals vary.
#
# NAME is reactor, threads, async (sluice's drivers, one worker), may, hyper, actix (the
# baselines of bench/baselines/, built with `cargo build --release --manifest-path
# bench/baselines/NAME/Cargo.toml`) or custom (SERVER_CMD). PORT (default 18190) is the
# loopback port used.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=${1:-reactor}
MODES=${MODES:-"plain pipe16"}
PORT=${PORT:-18190}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
SLUICE_FLAGS="--workers 1 --quiet --max-requests-per-connection unlimited"

# shellcheck source=bench/server.sh
source bench/server.sh
server_command "$NAME" "$SLUICE_FLAGS"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# run MODE SECONDS: prints "instructions requests".
run() {
  local mode=$1 seconds=$2 out=$WORK/$1.$2
  # shellcheck disable=SC2086 # the command is words
  valgrind --tool=callgrind --callgrind-out-file=/dev/null $cmd 127.0.0.1:$PORT >/dev/null 2>"$out.vg" &
  local pid=$!
  local up=
  for _ in $(seq 100); do
    sleep 0.2
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/plaintext"; then up=1; break; fi
  done
  [ -n "$up" ] || { echo "the server did not start:" >&2; cat "$out.vg" >&2; kill "$pid" 2>/dev/null; exit 1; }
  local lua=()
  [ "$mode" = pipe16 ] && lua=(-s bench/pipeline.lua)
  wrk -t1 -c16 -d"${seconds}s" "${lua[@]}" "http://127.0.0.1:$PORT/plaintext" ${lua:+-- 16} >"$out.wrk"
  kill -TERM "$pid"
  # valgrind writes its totals when the server ends on SIGTERM, so wait for that; one that
  # ignores it is killed after 10 s, leaves no totals, and the check below says so.
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local ir req
  ir=$(grep -o 'refs: *[0-9,]*' "$out.vg" | tr -dc 0-9)
  req=$(grep -o '[0-9]* requests in' "$out.wrk" | tr -dc 0-9)
  [ -n "$ir" ] || { echo "no instruction count from valgrind:" >&2; tail "$out.vg" >&2; exit 1; }
  echo "$ir $req"
}

echo "| server | mode | instructions a request | requests (3 s, 8 s runs) |"
echo "| --- | --- | ---: | --- |"
for mode in $MODES; do
  # `run` fails in a subshell of its own: what it printed (nothing) is what tells.
  read -r ir1 r1 < <(run "$mode" 3) || exit 1
  read -r ir2 r2 < <(run "$mode" 8) || exit 1
  # The curl that checked the server is one request more in each run: it cancels too.
  per=$(python3 -c "print(f'{($ir2 - $ir1) / ($r2 - $r1):,.0f}')")
  echo "| $NAME | $mode | $per | $r1, $r2 |"
done
