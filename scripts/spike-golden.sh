#!/usr/bin/env bash
# Regenerates crates/cli/tests/golden/commit_log.spike.log from the reference
# simulator (Spike, built outside this repository): its -l and --log-commits
# output for firmware/bin/commit_log.elf with its default ISA.
#   SPIKE=~/spike/bin/spike scripts/spike-golden.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SPIKE=${SPIKE:-spike}
"$SPIKE" -l --log-commits firmware/bin/commit_log.elf 2> crates/cli/tests/golden/commit_log.spike.log
wc -l crates/cli/tests/golden/commit_log.spike.log
