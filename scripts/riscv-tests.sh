#!/usr/bin/env bash
# Runs the public RISC-V ISA tests (riscv-tests, physical-memory "p" variants,
# every rv64 group) on Ferrite's spike board and lists the failures. The
# suite is not part of this repository: point RISCV_TESTS at a checkout with
# its `env` submodule, built with `make -C isa XLEN=64` (needs
# gcc-riscv64-unknown-elf; the "v" variants also need a C library and are
# not run).
#   RISCV_TESTS=~/riscv-tests scripts/riscv-tests.sh [group-filter]
set -u
cd "$(dirname "$0")/.." || exit 1
FERRITE=${FERRITE:-target/release/ferrite}
dir=${RISCV_TESTS:?set RISCV_TESTS to a built riscv-tests checkout}/isa
filter=${1:-}
pass=0
fail=0
for t in "$dir"/rv64*-p-*; do
    case "$t" in *.dump) continue ;; esac
    case "$(basename "$t")" in *"$filter"*) ;; *) continue ;; esac
    if timeout 20 "$FERRITE" run --machine spike --max-insns 50000000 "$t" >/dev/null 2>&1; then
        pass=$((pass + 1))
    else
        echo "FAIL $(basename "$t") (exit $?)"
        fail=$((fail + 1))
    fi
done
echo "--- $pass passed, $fail failed"
[ "$fail" -eq 0 ]
