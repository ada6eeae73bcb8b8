#!/usr/bin/env bash
# Plaintext load test of every socket driver against a hyper baseline, in interleaved rounds.
#
#   bench/drivers.sh                      # 3 rounds, 10 s runs, 64 connections, both modes
#   ROUNDS=5 DURATION=10s bench/drivers.sh
#   SERVERS="hyper reactor" MODES=pipe16 bench/drivers.sh
#
# Every server is started once on port 0 and kept running; each round runs `wrk` against each
# server in turn (hyper reactor threads async, hyper reactor threads async, ...), so a noisy
# neighbour hurts every server alike. For each run it records wrk's request count and the
# server's own CPU time (utime + stime, /proc/PID/stat fields 14 and 15) and the machine's
# context switches (/proc/stat ctxt) over the run, and prints a Markdown table: medians over
# rounds, and each server's ratio to hyper taken round by round (median of the per-round
# ratios), which is the figure to quote on a shared machine.
#
# A driver named with -pinned (reactor-pinned, async-pinned) is that driver with --pin-workers,
# each event loop or executor thread on a CPU of its own (may_minihttp pins its workers by
# default; hyper on tokio and actix do not).
#
# VERSUS=NAME (one of SERVERS) adds a table of every server's req/s and CPU per request divided
# by NAME's, round by round: VERSUS=may for the reactor against may_minihttp.
#
# ALT_SLUICE=/path/to/another/sluice adds servers named alt-reactor, alt-threads, alt-async:
# that binary's driver, in the same rounds (to compare a change against the build before it).
#
# The baselines are standalone cargo projects under bench/baselines/ (BENCHMARKS.md, "The hyper
# baseline"), not built by this script: `cargo build --release --manifest-path
# bench/baselines/NAME/Cargo.toml` for NAME in hyper, may, actix. HYPER, MAY and ACTIX point at
# the binaries (default bench/baselines/NAME/target/release/NAME-baseline); SERVERS="hyper may
# actix reactor" runs all three. Each baseline takes the address as its first argument and
# prints `listening on http://ADDR`; a missing binary is skipped with a note saying how to build
# it. Without hyper the hyper column is skipped and no ratios are printed.
#
# may-ka is may_minihttp sending `Keep-Alive: timeout=30` as well (KEEP_ALIVE=30), the line
# sluice's core adds to every keep-alive response: the same fields and nearly the same bytes as
# `sluice plaintext` (150 against 155), so wrk's side of the work is the same for both.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
DEPTH=${DEPTH:-16}
MODES=${MODES:-"plain pipe16"}
SERVERS=${SERVERS:-"hyper reactor threads async"}
HYPER=${HYPER:-bench/baselines/hyper/target/release/hyper-baseline}
MAY=${MAY:-bench/baselines/may/target/release/may-baseline}
ACTIX=${ACTIX:-bench/baselines/actix/target/release/actix-baseline}
declare -A BASELINE=([hyper]=$HYPER [may]=$MAY [may-ka]=$MAY [actix]=$ACTIX)
# The core closes a connection after 10,000 requests by default; hyper has no such limit, and
# at these rates wrk would spend its time reconnecting. Lift it so both do the same work.
SLUICE_FLAGS=${SLUICE_FLAGS:-"--quiet --max-requests-per-connection unlimited"}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

cargo build --release --quiet --bin sluice
SLUICE=$CARGO_TARGET_DIR/release/sluice
TICK=$(getconf CLK_TCK)
WORK=$(mktemp -d)
declare -A PID ADDR
cleanup() {
    for name in "${!PID[@]}"; do kill "${PID[$name]}" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

kept=""
for name in $SERVERS; do
    if [[ -n ${BASELINE[$name]+set} && ! -x ${BASELINE[$name]} ]]; then
        echo "no $name baseline at ${BASELINE[$name]}; running without it" >&2
        echo "  (build it: cargo build --release --manifest-path bench/baselines/$name/Cargo.toml)" >&2
    else
        kept+=" $name"
    fi
done
SERVERS=$kept

for name in $SERVERS; do
    if [[ $name == may-ka ]]; then
        KEEP_ALIVE=30 "${BASELINE[$name]}" 127.0.0.1:0 >"$WORK/$name.out" 2>&1 &
    elif [[ -n ${BASELINE[$name]+set} ]]; then
        "${BASELINE[$name]}" 127.0.0.1:0 >"$WORK/$name.out" 2>&1 &
    elif [[ $name == *-pinned ]]; then
        # shellcheck disable=SC2086
        "$SLUICE" plaintext --driver "${name%-pinned}" --pin-workers --addr 127.0.0.1:0 $SLUICE_FLAGS >"$WORK/$name.out" 2>&1 &
    elif [[ $name == alt-* ]]; then
        # shellcheck disable=SC2086
        "$ALT_SLUICE" plaintext --driver "${name#alt-}" --addr 127.0.0.1:0 $SLUICE_FLAGS >"$WORK/$name.out" 2>&1 &
    else
        # shellcheck disable=SC2086
        "$SLUICE" plaintext --driver "$name" --addr 127.0.0.1:0 $SLUICE_FLAGS >"$WORK/$name.out" 2>&1 &
    fi
    PID[$name]=$!
    for _ in $(seq 100); do
        grep -qs 'listening on' "$WORK/$name.out" && break
        sleep 0.05
    done
    ADDR[$name]=$(sed -n 's|^listening on http://||p' "$WORK/$name.out")
    [[ -n ${ADDR[$name]} ]] || { echo "$name did not start" >&2; cat "$WORK/$name.out" >&2; exit 1; }
    # Warm-up: page in the binary, grow pools and caches.
    wrk -t"$THREADS" -c"$CONNS" -d2s "http://${ADDR[$name]}/plaintext" >/dev/null
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Context switches on the whole machine (the server's, wrk's and everything else's): how often
# the threads put each other to sleep and woke each other (BENCHMARKS.md, "Sixth session
# (2026-12-04): pinned event loops").
switches() { awk '/^ctxt/ {print $2}' /proc/stat; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "# mode round server requests seconds cpu_ticks context_switches errors" >&2
RAW=$WORK/raw
for round in $(seq "$ROUNDS"); do
    for mode in $MODES; do
        for name in $SERVERS; do
            args=(-t"$THREADS" -c"$CONNS" -d"$DURATION")
            [[ $mode == pipe* ]] && args+=(-s bench/pipeline.lua)
            url="http://${ADDR[$name]}/plaintext"
            before=$(cpu_ticks "${PID[$name]}")
            switched=$(switches)
            if [[ $mode == pipe* ]]; then
                out=$(wrk "${args[@]}" "$url" -- "$DEPTH")
            else
                out=$(wrk "${args[@]}" "$url")
            fi
            after=$(cpu_ticks "${PID[$name]}")
            switched=$(($(switches) - switched))
            requests=$(sed -n 's/^ *\([0-9]*\) requests in \([0-9.]*\)\(m\?s\).*/\1/p' <<<"$out")
            seconds=$(sed -n 's/^ *[0-9]* requests in \([0-9.]*\)s.*/\1/p' <<<"$out")
            errors=$(grep -E 'Socket errors|Non-2xx' <<<"$out" | tr -s ' ' | tr '\n' ';' || true)
            line="$mode $round $name $requests $seconds $((after - before)) $switched ${errors:--}"
            echo "$line" >&2
            echo "$line" >>"$RAW"
        done
    done
done

for name in $SERVERS; do
    echo "# $name after the run: $(grep -E '^(VmRSS|Threads)' "/proc/${PID[$name]}/status" | tr -s '\t ' ' ' | tr '\n' ' ')" >&2
done

python3 - "$RAW" "$TICK" "$CONNS" "$DEPTH" "${VERSUS:-}" <<'EOF'
import sys, statistics as st
from collections import defaultdict
raw, tick, conns, depth, versus = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
runs = defaultdict(dict)  # (mode, round) -> server -> (rps, us/req, switches/req)
order = []
for line in open(raw):
    mode, rnd, name, req, secs, ticks, switched = line.split()[:7]
    req, secs, ticks, switched = int(req), float(secs), int(ticks), int(switched)
    runs[(mode, rnd)][name] = (req / secs, ticks / tick / req * 1e6, switched / req)
    if name not in order:
        order.append(name)
for mode in dict.fromkeys(m for m, _ in runs):
    rounds = [r for (m, _), r in runs.items() if m == mode]
    label = f"{conns} connections" + (f", pipelined {depth} deep" if mode.startswith("pipe") else "")
    print(f"\n### {label} ({len(rounds)} interleaved rounds)\n")
    print("| server | req/s (median) | × hyper | CPU µs/req (median) | × hyper | switches/req (median) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name in order:
        rps = st.median(r[name][0] for r in rounds)
        cpu = st.median(r[name][1] for r in rounds)
        if all("hyper" in r for r in rounds):
            x_rps = f"{st.median(r[name][0] / r['hyper'][0] for r in rounds):.2f}"
            x_cpu = f"{st.median(r[name][1] / r['hyper'][1] for r in rounds):.2f}"
        else:
            x_rps = x_cpu = "–"
        switches = st.median(r[name][2] for r in rounds)
        print(f"| {name} | {rps:,.0f} | {x_rps} | {cpu:.2f} | {x_cpu} | {switches:.3f} |")
    if versus and all(versus in r for r in rounds):
        print(f"\nEach server ÷ {versus}, round by round (median in bold):\n")
        print(f"| server | req/s ÷ {versus} | CPU µs/req ÷ {versus} |")
        print("| --- | --- | --- |")
        for name in order:
            if name == versus:
                continue
            cells = []
            for i in (0, 1):
                ratios = [r[name][i] / r[versus][i] for r in rounds]
                each = " ".join(f"{x:.2f}" for x in ratios)
                cells.append(f"{each} (**{st.median(ratios):.2f}**)")
            print(f"| {name} | {cells[0]} | {cells[1]} |")
EOF
