#!/bin/bash
# Run the spread tasks (tests/spread/main/*/task.yaml) against snapsim on this
# machine: each task's prepare, execute and restore, in a fresh snapsim root,
# with SNAP_CMD="bin/snapsim --root ROOT" (see tests/spread/lib/snap.sh).
# Prints PASS or FAIL per task and exits non-zero when one failed.
#
# Needs make prime bin/snapsim, root (the hooks hand files to uid 584788),
# openssl and free ports 2379-2380 and 32379-34400 on 127.0.0.1.
# Arguments select tasks: tests/spread/run-sim.sh install leaf-renewal
# (-keep keeps the work directory).
set -eu
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
exec go run ./tests/spreadcheck/cmd/spread-sim -repo "$repo" "$@"
