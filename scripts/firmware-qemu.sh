#!/usr/bin/env bash
# Runs every test of firmware/tests.toml on QEMU (the reference) and checks its exit code and
# expected output line (the manifest's `matches = "^TEXT"`: a line starting with TEXT).
# Usage: scripts/firmware-qemu.sh [name-filter]
#   QEMU=qemu-system-riscv64 TIMEOUT=20 MANIFEST=tests.toml scripts/firmware-qemu.sh isa_
set -u

cd "$(dirname "$0")/../firmware" || exit 1
QEMU=${QEMU:-qemu-system-riscv64}
TIMEOUT=${TIMEOUT:-20}
MANIFEST=${MANIFEST:-tests.toml}
filter=${1:-}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

pass=0
fail=0
# One line a test: name elf machine[+isa] smp exit line-prefix.
tests=$(python3 - "$MANIFEST" <<'EOF'
import re, sys, tomllib
with open(sys.argv[1], "rb") as f:
    manifest = tomllib.load(f)
for t in manifest["test"]:
    machine = t.get("machine", "virt") + ("+" + t["isa"] if "isa" in t else "")
    prefix = re.sub(r"\\(.)", r"\1", t["matches"].removeprefix("^"))
    print(t["name"], t["elf"], machine, t.get("smp", 1), t["exit"], prefix)
EOF
) || exit 1
while read -r name elf machine smp code expect; do
    case "$name" in '' | '#'*) continue ;; esac
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    # `virt+rv64imac`: the board, and a CPU without F and D. Otherwise the
    # extensions QEMU 7.2 has but does not enable by default. (QEMU 7.2 has
    # no Zicond, Zicbo* or menvcfg.PBMTE: bitmanip, cbo and vm_sv39 fail
    # there at those checks.)
    cpu=(-cpu rv64,zbkb=true,zbkx=true,svnapot=true,svpbmt=true)
    case "$machine" in
        *+rv64imac) cpu=(-cpu rv64,f=false,d=false) ;;
    esac
    machine=${machine%%+*}
    timeout "$TIMEOUT" "$QEMU" -M "$machine" -smp "$smp" "${cpu[@]}" -bios none -nographic -kernel "$elf" \
        >"$out" 2>&1 </dev/null
    rc=$?
    tr -d '\r' <"$out" >"$out.lf" && mv "$out.lf" "$out"
    if [ "$rc" -ne "$code" ]; then
        echo "FAIL $name: exit $rc, want $code"
        tail -n 5 "$out" | sed 's/^/    /'
        fail=$((fail + 1))
    elif ! awk -v p="$expect" 'index($0, p) == 1 { found = 1 } END { exit !found }' "$out"; then
        echo "FAIL $name: no line starting with \"$expect\""
        tail -n 5 "$out" | sed 's/^/    /'
        fail=$((fail + 1))
    else
        echo "ok   $name"
        pass=$((pass + 1))
    fi
done <<<"$tests"

echo "--- $pass passed, $fail failed"
[ "$fail" -eq 0 ]
