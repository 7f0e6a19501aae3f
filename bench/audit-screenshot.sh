#!/usr/bin/env bash
# Renders the audit report of the bundled insecure example with headless
# Chromium (Debian's `chromium` package) and checks that it rendered: the PNG
# exists, is a PNG, and is not one flat colour. Writes docs/audit-report.png.
#   bench/audit-screenshot.sh [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/audit-report.png}
command -v chromium >/dev/null || { echo "needs chromium (apt-get install chromium)" >&2; exit 2; }
cargo build --quiet --release -p rampart
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A fixed time: the page is byte-identical from run to run.
SOURCE_DATE_EPOCH=1764000000 target/release/rampart check docs/examples/insecure-stack \
  --format html > "$tmp/report.html" || test $? -eq 1
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size=1100,1600 --screenshot="$tmp/shot.png" "file://$tmp/report.html" 2>/dev/null
python3 - "$tmp/shot.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert w >= 1000 and h >= 1000, (w, h)
# Concatenate IDAT chunks and check the picture is not one flat colour.
i, idat = 8, b""
while i < len(data):
    n = struct.unpack(">I", data[i:i+4])[0]
    kind = data[i+4:i+8]
    if kind == b"IDAT":
        idat += data[i+8:i+8+n]
    i += 12 + n
raw = zlib.decompress(idat)
assert len(set(raw[:200000])) > 8, "blank page"
print(f"rendered {w}x{h}, {len(data)} bytes")
PY
cp "$tmp/shot.png" "$out"
echo "wrote $out"
