#!/usr/bin/env bash
# Performance of rampart against its peers (issue 14; docs/performance.md shows
# one run). Not part of the test suite: timings are measured here, never
# asserted in tests.
#
#   bench/peers.sh [--sets 500,2000,4000] [--peer-sets 500] [--runs N]
#                  [--bin PATH] [--peers DIR]
#
#   (`--peer-sets ''` runs rampart alone: no peer section.)
#
# - Builds the sets under /tmp (deleted at exit): SETS folders, each holding the
#   five files of ../shared/research/peers-probe/bench-src (or
#   $RAMPART_SHARED_DIR/research/…, or $BENCH_SRC: compose.yaml,
#   Dockerfile, nginx.conf, Caddyfile, env as .env): 500 folders = 2,500 files.
# - rampart on every set: full check (embedded stdlib, JSON) and parse-only
#   (a no-op policy whose deny is `when false`: discovery, reading, parsing,
#   linking, one trivial rule, rendering), check/parse, CPU per file per set
#   size (linearity), peak memory; startup (`check` of an empty folder, `list`).
# - On the peer sets, each installed peer against rampart on the files the
#   peer reads, interleaved (A B A B …, one warm-up each, not counted):
#   gixy-ng on the nginx files, compose-lint on the compose files, hadolint
#   and checkov on the Dockerfiles, trivy on the whole set (it scans only the
#   Dockerfiles). A peer that is not installed is skipped with a note.
#   Install commands: ../shared/research/peers.md (one venv per tool under
#   --peers DIR, e.g. DIR/v-gixy/bin/gixy; a tool on PATH is used otherwise).
#
# Every figure is a median over N counted runs (default 5; 3 on sets of 10,000
# files or more). CPU is user+sys of the process tree, peak memory the largest
# ru_maxrss of a process in it (as GNU time reports). A ratio is the median of
# the per-pair ratios rampart/peer (below 1: rampart is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
SETS=500,2000,4000
PEER_SETS=500
RUNS=
BIN=
PEERS=${PEERS:-/tmp/peers}
while [ $# -gt 0 ]; do
  case "$1" in
    --sets) SETS=$2; shift 2 ;;
    --peer-sets) PEER_SETS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --peers) PEERS=$2; shift 2 ;;
    *) sed -n 2,27p "$0" >&2; exit 2 ;;
  esac
done
SHARED=${RAMPART_SHARED_DIR:-$(cd .. && pwd)/shared}
SRC=${BENCH_SRC:-$SHARED/research/peers-probe/bench-src}
[ -f "$SRC/compose.yaml" ] || { echo "needs $SRC (set BENCH_SRC)" >&2; exit 2; }
if [ -z "$BIN" ]; then
  cargo build --release -q -p rampart
  BIN=$(pwd)/target/release/rampart
fi
WORK=$(mktemp -d /tmp/rampart-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export NO_COLOR=1 RUST_BACKTRACE=0 HOME=$WORK/home PYTHONDONTWRITEBYTECODE=1
mkdir -p "$HOME" "$WORK/empty"
# Parse-only runs check with this no-op policy (`--no-stdlib` alone refuses).
NOOP_POLICY=$(pwd)/bench/noop.rampart

make_set() {  # DIR FOLDERS
  local i d
  mkdir -p "$1"
  for i in $(seq -w 1 "$2"); do
    d=$1/svc-$i; mkdir -p "$d"
    cp "$SRC/compose.yaml" "$SRC/Dockerfile" "$SRC/nginx.conf" "$SRC/Caddyfile" "$d/"
    cp "$SRC/env" "$d/.env"
  done
}

# The measuring loop: interleaved runs of one or two commands.
cat > "$WORK/measure.py" <<'PY'
import os, statistics, sys, time
import shutil
NULL = os.open(os.devnull, os.O_WRONLY)
def run(cmd):
    # posix_spawn (no fork of this interpreter): ru_maxrss is the command's own.
    path = shutil.which(cmd[0]) or cmd[0]
    t = time.perf_counter()
    pid = os.posix_spawn(path, cmd, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, NULL, 1), (os.POSIX_SPAWN_DUP2, NULL, 2)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, os.waitstatus_to_exitcode(status)
def main():
    runs = int(sys.argv[1]); args = sys.argv[2:]
    cmds = [args] if "--" not in args else [args[:args.index("--")], args[args.index("--") + 1:]]
    for c in cmds: run(c)                      # warm-up, not counted
    res = [[] for _ in cmds]
    for _ in range(runs):
        for i, c in enumerate(cmds): res[i].append(run(c))
    out = []
    for r in res:
        out += [statistics.median(x[0] for x in r), statistics.median(x[1] for x in r),
                max(x[2] for x in r), r[-1][3]]
    if len(cmds) == 2:
        out += [statistics.median(a[0] / b[0] for a, b in zip(*res)),
                statistics.median(a[1] / max(b[1], 1e-9) for a, b in zip(*res))]
    print(" ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in out))
main()
PY
measure() { python3 "$WORK/measure.py" "$@"; }
runs_for() { if [ -n "$RUNS" ]; then echo "$RUNS"; elif [ "$1" -ge 2000 ]; then echo 3; else echo 5; fi; }
f3() { awk -v v="$1" -v m="${2:-1}" -v d="${3:-3}" 'BEGIN{printf "%.*f", d, v*m}'; }

echo "# rampart $("$BIN" --version | awk '{print $2}') against its peers"
echo
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# Startup.
n=$(runs_for 0); n=$((n * 4))
echo "## Startup (median of $n runs)"
echo
echo "| command | wall ms | CPU ms | peak MiB |"
echo "|---|---|---|---|"
for c in "check --format json $WORK/empty" "list" "--version"; do
  # shellcheck disable=SC2086
  read -r w c_ r _ <<<"$(measure "$n" "$BIN" $c)"
  echo "| \`rampart ${c/$WORK\/empty/EMPTY}\` | $(f3 "$w" 1000 1) | $(f3 "$c_" 1000 1) | $(f3 "$r" 1 1) |"
done
echo

# rampart on every set.
echo "## rampart: full check and parse-only, interleaved"
echo
echo "| files | runs | full wall s | full CPU s | full peak MiB | parse wall s | parse CPU s | parse peak MiB | check/parse wall · CPU | full CPU ms/file | parse CPU ms/file | full ms/file vs first set |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
first=
IFS=, read -ra sets <<<"$SETS"
for s in "${sets[@]}"; do
  dir=$WORK/set-$s; make_set "$dir" "$s"
  files=$((s * 5)); n=$(runs_for "$s")
  read -r fw fc fr _ pw pc pr _ rw rc <<<"$(measure "$n" "$BIN" check --format json "$dir" -- \
      "$BIN" check --no-stdlib --policy "$NOOP_POLICY" --format json "$dir")"
  per=$(awk -v c="$fc" -v f="$files" 'BEGIN{print c*1000/f}')
  [ -n "$first" ] || first=$per
  echo "| $files | $n | $(f3 "$fw") | $(f3 "$fc") | $(f3 "$fr" 1 1) | $(f3 "$pw") | $(f3 "$pc") | $(f3 "$pr" 1 1) | $(f3 "$rw" 1 2)× · $(f3 "$rc" 1 2)× | $(f3 "$per") | $(f3 "$pc" "$(awk -v f="$files" 'BEGIN{print 1000/f}')") | $(f3 "$(awk -v a="$per" -v b="$first" 'BEGIN{print a/b}')" 1 2)× |"
  case ",$PEER_SETS," in *",$s,"*) ;; *) rm -rf "$dir" ;; esac
done
echo

# Peers.
peer() {  # NAME: its venv's entry point, else on PATH
  local v
  for v in "$PEERS/v-$1/bin/$2" "$(command -v "$2" 2>/dev/null || true)"; do
    if [ -n "$v" ] && [ -x "$v" ]; then echo "$v"; return 0; fi
  done
  return 0
}
GIXY=$(peer gixy gixy); CLINT=$(peer composelint compose-lint); HADO=$(peer hadolint hadolint)
CHECKOV=$(peer checkov checkov); TRIVY=$(peer trivy trivy)
psets=()
[ -z "$PEER_SETS" ] || IFS=, read -ra psets <<<"$PEER_SETS"
for s in "${psets[@]}"; do
  dir=$WORK/set-$s
  [ -d "$dir" ] || make_set "$dir" "$s"
  n=$(runs_for "$s")
  mapfile -t NGINX < <(find "$dir" -name nginx.conf | sort)
  mapfile -t COMPOSE < <(find "$dir" -name compose.yaml | sort)
  mapfile -t DOCKER < <(find "$dir" -name Dockerfile | sort)
  echo "## Peers on the $((s * 5))-file set (interleaved, median of $n pairs)"
  echo
  echo "| peer (command) | files it reads | rampart wall s | peer wall s | rampart/peer wall | rampart/peer CPU | peak MiB rampart / peer | peer exit |"
  echo "|---|---|---|---|---|---|---|---|"
  row() {  # LABEL FILES RAMPART-ARGS... -- PEER-ARGS...
    local label=$1 nf=$2; shift 2
    read -r aw _ ar _ bw _ br bx rw rc <<<"$(measure "$n" "$@")"
    echo "| $label | $nf | $(f3 "$aw") | $(f3 "$bw") | $(f3 "$rw" 1 2) | $(f3 "$rc" 1 2) | $(f3 "$ar" 1 0) / $(f3 "$br" 1 0) | $bx |"
  }
  notes=()
  if [ -n "$GIXY" ]; then
    row "gixy-ng $("$GIXY" --version 2>/dev/null | head -1 | awk '{print $NF}') (\`gixy -f json FILES\`)" "${#NGINX[@]} nginx" \
      "$BIN" check --format json "${NGINX[@]}" -- "$GIXY" -f json "${NGINX[@]}"
  else notes+=("gixy-ng not installed: skipped"); fi
  if [ -n "$CLINT" ]; then
    row "compose-lint (\`check --format json --no-env --fail-on critical FILES\`)" "${#COMPOSE[@]} compose" \
      "$BIN" check --format json "${COMPOSE[@]}" -- "$CLINT" check --format json --no-env --fail-on critical "${COMPOSE[@]}"
  else notes+=("compose-lint not installed: skipped"); fi
  if [ -n "$HADO" ]; then
    row "hadolint $("$HADO" --version 2>/dev/null | awk '{print $NF}') (\`--no-fail -f json FILES\`)" "${#DOCKER[@]} Dockerfiles" \
      "$BIN" check --format json "${DOCKER[@]}" -- "$HADO" --no-fail -f json "${DOCKER[@]}"
  else notes+=("hadolint not installed: skipped"); fi
  if [ -n "$CHECKOV" ]; then
    row "checkov $("$CHECKOV" --version 2>/dev/null | head -1) (\`-d DIR --framework dockerfile --quiet --compact --skip-download\`)" "${#DOCKER[@]} Dockerfiles" \
      "$BIN" check --format json "${DOCKER[@]}" -- "$CHECKOV" -d "$dir" --framework dockerfile -o json --quiet --compact --skip-download
  else notes+=("checkov not installed: skipped"); fi
  if [ -n "$TRIVY" ]; then
    row "trivy $("$TRIVY" --version 2>/dev/null | awk 'NR==1{print $NF}') (\`config --skip-check-update DIR\`)" "$((s * 5)) (it scans the ${#DOCKER[@]} Dockerfiles)" \
      "$BIN" check --format json "$dir" -- "$TRIVY" config --skip-check-update --quiet --format json "$dir"
  else notes+=("trivy not installed: skipped"); fi
  echo
  for note in "${notes[@]+"${notes[@]}"}"; do echo "- $note"; done
  rm -rf "$dir"
done
