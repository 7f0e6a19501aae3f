#!/usr/bin/env bash
# Confinement check under strace (issue 8, "no file outside the root opened").
# Not part of the test suite (needs strace); the confinement layer's own unit
# tests and tests/tests/hostile_confine.rs cover the same cases in-process.
#
#   bench/strace-confinement.sh [path/to/rampart]
#
# Builds the release binary (unless one is given), makes a hostile repository
# in a temp dir — links to /etc, /proc and to a sibling directory outside the
# repository holding a distinctive token, a compose `env_file` / `build`
# Dockerfile / `.dockerignore` / `.gitignore` / Caddy `import` / nginx
# `include` through them, an input-named link out, a FIFO named like an input,
# and a `rampart.yaml` naming `/proc/self/environ`, `../outside/...` and `/` —
# then runs `rampart check .` in every output format under
#   strace -f -y -e trace=open,openat,openat2
# with CI_TOKEN=ghp_x in the environment. It fails when
#   - any successful open names a path outside the repository other than the
#     allow-list below, or
#   - `ghp_x`, the outside token or /etc/passwd's first line appears in any output.
#
# Allow-list: what the binary opens on an EMPTY directory (measured with the
# same strace command), each needed by the loader or the Rust standard library:
#   /etc/ld.so.cache                 dynamic loader: library search cache
#   /lib/…, /lib64/…, /usr/lib/…     dynamic loader: libc, libgcc_s (shared objects only)
#   /proc/self/maps                  std: main thread stack guard on start-up
#   /proc/self/cgroup, /proc/self/mountinfo,   (shown resolved: /proc/<pid>/…)
#   /sys/fs/cgroup/…                 std::thread::available_parallelism (CPU quota
#                                    of the cgroup), used to size thread pools
#   /proc/sys/vm/overcommit_memory   glibc malloc, when it shrinks a thread's heap
#                                    (seen on the empty directory in some runs:
#                                    it depends on allocation patterns)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v strace >/dev/null || { echo "strace is not installed" >&2; exit 2; }

if [ $# -ge 1 ]; then
  BIN=$(realpath "$1")
else
  cargo build --release -q -p rampart
  BIN=$(realpath target/release/rampart)
fi

T=$(realpath "$(mktemp -d)")
trap 'rm -rf "$T"' EXIT
REPO=$T/repo
OUT=$T/outside
TOKEN=OUTSIDE_TOKEN_7f3a
mkdir -p "$REPO/canary" "$OUT"

printf 'API_TOKEN=%s\n' "$TOKEN" > "$OUT/secret.env"
printf 'FROM %s\nRUN %s ((\n' "$TOKEN" "$TOKEN" > "$OUT/Dockerfile"
printf ':81 {\n  respond "%s"\n  %s {{\n' "$TOKEN" "$TOKEN" > "$OUT/site.caddy"
printf '%s\n' "$TOKEN" > "$OUT/ignore"
printf '%s { ;;\n' "$TOKEN" > "$OUT/inc.conf"
printf '%s garbage\n' "$TOKEN" > "$OUT/p.rampart"

cd "$REPO"
ln -s /etc etclink
ln -s /proc proclink
ln -s ../outside outlink
ln -s ../outside/ignore .dockerignore
ln -s ../outside/ignore .gitignore
ln -s ../outside/secret.env prod.env
mkfifo compose.override.yml
cat > docker-compose.yml <<'EOF'
services:
  app:
    image: alpine:3.20
    environment:
      CI_TOKEN: ${CI_TOKEN}
    env_file:
      - etclink/passwd
      - proclink/self/environ
      - outlink/secret.env
    build:
      context: .
      dockerfile: etclink/passwd
  web:
    image: alpine:3.20
    build:
      context: .
      dockerfile: outlink/Dockerfile
EOF
printf 'A=1\n' > .env
printf 'import proclink/self/environ\nimport outlink/site.caddy\n:80 {\n  respond "hi"\n}\n' > Caddyfile
printf 'events {}\nhttp {\n  include outlink/inc.conf;\n  include proclink/self/environ;\n  server { listen 80; }\n}\n' > nginx.conf
printf 'services:\n  r:\n    image: redis:7\n    ports: ["6379:6379"]\n' > canary/docker-compose.yml

fail=0
run() { # label, args...
  local label=$1; shift
  local log=$T/strace.$label.log
  set +e
  CI_TOKEN=ghp_x timeout 60 strace -f -y -e trace=open,openat,openat2 -o "$log" \
    "$BIN" check "$@" > "$T/out.$label" 2> "$T/err.$label"
  local code=$?
  set -e
  echo "$label: exit $code"
  if [ "$code" -gt 2 ]; then echo "  FAIL: exit code $code" >&2; fail=1; fi
  for needle in ghp_x "$TOKEN" 'root:x:0:0'; do
    if grep -q -- "$needle" "$T/out.$label" "$T/err.$label"; then
      echo "  FAIL: \`$needle\` appears in the output" >&2; fail=1
    fi
  done
  # Successful opens only (a failed one returns -1). `-y` prints the file
  # the kernel actually opened after the return value (`= 3</etc/passwd>`):
  # that resolved path is what is checked, whatever links led to it.
  local bad
  bad=$(grep -E 'open(at2?)?\(' "$log" | grep -E ' = [0-9]+<.*>$' | while IFS= read -r line; do
      p=$(sed -E 's/.* = [0-9]+<(.*)>$/\1/' <<<"$line")
      case "$p" in
        "$REPO"|"$REPO"/*) ;;
        /etc/ld.so.cache) ;;
        /lib/*.so*|/lib64/*.so*|/usr/lib/*.so*|/usr/lib64/*.so*) ;;
        /proc/[0-9]*/maps|/proc/[0-9]*/cgroup|/proc/[0-9]*/mountinfo) ;;
        /sys/fs/cgroup/*) ;;
        /proc/sys/vm/overcommit_memory) ;;
        *) echo "$line" ;;
      esac
    done)
  if [ -n "$bad" ]; then
    echo "  FAIL: opened outside the repository:" >&2
    echo "$bad" | head -20 | sed 's/^/    /' >&2
    echo "    ($(echo "$bad" | wc -l) in all)" >&2
    fail=1
  fi
  if ! grep -q 'docker-compose.yml' "$T/out.$label" && [ "$label" != config ]; then
    echo "  FAIL: the canary compose file is not reported" >&2; fail=1
  fi
}

for f in text json sarif github junit; do
  run "$f" . --format "$f" --verbose
done

# The same tree with a rampart.yaml naming policies outside the repository:
# a config error (exit 2) at each entry, nothing read.
printf 'policies: [/proc/self/environ, ../outside/p.rampart, outlink/p.rampart, /]\n' > rampart.yaml
run config . --verbose
grep -q 'outside the repository' "$T/err.config" || { echo "  FAIL: no config error" >&2; fail=1; }

if [ "$fail" -ne 0 ]; then
  echo "strace-confinement: FAILED" >&2
  exit 1
fi
echo "strace-confinement: ok (no open outside the repository, no secret in any output)"
