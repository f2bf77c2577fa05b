#!/usr/bin/env bash
# Runs every test the README promises, on a machine that may be brand new:
# brings the Docker engine and the test image up first (installing them on
# Debian when missing, see engine-up.sh), and the test tools (promtool,
# Chromium, playwright-core: tools-up.sh), then `cargo test --all-features`
# with engine tests required (a missing engine fails them, never skips).
#
# The tests that kill and restart dockerd (which would stop every other
# container on this engine) run only with --engine-restarts, or when CI or
# STEVEDORE_CHAOS is set; .ci/run passes the flag.
#
#   scripts/test.sh                    # everything but dockerd restarts
#   scripts/test.sh --engine-restarts  # everything, as CI runs it
#   scripts/test.sh -- --test cli_up   # extra arguments go to cargo test
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--engine-restarts" ]; then
  export STEVEDORE_CHAOS=1
  shift
fi
[ "${1:-}" = "--" ] && shift

bash scripts/engine-up.sh
bash scripts/tools-up.sh
export STEVEDORE_REQUIRE_ENGINE=1
cargo test --all-features "$@"
