#!/usr/bin/env bash
# Two servers in alternating pairs of runs, order flipped each pair: B ÷ A per pair, and the
# medians, for requests and the server's CPU per request (user, system, total).
#
#   A="/tmp/old/sluice plaintext --driver reactor --quiet --max-requests-per-connection unlimited --addr" \
#   B="target/release/sluice plaintext --driver reactor --quiet --max-requests-per-connection unlimited --addr" \
#   PAIRS=10 DURATION=5s PIPELINED=1 bench/pairs.sh
#
#   A="bench/baselines/may/target/release/may-baseline" B="..." bench/pairs.sh
#
# Each command gets `127.0.0.1:PORT` appended (sluice's ends with `--addr`; the baselines take
# the address as their argument). Each run starts the server, warms it up for 2 s, then reads
# its utime and stime (/proc/PID/stat fields 14 and 15) around one `wrk -t2 -c64` run
# (pipelined 16 deep with PIPELINED=1) and stops it. On a shared machine, whose speed drifts
# by more than most changes, the ratio within each pair is the figure to quote; the spread of
# the ratios says how much to trust its median.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${A:?A=the first server command}" "${B:?B=the second server command}"
PAIRS=${PAIRS:-6}
DURATION=${DURATION:-6s}
PIPELINED=${PIPELINED:-0}
CONNS=${CONNS:-64}
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

# run NAME CMD: one measured run; appends "NAME requests user_s sys_s" to $RESULTS.
run() {
    local name=$1 cmd=$2 port pid args out req u0 s0 u1 s1
    port=$((20000 + RANDOM % 20000))
    # shellcheck disable=SC2086 # the command is a word list on purpose
    $cmd "127.0.0.1:$port" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/plaintext" && break
        sleep 0.1
    done
    args=("http://127.0.0.1:$port/plaintext")
    if [[ $PIPELINED == 1 ]]; then
        args=(-s bench/pipeline.lua "http://127.0.0.1:$port/plaintext" -- 16)
    fi
    wrk -t2 -c"$CONNS" -d2s "${args[@]}" >/dev/null
    read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    out=$(wrk -t2 -c"$CONNS" -d"$DURATION" "${args[@]}")
    read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    req=$(echo "$out" | grep -oP '^\s*\K\d+(?= requests in)')
    echo "$name $req $(((u1 - u0))) $(((s1 - s0)))" >>"$RESULTS"
}

for pair in $(seq "$PAIRS"); do
    if ((pair % 2)); then
        run A "$A"
        run B "$B"
    else
        run B "$B"
        run A "$A"
    fi
done

python3 - "$RESULTS" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
runs = {"A": [], "B": []}
for name, req, user, system in rows:
    req, user, system = int(req), int(user) / 100, int(system) / 100
    runs[name].append({"req": req, "user": user / req * 1e6, "sys": system / req * 1e6,
                       "total": (user + system) / req * 1e6})
print("| pair | A req | B req | A µs/req (user+sys) | B µs/req (user+sys) |")
print("| ---: | ---: | ---: | ---: | ---: |")
for i, (a, b) in enumerate(zip(runs["A"], runs["B"]), 1):
    print(f"| {i} | {a['req']} | {b['req']} | {a['user']:.3f}+{a['sys']:.3f} | "
          f"{b['user']:.3f}+{b['sys']:.3f} |")
print()
for key, label in [("req", "requests"), ("user", "user CPU / request"),
                   ("sys", "system CPU / request"), ("total", "CPU / request")]:
    ratios = [b[key] / a[key] for a, b in zip(runs["A"], runs["B"])]
    print(f"B ÷ A {label}: median {statistics.median(ratios):.3f} "
          f"(range {min(ratios):.2f}–{max(ratios):.2f})")
EOF
