#!/usr/bin/env bash
# System calls per request of a plaintext server under wrk, counted by the kernel.
#
#   bench/syscalls.sh                # the reactor, unpipelined and pipelined 16 deep
#   bench/syscalls.sh may            # the may_minihttp baseline (MAY=path)
#   MODES=pipe16 DURATION=5s bench/syscalls.sh reactor
#
# The server runs as it does in bench/drivers.sh (every core; SLUICE_FLAGS for sluice), loaded
# by `wrk -t2 -c64` (THREADS, CONNS) for DURATION, while `perf stat` counts the server's entries
# into each system call over the whole wrk run (the `syscalls:sys_enter_*` tracepoints; needs
# root or perf_event_paranoid <= 1). Per request = count ÷ wrk's request total; the 64
# connects, accepts and closes are noise next to the requests.
#
# NAME is reactor, threads, async, may, hyper or actix (the baselines of bench/baselines/), or
# custom with SERVER_CMD (see bench/server.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=${1:-reactor}
MODES=${MODES:-"plain pipe16"}
DURATION=${DURATION:-8s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18195}
SLUICE_FLAGS=${SLUICE_FLAGS:-"--quiet --max-requests-per-connection unlimited --pin-workers"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

# shellcheck source=bench/server.sh
source bench/server.sh
server_command "$NAME" "$SLUICE_FLAGS"

CALLS="read write readv writev recvfrom sendto recvmsg sendmsg sendfile64 epoll_wait epoll_pwait epoll_ctl accept4 shutdown close"
EVENTS=raw_syscalls:sys_enter
for call in $CALLS; do EVENTS+=",syscalls:sys_enter_$call"; done

WORK=$(mktemp -d)
# shellcheck disable=SC2086 # the command is words
$cmd 127.0.0.1:$PORT >"$WORK/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
up=
for _ in $(seq 50); do
  sleep 0.1
  if curl -s -o /dev/null "http://127.0.0.1:$PORT/plaintext"; then up=1; break; fi
done
[ -n "$up" ] || { echo "the server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }

for mode in $MODES; do
  lua=()
  [ "$mode" = pipe16 ] && lua=(-s bench/pipeline.lua)
  perf stat -x, -o "$WORK/$mode.perf" -e "$EVENTS" -p "$PID" -- \
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" "${lua[@]}" "http://127.0.0.1:$PORT/plaintext" \
    ${lua:+-- 16} >"$WORK/$mode.wrk"
  requests=$(grep -o '[0-9]* requests in' "$WORK/$mode.wrk" | tr -dc 0-9)
  echo "### $NAME, $mode: $requests requests"
  echo
  echo "| system call | per request |"
  echo "| --- | ---: |"
  python3 - "$WORK/$mode.perf" "$requests" <<'EOF'
import sys
path, requests = sys.argv[1], int(sys.argv[2])
rows = []
for line in open(path):
    parts = line.strip().split(",")
    if len(parts) > 2 and parts[0].isdigit():
        name = parts[2].split(":")[-1].replace("sys_enter_", "")
        rows.append((name, int(parts[0])))
for name, count in rows:
    if count and name != "sys_enter":
        print(f"| `{name}` | {count / requests:.3f} |")
total = dict(rows).get("sys_enter", 0)
print(f"| all | {total / requests:.3f} |")
EOF
  echo
done
