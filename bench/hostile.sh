#!/usr/bin/env bash
# Issue 8's hostile inputs against the release binary: wall time and peak
# memory (GNU time) for each case, plus the exit code. Not part of the test
# suite (tests/tests/adversarial.rs asserts the bounds on memory and exit code);
# this prints the numbers the acceptance list speaks of ("in seconds, under 1 GiB").
#
#   bench/hostile.sh            # every case
#   bench/hostile.sh mesh dock  # cases whose name contains one of the words
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }
cargo build --release -q -p rampart
BIN=$PWD/target/release/rampart
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CANARY='services:
  r:
    image: redis:7
    ports: ["6379:6379"]
'

case_dir() { local d="$WORK/$1"; mkdir -p "$d/canary"; printf '%s' "$CANARY" > "$d/canary/docker-compose.yml"; echo "$d"; }

make_mesh() { local d; d=$(case_dir mesh); mkdir -p "$d/n"
  for i in $(seq 0 20); do echo 'include f*.conf;' > "$d/n/f$i.conf"; done
  printf 'events {}\nhttp {\n  include f*.conf;\n  server { listen 80; }\n}\n' > "$d/n/nginx.conf"; }
make_amplification() { local d; d=$(case_dir amplification); mkdir -p "$d/n"
  python3 - "$d/n/l0.conf" <<'PY'
import sys
line = 'add_header X-Padding-Header-Of-Some-Length "value value value";\n'
open(sys.argv[1], "w").write(line * (1024 * 1024 // len(line) + 1))
PY
  for l in $(seq 1 10); do printf 'include l%d.conf;\ninclude l%d.conf;\n' $((l-1)) $((l-1)) > "$d/n/l$l.conf"; done
  printf 'events {}\nhttp {\n  server {\n    listen 80;\n    include l10.conf;\n  }\n}\n' > "$d/n/nginx.conf"; }
make_dockerfile() { local d; d=$(case_dir dockerfile); mkdir -p "$d/big"
  python3 -c 'import sys; sys.stdout.write("FROM alpine:3.20\n" + "RUN echo hi\n" * 100000)' > "$d/big/Dockerfile"; }
make_stages() { local d; d=$(case_dir stages); mkdir -p "$d/big"
  python3 -c 'import sys; sys.stdout.write("FROM alpine:3.20 AS s0\n" + "".join("FROM s%d AS s%d\n" % (i-1, i) for i in range(1, 2000)))' > "$d/big/Dockerfile"; }
make_services() { local d; d=$(case_dir services); mkdir -p "$d/big"
  python3 -c 'import sys; sys.stdout.write("services:\n" + "".join("  s%d:\n    image: nginx:1.27\n" % i for i in range(40000)))' > "$d/big/docker-compose.yml"; }
make_fanout() { local d; d=$(case_dir fanout)
  python3 - "$d/evil.rampart" <<'PY'
import sys
p = "package evil\n\ndef a0(x) = x\n"
for i in range(1, 7):
    p += "def a%d(x) = %s\n" % (i, " + ".join(["a%d(x)" % (i - 1)] * 10))
p += '\npolicy boom {\n  title "boom"\n  severity low\n  rationale "r"\n  for service in compose.services\n  deny service when a6(1) > 0\n}\n'
open(sys.argv[1], "w").write(p)
PY
}
make_terms() { local d; d=$(case_dir terms)
  python3 -c 'import sys; t="+".join(["1"]*45000); sys.stdout.write("package evil\n\npolicy long {\n  title \"long\"\n  severity low\n  rationale \"r\"\n  for service in compose.services\n  deny service when %s > 0\n}\n" % t)' > "$d/evil.rampart"; }
make_braces() { local d; d=$(case_dir braces); mkdir -p "$d/x" "$d/y"
  python3 -c 'import sys; sys.stdout.write("}" * 100000)' > "$d/x/Caddyfile"
  python3 -c 'import sys; sys.stdout.write("services: {a: {image: \"%s\"}}\n" % ("x" * 40000))' > "$d/y/docker-compose.yml"; }

run() { # name, args...
  local name=$1; shift
  local d="$WORK/$name"
  (cd "$d" && /usr/bin/time -f '%e %M' -o "$WORK/$name.time" "$BIN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err") && rc=0 || rc=$?
  read -r secs kib < <(tail -n 1 "$WORK/$name.time") || true
  printf '%-14s exit %-3s %8ss %8s MiB  stdout %s bytes\n' "$name" "$rc" "$secs" "$((kib / 1024))" "$(wc -c < "$WORK/$name.out")"
}

want() { [ ${#WORDS[@]} -eq 0 ] && return 0; for w in "${WORDS[@]}"; do [[ "$1" == *"$w"* ]] && return 0; done; return 1; }
WORDS=("$@")
for c in mesh amplification dockerfile stages services fanout terms braces; do
  want "$c" || continue
  "make_$c"
  case "$c" in
    fanout|terms) run "$c" check --policy evil.rampart ;;
    *) run "$c" check ;;
  esac
done
