#!/usr/bin/env bash
# Suite throughput: generates COUNT small guests (default 1,000; each a
# distinct loop of about 8,000 instructions, riscv-tests-sized, ending
# through the virt board's test finisher) and times, in alternating rounds:
#   1. `ferrite suite DIR` (in-process, one thread per core),
#   2. a shell loop over `ferrite run` (one process per guest),
#   3. a shell loop over `qemu-system-riscv64 -M virt` (if installed).
# Prints guests per second for each. Needs python3 only (the guests are
# written directly as ELF files; no cross compiler).
#   COUNT=1000 ROUNDS=3 FERRITE=target/release/ferrite scripts/suite-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
FERRITE=${FERRITE:-target/release/ferrite}
QEMU=${QEMU:-qemu-system-riscv64}
COUNT=${COUNT:-1000}
ROUNDS=${ROUNDS:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

python3 - "$dir" "$COUNT" <<'PY'
import struct, sys
out, count = sys.argv[1], int(sys.argv[2])

def r(op, rd, f3, rs1, rs2, f7): return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
def i(op, rd, f3, rs1, imm): return (imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
def u(op, rd, imm): return (imm & 0xfffff) << 12 | rd << 7 | op
def li(rd, v):  # v < 2**31
    hi, lo = (v + 0x800) >> 12, v & 0xfff
    lo = lo - 0x1000 if lo >= 0x800 else lo
    return [u(0x37, rd, hi), i(0x1b, rd, 0, rd, lo)]  # lui; addiw
T0, T1, T2, T3 = 5, 6, 7, 28
for n in range(count):
    iters = 1900 + n % 200
    code = li(T0, iters) + li(T1, n) + [
        i(0x13, T1, 0, T1, 3),        # loop: addi t1, t1, 3
        r(0x33, T1, 4, T1, T0, 0),    #       xor  t1, t1, t0
        i(0x13, T0, 0, T0, -1),       #       addi t0, t0, -1
        # bnez t0, loop (-12)
        (1 << 31) | (0x3f << 25) | (0 << 20) | (T0 << 15) | (1 << 12) | (0xa << 8) | (1 << 7) | 0x63,
    ] + li(T2, 0x100000) + li(T3, 0x5555) + [
        r(0x23, 0, 2, T2, T3, 0) & ~(0x1f << 7),  # sw t3, 0(t2)
        0x0000006f,                   # j .
    ]
    body = b"".join(struct.pack("<I", w) for w in code)
    ehdr = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 2, 243, 1, 0x80000000, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0x1000, 0x80000000, 0x80000000,
                       len(body), len(body), 0x1000)
    elf = ehdr + phdr + bytes(0x1000 - 64 - 56) + body
    with open(f"{out}/guest{n:05d}.elf", "wb") as f:
        f.write(elf)
PY

now() { date +%s.%N; }
rate() { python3 -c "print(f'{$COUNT / ($2 - $1):8.0f} guests/s  ({$2 - $1:.2f} s)')"; }
"$FERRITE" suite --machine virt "$dir" >/dev/null 2>&1 || { echo "a generated guest failed:"; "$FERRITE" suite --machine virt "$dir" 2>&1 | grep FAIL | head; exit 1; }
for round in $(seq "$ROUNDS"); do
    echo "round $round"
    t0=$(now); "$FERRITE" suite --machine virt "$dir" 2>/dev/null; t1=$(now)
    echo "  ferrite suite:          $(rate "$t0" "$t1")"
    t0=$(now)
    for elf in "$dir"/*.elf; do "$FERRITE" run --machine virt "$elf" >/dev/null 2>&1; done
    t1=$(now)
    echo "  loop over ferrite run:  $(rate "$t0" "$t1")"
    if command -v "$QEMU" >/dev/null; then
        t0=$(now)
        for elf in "$dir"/*.elf; do
            "$QEMU" -M virt -bios none -nographic -kernel "$elf" </dev/null >/dev/null 2>&1
        done
        t1=$(now)
        echo "  loop over $QEMU: $(rate "$t0" "$t1")"
    fi
done
