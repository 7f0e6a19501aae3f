#!/usr/bin/env bash
# Performance harness (DESIGN.md § Performance targets). Not part of the test
# suite: timings are measured here, never asserted in tests.
#
#   bench/bench.sh [--files N] [--runs R]
#
# Builds the release binary, then measures on a copy of ../shared/corpus/real
# (every file once, under its usual name) and on a synthetic tree of N files
# (default 10000) made from the corpus. Inputs that are invalid on purpose
# (Caddy's rejected adapt fixtures) make exit code 2; timings include them.
#   - startup: `rampart list` (compiles the embedded stdlib)
#   - parse only: `rampart check --no-stdlib` with a no-op policy (discovery,
#     parsing, linking, one rule that never fires)
#   - full check: `rampart check` with the embedded stdlib
# and prints the check/parse ratio (target: within 2x) and files per second.
# Peers (hadolint, checkov, gixy) are timed on the same files when installed;
# bench/peers.sh is the interleaved comparison on the synthetic sets.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=10000
RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --files) FILES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "usage: bench/bench.sh [--files N] [--runs R]" >&2; exit 2 ;;
  esac
done
SHARED=$(cd .. && pwd)/shared
[ -d "$SHARED/corpus/real" ] || { echo "needs ../shared/corpus/real beside the repository" >&2; exit 2; }

cargo build --release -q -p rampart
BIN=$(pwd)/target/release/rampart
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Parse only: a no-op policy (`--no-stdlib` alone has nothing to check with).
NOOP=(--no-stdlib --policy "$(pwd)/bench/noop.rampart")

# Trees of corpus files copied round-robin into directories of 10, each under
# its recognisable name (docker-compose.yml, Dockerfile, .env, nginx.conf,
# Caddyfile): the corpus stores them as owner__repo__path, which discovery
# would not recognise. N=0 copies each corpus file once.
make_tree() {
python3 - "$SHARED/corpus/real" "$1" "$2" <<'PY'
import os, sys, shutil, itertools
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = {"compose": "docker-compose.yml", "dockerfile": "Dockerfile", "dotenv": ".env",
         "nginx": "nginx.conf", "caddy": "Caddyfile"}
pool = []
for kind, name in names.items():
    d = os.path.join(src, kind)
    for f in sorted(os.listdir(d)):
        pool.append((os.path.join(d, f), name))
n = n or len(pool)
for i, (path, name) in zip(range(n), itertools.cycle(pool)):
    out = os.path.join(dst, f"d{i // 10:05d}", f"f{i % 10}")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(path, os.path.join(out, name))
PY
}
make_tree "$WORK/corpus" 0
make_tree "$WORK/synthetic" "$FILES"

time_cmd() {  # prints the median wall time in ms of R runs of "$@"
  python3 - "$RUNS" "$@" <<'PY'
import subprocess, sys, time, statistics
runs, cmd = int(sys.argv[1]), sys.argv[2:]
ts = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ts.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(ts):.1f}")
PY
}

count() { { "$BIN" check "${NOOP[@]}" --format json "$1" 2>/dev/null || true; } | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["files"])'; }

echo "rampart $("$BIN" --version | awk '{print $2}') · $(nproc) cores · median of $RUNS runs"
printf 'startup (rampart list):            %8s ms\n' "$(time_cmd "$BIN" list)"
for target in "$WORK/corpus" "$WORK/synthetic"; do
  n=$(count "$target")
  parse=$(time_cmd "$BIN" check "${NOOP[@]}" --format json "$target")
  full=$(time_cmd "$BIN" check --format json "$target")
  ratio=$(python3 -c "print(f'{$full/$parse:.2f}')")
  rate=$(python3 -c "print(f'{$n/($full/1000):.0f}')")
  echo "$(basename "$target"): $n files"
  printf '  parse only:                       %8s ms\n' "$parse"
  printf '  full check (stdlib):              %8s ms   check/parse %sx   %s files/s\n' "$full" "$ratio" "$rate"
done

# Peers, when installed (see ../shared/research/peers.md for install commands).
if command -v hadolint >/dev/null; then
  files=$(find "$SHARED/corpus/real/dockerfile" -type f | head -200)
  printf 'hadolint, 200 Dockerfiles:         %8s ms\n' "$(time_cmd sh -c "for f in $files; do hadolint --no-fail \$f; done")"
  printf 'rampart, same directory:           %8s ms\n' "$(time_cmd "$BIN" check --format json "$SHARED/corpus/real/dockerfile")"
fi
if command -v checkov >/dev/null; then
  printf 'checkov (dockerfile), real corpus: %8s ms\n' "$(time_cmd checkov -d "$SHARED/corpus/real/dockerfile" --framework dockerfile --quiet)"
fi
if command -v gixy >/dev/null; then
  printf 'gixy, real nginx corpus:           %8s ms\n' "$(time_cmd sh -c "for f in $SHARED/corpus/real/nginx/*; do gixy \$f >/dev/null 2>&1; done")"
fi
