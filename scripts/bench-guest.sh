#!/usr/bin/env bash
# Runs the bench_intmix guest on Ferrite and on QEMU (both on the spike board) and prints
# wall times and MIPS. MIPS = instructions retired (as the guest reports) / wall seconds.
#
#   scripts/bench-guest.sh                 # uses target/release/ferrite
#   FERRITE=path/to/ferrite scripts/bench-guest.sh
#   QEMU=qemu-system-riscv64 ELF=firmware/bin/bench_intmix.elf scripts/bench-guest.sh
#
# Ferrite is skipped (with a note) when its binary is missing; QEMU likewise.
set -u

cd "$(dirname "$0")/.." || exit 1
FERRITE=${FERRITE:-target/release/ferrite}
QEMU=${QEMU:-qemu-system-riscv64}
ELF=${ELF:-firmware/bin/bench_intmix.elf}
TIMEOUT=${TIMEOUT:-600}

if [ ! -f "$ELF" ]; then
    echo "bench-guest: $ELF not found (run make -C firmware)" >&2
    exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT

# run LABEL COMMAND...: runs the command, prints its output, sets WALL (seconds) and RC.
run() {
    local label=$1
    shift
    local start end
    start=$(date +%s.%N)
    timeout "$TIMEOUT" "$@" >"$out" 2>&1 </dev/null
    RC=$?
    end=$(date +%s.%N)
    WALL=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    sed "s/^/[$label] /" "$out"
}

# field NAME: the number after "NAME: " in the last run's output (empty if absent)
field() {
    sed -n "s/^$1: \([0-9][0-9]*\).*/\1/p" "$out" | tail -n 1
}

mips() {
    awk -v n="$1" -v t="$2" 'BEGIN { if (n > 0 && t > 0) printf "%.1f", n / t / 1e6; else print "n/a" }'
}

status=0
ferrite_summary="ferrite: skipped ($FERRITE not found or not executable)"
if [ -x "$FERRITE" ]; then
    run ferrite "$FERRITE" run --machine spike --stats "$ELF"
    insns=$(field instructions)
    if [ "$RC" -ne 0 ]; then
        ferrite_summary="ferrite: FAILED (exit $RC) after ${WALL} s"
        status=1
    else
        ferrite_summary="ferrite: wall ${WALL} s, ${insns:-?} instructions, $(mips "${insns:-0}" "$WALL") MIPS"
    fi
fi

qemu_summary="qemu: skipped ($QEMU not found)"
if command -v "$QEMU" >/dev/null 2>&1; then
    run qemu "$QEMU" -M spike -bios none -nographic -kernel "$ELF"
    # QEMU's minstret counts host ticks unless -icount is on: use the guest's reference count.
    ref=$(field "reference instructions")
    if [ "$RC" -ne 0 ]; then
        qemu_summary="qemu: FAILED (exit $RC) after ${WALL} s"
        status=1
    else
        qemu_summary="qemu: wall ${WALL} s, ${ref:-?} instructions (reference), $(mips "${ref:-0}" "$WALL") MIPS"
    fi
fi

echo "---"
echo "$ferrite_summary"
echo "$qemu_summary"
exit $status
