#!/usr/bin/env bash
# The floating-point workload (firmware/bin/bench_fp.elf: a double-precision
# matrix product and a single-precision n-body step) on Ferrite and on QEMU
# TCG, alternating runs so that drift in the machine's speed hits both alike.
# Prints each run's wall time and the median ratio.
#
#   scripts/bench-fp.sh            # 5 rounds, target/release/ferrite
#   ROUNDS=9 FERRITE=path/to/ferrite QEMU=qemu-system-riscv64 scripts/bench-fp.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FERRITE=${FERRITE:-target/release/ferrite}
QEMU=${QEMU:-qemu-system-riscv64}
ELF=${ELF:-firmware/bin/bench_fp.elf}
ROUNDS=${ROUNDS:-5}
for tool in "$FERRITE" "$QEMU"; do
    command -v "$tool" >/dev/null || { echo "bench-fp: $tool not found" >&2; exit 1; }
done

# wall COMMAND...: seconds the command took (its output must hold the checksum).
wall() {
    local start end out
    start=$(date +%s.%N)
    out=$("$@" </dev/null 2>&1)
    end=$(date +%s.%N)
    grep -q '^checksum: ' <<<"$out" || { echo "bench-fp: no checksum from $1" >&2; exit 1; }
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}

ratios=()
for ((r = 1; r <= ROUNDS; r++)); do
    f=$(wall "$FERRITE" run --machine spike "$ELF")
    q=$(wall "$QEMU" -M spike -bios none -nographic -kernel "$ELF")
    ratio=$(awk -v f="$f" -v q="$q" 'BEGIN { printf "%.2f", f / q }')
    ratios+=("$ratio")
    echo "round $r: ferrite ${f} s, qemu ${q} s, ferrite/qemu ${ratio}"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
echo "median ferrite/qemu wall-time ratio: $median (below 1: Ferrite is faster)"
