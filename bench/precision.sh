#!/usr/bin/env bash
# Precision harness (issue 11): per-policy precision of the stdlib on a labelled
# set of real repositories. See bench/precision.py and docs/precision.md.
#
#   bench/precision.sh [--unlabelled | --stale | --write-doc | --rows FILE] [--policy ID]
#
# Builds the debug binary unless --bin PATH is given; needs ../shared (or
# RAMPART_SHARED_DIR) for the shared corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in
  *" --bin "*) ;;
  *) cargo build -q -p rampart ;;
esac
exec python3 bench/precision.py "$@"
