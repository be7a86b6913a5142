#!/usr/bin/env bash
# Regenerates firmware/src/fp_expected.h: builds firmware/src/fp.c in its
# generating mode and runs it on QEMU (the reference), which prints the hash
# of every operation's results and flags in every rounding mode.
# Usage: scripts/fp-expected.sh   (needs gcc-riscv64-unknown-elf and qemu-system-misc)
set -euo pipefail
cd "$(dirname "$0")/../firmware"
QEMU=${QEMU:-qemu-system-riscv64}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make --no-print-directory -s NESTED=1 OUT="$tmp" EXTRA_CFLAGS=-DFP_GENERATE PROGS=fp "$tmp/fp.elf"
timeout 120 "$QEMU" -M virt -bios none -nographic -kernel "$tmp/fp.elf" </dev/null \
    | tr -d '\r' | sed -n '/^\/\* Generated/,/^};/p' >"$tmp/fp_expected.h"
grep -q '^};' "$tmp/fp_expected.h" || { echo "fp-expected: QEMU printed no table" >&2; exit 1; }
mv "$tmp/fp_expected.h" src/fp_expected.h
echo "wrote firmware/src/fp_expected.h ($(grep -c '/\* f' src/fp_expected.h) operations)"
