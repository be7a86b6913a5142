#!/usr/bin/env bash
# Steady-state speed against QEMU TCG (and Spike, when it is installed): each workload runs on
# Ferrite and on the references in alternation, ROUNDS times, on the spike board; the script
# prints every wall time and, per workload, the median of Ferrite's time over each reference's.
# With CACHEGRIND=1 it also counts Ferrite's host instructions per guest instruction over the
# first 30 million guest instructions of each workload (valgrind's cachegrind).
#
#   cargo build --release -p ferrite-cli
#   scripts/bench-speed.sh                       # 3 rounds
#   ROUNDS=5 CACHEGRIND=1 scripts/bench-speed.sh
#   FERRITE=/tmp/ferrite-base scripts/bench-speed.sh   # another build
#   WORKLOADS="bench_core bench_core_shared" scripts/bench-speed.sh
#
# The workloads are guests of firmware/bin: bench_core (CoreMark-like integer mix),
# bench_core_shared (the same with code and data on one page), bench_intmix, bench_fp.
set -u

cd "$(dirname "$0")/.." || exit 1
FERRITE=${FERRITE:-target/release/ferrite}
QEMU=${QEMU:-qemu-system-riscv64}
SPIKE=${SPIKE:-spike}
ROUNDS=${ROUNDS:-3}
TIMEOUT=${TIMEOUT:-900}
WORKLOADS=${WORKLOADS:-bench_core bench_core_shared bench_intmix bench_fp}

if [ ! -x "$FERRITE" ]; then
    echo "bench-speed: $FERRITE not found (cargo build --release -p ferrite-cli)" >&2
    exit 1
fi
have_qemu=0
command -v "$QEMU" >/dev/null 2>&1 && have_qemu=1
have_spike=0
command -v "$SPIKE" >/dev/null 2>&1 && have_spike=1
[ "$have_qemu" = 1 ] || echo "bench-speed: $QEMU not found: QEMU columns skipped" >&2

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# timed COMMAND...: runs the command, sets WALL (seconds) and RC; the output is in $out.
timed() {
    local start end
    start=$(date +%s.%N)
    timeout "$TIMEOUT" "$@" >"$out" 2>&1 </dev/null
    RC=$?
    end=$(date +%s.%N)
    WALL=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
}

# median of the arguments
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "n/a"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'
}

status=0
summary=()
for w in $WORKLOADS; do
    elf=firmware/bin/$w.elf
    if [ ! -f "$elf" ]; then
        echo "bench-speed: $elf not found (make -C firmware)" >&2
        status=1
        continue
    fi
    echo "== $w"
    q_ratios=()
    s_ratios=()
    for r in $(seq 1 "$ROUNDS"); do
        timed "$FERRITE" run --machine spike "$elf"
        f=$WALL
        if [ "$RC" -ne 0 ]; then
            echo "bench-speed: ferrite failed on $w (exit $RC):" >&2
            cat "$out" >&2
            status=1
            break
        fi
        line="round $r: ferrite ${f} s"
        if [ "$have_qemu" = 1 ]; then
            timed "$QEMU" -M spike -bios none -nographic -monitor none -kernel "$elf"
            if [ "$RC" -eq 0 ]; then
                line="$line, qemu ${WALL} s (ratio $(ratio "$f" "$WALL"))"
                q_ratios+=("$(ratio "$f" "$WALL")")
            else
                line="$line, qemu failed (exit $RC)"
            fi
        fi
        if [ "$have_spike" = 1 ]; then
            timed "$SPIKE" --isa=rv64gc "$elf"
            if [ "$RC" -eq 0 ]; then
                line="$line, spike ${WALL} s (ratio $(ratio "$f" "$WALL"))"
                s_ratios+=("$(ratio "$f" "$WALL")")
            else
                line="$line, spike failed (exit $RC)"
            fi
        fi
        echo "$line"
    done
    s="$w: ferrite/qemu median $(median "${q_ratios[@]}")"
    [ "$have_spike" = 1 ] && s="$s, ferrite/spike median $(median "${s_ratios[@]}")"
    if [ "${CACHEGRIND:-0}" = 1 ] && command -v valgrind >/dev/null 2>&1; then
        n=30000000
        refs=$(valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
            "$FERRITE" run --machine spike --max-insns "$n" "$elf" 2>&1 |
            sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,)
        if [ -n "$refs" ]; then
            s="$s, $(awk -v r="$refs" -v n="$n" 'BEGIN { printf "%.2f", r / n }') host instructions per guest instruction"
        fi
    fi
    summary+=("$s")
done

echo "---"
printf '%s\n' "${summary[@]}"
exit $status
