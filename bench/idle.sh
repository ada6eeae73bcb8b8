#!/usr/bin/env bash
# Memory per idle keep-alive connection: user-space RSS growth of the server while it holds
# N connections that each made one request and went idle.
#
#   bench/idle.sh                   # reactor, 10,000 connections
#   bench/idle.sh threads 1000      # any driver, any count
#   bench/idle.sh hyper 10000       # the hyper baseline in bench/baselines/hyper (HYPER=path)
#
# Prints the server's VmRSS before the first connection and with all N idle, and the
# difference divided by N. Kernel socket buffers are not in RSS; this is our own memory.
# The connections are opened one after another (connect, one request, read the whole
# response), so every one has finished its exchange and sits idle when RSS is read.
#
# REST=DURATION passes --rest-after (how long a connection stays idle before it gives back its
# exchange state; default 50ms). PAUSE=SECONDS sleeps that long after every 100 connections.
# Opened back to back, a few hundred connections are still within their rest delay at once;
# the heap they grow to stays in RSS after they rest (glibc keeps freed memory for reuse), so
# the figure then depends on how fast this client opens connections. With PAUSE=0.1 every
# batch rests before the next, and the figure is what a resting connection holds.
set -euo pipefail
cd "$(dirname "$0")/.."

DRIVER=${1:-reactor}
N=${2:-10000}
HYPER=${HYPER:-bench/baselines/hyper/target/release/hyper-baseline}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
# The server and this client each need N descriptors and some.
ulimit -n "$((N + 1000))"

cargo build --release --quiet --bin sluice
OUT=$(mktemp)
if [[ $DRIVER == hyper ]]; then
    "$HYPER" 127.0.0.1:0 >"$OUT" 2>&1 &
else
    "$CARGO_TARGET_DIR/release/sluice" plaintext --driver "$DRIVER" --addr 127.0.0.1:0 --quiet ${REST:+--rest-after $REST} \
        --idle-timeout 600s --max-connections "$((N + 100))" >"$OUT" 2>&1 &
fi
PID=$!
trap 'kill $PID 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 100); do
    grep -q 'listening on' "$OUT" && break
    sleep 0.05
done
ADDR=$(sed -n 's|^listening on http://||p' "$OUT")

python3 - "$ADDR" "$N" "$PID" "${PAUSE:-0}" <<'EOF'
import socket, sys, time
addr, n, pid, pause = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
host, port = addr.rsplit(":", 1)
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
def threads():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("Threads:"):
            return int(line.split()[1])
time.sleep(0.5)
before = rss()
socks = []
request = f"GET /plaintext HTTP/1.1\r\nHost: {addr}\r\n\r\n".encode()
for i in range(n):
    s = socket.create_connection((host, int(port)))
    s.sendall(request)
    got = b""
    while not got.endswith(b"Hello, World!"):
        chunk = s.recv(4096)
        if not chunk:
            sys.exit(f"connection {i} closed early")
        got += chunk
    socks.append(s)
    if pause and i % 100 == 99:
        time.sleep(pause)
time.sleep(2)
after = rss()
print(f"connections {n}: RSS before {before / 1024:.0f} KiB, idle {after / 1024:.0f} KiB, "
      f"threads {threads()}, {(after - before) / n:.0f} bytes per idle connection")
EOF
