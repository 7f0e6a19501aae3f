#!/usr/bin/env python3
"""Precision harness (issue 11): runs the stdlib over a labelled real-world set.

    bench/precision.sh [--bin PATH] [--shared DIR] [--policy ID]
                       [--unlabelled | --stale | --write-doc | --rows FILE]

The set (see docs/precision.md, "Method"):
  - ../shared/corpus/repos/<owner>__<repo>/  intact config trees, each checked
    as its own scan root (in place);
  - ../shared/corpus/real/<kind>/<file>      single files with flattened names;
    each is copied into a temporary tree under its original base name
    (`docker-compose.yml`, `Dockerfile`, `.env`…) so that discovery finds it as
    it would in its repository, and checked in one run; files that repos/ or
    tests/corpus/precision/ also holds and the Caddy adapt-test inputs (parser
    fixtures) are left out;
  - tests/corpus/precision/<owner>__<repo>/   config files gathered for this
    harness (each folder has a PROVENANCE line), each its own scan root.
Every run is `rampart check --format json --profile strict --no-ignore`.

A finding's key is (policy, file, line, column); `file` is relative to the
shared directory's parent for shared files (`shared/corpus/...`) and to the
repository root for gathered ones (`tests/corpus/precision/...`). Labels are
in tests/corpus/precision/labels.tsv (one row per reviewed finding):

    policy <TAB> file <TAB> line <TAB> column <TAB> label <TAB> excerpt <TAB> note

with label one of true, false, debatable. Lines starting with `#` are comments.

Modes:
  (default)      print the per-policy table
  --unlabelled   print unlabelled findings as label rows (label column empty),
                 with the message after the note column, for a labeller to fill in
  --stale        print labels that match no finding any more (fixed, or moved)
  --write-doc    regenerate docs/precision.md from the labels
  --rows FILE    write every finding joined with its label as JSON lines
  --baseline-bin PATH  also run another build (e.g. main's) and show its precision
                 beside, from the same labels (its findings that no label covers
                 count as unlabelled)
Only the Python standard library is used.
"""

import argparse
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL = os.path.join("tests", "corpus", "precision")
LABELS = os.path.join(LOCAL, "labels.tsv")
DOC = os.path.join("docs", "precision.md")
LABEL_VALUES = ("true", "false", "debatable")
FIELDS = ("policy", "file", "line", "column", "label", "excerpt", "note")
# Shared repos/ folders left out: Caddy's own import-test fixtures.
SKIP_REPOS = {"caddyserver__caddy"}
# The bar every policy is measured against (issue 11).
TARGET = 0.95
# Policies below this many reviewed (true+false) findings are flagged as thin.
MIN_REVIEWED = 10
EXCERPT_CHARS = 90


def shared_dir(arg):
    if arg:
        d = arg
    elif os.environ.get("RAMPART_SHARED_DIR"):
        d = os.environ["RAMPART_SHARED_DIR"]
    else:
        d = os.path.join(ROOT, "..", "shared")
    d = os.path.abspath(d)
    if not os.path.isdir(os.path.join(d, "corpus")):
        sys.exit(f"precision: no corpus in {d} (set RAMPART_SHARED_DIR or --shared)")
    return d


def run(binary, cwd, paths):
    cmd = [binary, "check", "--format", "json", "--profile", "strict", "--no-ignore"] + paths
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if p.returncode not in (0, 1, 2):
        sys.exit(f"precision: {' '.join(cmd)} in {cwd} exited {p.returncode}: {p.stderr[:500]}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError:
        sys.exit(f"precision: no JSON from {' '.join(cmd)} in {cwd}: {p.stderr[:500]}")


def tsv(path):
    with open(path, encoding="utf-8") as f:
        rows = [l.rstrip("\n").split("\t") for l in f]
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def local_held():
    """(owner/repo, original path) of every file gathered in tests/corpus/precision:
    the repository is named by the folder's PROVENANCE (its first word, a GitHub URL)."""
    held = set()
    local = os.path.join(ROOT, LOCAL)
    for r in sorted(os.listdir(local)):
        top = os.path.join(local, r)
        prov = os.path.join(top, "PROVENANCE")
        if not os.path.isfile(prov):
            continue
        with open(prov, encoding="utf-8") as f:
            words = f.read().split()
        if not words:
            continue
        repo = words[0].removeprefix("https://github.com/").strip("/")
        for dirpath, _, names in os.walk(top):
            for n in names:
                rel = os.path.relpath(os.path.join(dirpath, n), top).replace(os.sep, "/")
                if rel != "PROVENANCE":
                    held.add((repo, rel))
    return held


def real_files(shared):
    """(kind, flat name, original base name) of the real/ files to check."""
    corpus = os.path.join(shared, "corpus")
    _, manifest = tsv(os.path.join(corpus, "repos", "MANIFEST.tsv"))
    in_repos = {(m["repo"], m["original_path"]) for m in manifest}
    # A file also gathered, with its repository around it, in tests/corpus/precision
    # is measured there, in context, and not a second time alone.
    in_repos |= local_held()
    _, prov = tsv(os.path.join(corpus, "provenance.tsv"))
    out = []
    for p in prov:
        local = p["local_file"]
        if not local.startswith("real/"):
            continue
        if "caddyfile_adapt" in p["original_path"] or (p["repo"], p["original_path"]) in in_repos:
            continue
        _, kind, flat = local.split("/", 2)
        out.append((kind, flat, os.path.basename(p["original_path"])))
    return sorted(out)


def collect(binary, shared):
    """Every finding of the three parts, keyed by label path; plus error count."""
    findings, errors, files, repos = [], 0, 0, set()
    corpus = os.path.join(shared, "corpus")

    def add(report, to_label):
        nonlocal errors, files
        files += report["summary"]["files"]
        errors += len(report.get("errors", []))
        for f in report["findings"]:
            path = to_label(f["file"])
            if path:
                findings.append(dict(f, file=path))

    for r in sorted(os.listdir(os.path.join(corpus, "repos"))):
        if r in SKIP_REPOS or not os.path.isdir(os.path.join(corpus, "repos", r)):
            continue
        repos.add(r)
        add(run(binary, corpus, ["repos/" + r]), lambda f: "shared/corpus/" + f)

    tmp = tempfile.mkdtemp(prefix="rampart-precision-")
    try:
        back = {}
        for kind, flat, base in real_files(shared):
            d = os.path.join(tmp, "real", kind, flat)
            os.makedirs(d)
            shutil.copyfile(os.path.join(corpus, "real", kind, flat), os.path.join(d, base))
            back[f"real/{kind}/{flat}/{base}"] = f"shared/corpus/real/{kind}/{flat}"
            repos.add(flat.split("__")[0] + "__" + flat.split("__")[1])
        add(run(binary, tmp, ["real"]), back.get)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    local = os.path.join(ROOT, LOCAL)
    for r in sorted(os.listdir(local)):
        if os.path.isdir(os.path.join(local, r)):
            repos.add(r)
            add(run(binary, ROOT, [f"{LOCAL}/{r}"]), lambda f: f)
    return findings, errors, files, repos


def source_path(shared, path):
    if path.startswith("shared/"):
        return os.path.join(shared, path[len("shared/"):])
    return os.path.join(ROOT, path)


def excerpt(shared, path, line):
    try:
        with open(source_path(shared, path), encoding="utf-8", errors="replace") as f:
            for i, text in enumerate(f, 1):
                if i == line:
                    t = " ".join(text.split())
                    return t[:EXCERPT_CHARS]
    except OSError:
        pass
    return ""


def load_labels():
    labels, bad = {}, []
    with open(os.path.join(ROOT, LABELS), encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            row = dict(zip(FIELDS, cols + [""] * (len(FIELDS) - len(cols))))
            if row["label"] not in LABEL_VALUES or not row["line"].isdigit() or not row["column"].isdigit():
                bad.append(f"{LABELS}:{n}: {line[:80]}")
                continue
            key = (row["policy"], row["file"], int(row["line"]), int(row["column"]))
            if key in labels:
                bad.append(f"{LABELS}:{n}: labelled twice")
            labels[key] = row
    return labels, bad


def key(f):
    return (f["policy"], f["file"], f["line"], f["column"])


def table(findings, labels):
    """Per-policy counts: findings, true, false, debatable, unlabelled, stale."""
    seen = set()
    stats = collections.defaultdict(collections.Counter)
    sev = {}
    for f in findings:
        k = key(f)
        seen.add(k)
        sev[f["policy"]] = f["severity"]
        s = stats[f["policy"]]
        s["findings"] += 1
        lab = labels.get(k)
        s[lab["label"] if lab else "unlabelled"] += 1
    for k, lab in labels.items():
        if k not in seen:
            stats[k[0]]["stale"] += 1
            stats[k[0]]["stale_" + lab["label"]] += 1
    return stats, sev


def precision(s):
    n = s["true"] + s["false"]
    return s["true"] / n if n else None


def fmt_p(p):
    return "–" if p is None else f"{100 * p:.1f} %"


def render_table(stats, sev, md, base=None):
    head = ["policy", "severity", "findings", "true", "false", "debatable", "unlabelled",
            "precision", "labels not matched"]
    if base is not None:
        head += ["baseline findings", "baseline precision"]
    rows = []
    tot = collections.Counter()
    for pol in sorted(stats):
        s = stats[pol]
        for c in ("findings", "true", "false", "debatable", "unlabelled", "stale"):
            tot[c] += s[c]
        p = precision(s)
        flag = ""
        if p is not None and p < TARGET:
            flag = " ✗"
        elif s["true"] + s["false"] < MIN_REVIEWED and s["findings"] >= MIN_REVIEWED:
            flag = " (thin)"
        stale = str(s["stale"]) if s["stale"] else ""
        if s["stale"]:
            stale += f" ({s['stale_true']}/{s['stale_false']}/{s['stale_debatable']})"
        rows.append([f"`{pol}`" if md else pol, sev.get(pol, ""), s["findings"], s["true"],
                     s["false"], s["debatable"], s["unlabelled"], fmt_p(p) + flag, stale])
        if base is not None:
            b = base.get(pol, collections.Counter())
            rows[-1] += [b["findings"], fmt_p(precision(b))]
    rows.append(["**all**" if md else "ALL", "", tot["findings"], tot["true"], tot["false"],
                 tot["debatable"], tot["unlabelled"], fmt_p(precision(tot)), tot["stale"] or ""])
    if base is not None:
        bt = collections.Counter()
        for b in base.values():
            for c in ("findings", "true", "false"):
                bt[c] += b[c]
        rows[-1] += [bt["findings"], fmt_p(precision(bt))]
    if md:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
        return "\n".join(out)
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    return "\n".join("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) for r in [head] + rows)


METHOD = """\
## Method

**The set.** Real configuration files from public repositories, never written for
rampart:
- `../shared/corpus/repos/<owner>__<repo>/`: intact config trees (compose files with
  their Dockerfiles, `.env` files, nginx includes), each checked as its own scan root;
  Caddy's import-test fixtures (`caddyserver__caddy`) are left out;
- `../shared/corpus/real/<kind>/`: single files; each is copied into a temporary tree
  under its original base name (`docker-compose.yml`, `Dockerfile`, `.env`…) so
  discovery treats it as in its repository; files also held in `repos/` and Caddy's
  `caddyfile_adapt` test inputs (parser fixtures, not deployments) are left out,
  and so are files also gathered, with the files around them, in
  `tests/corpus/precision/` (same repository and path): they are measured there, in
  the context that decides them (a lone `nginx.conf` mounted by a compose file of its
  repository), not a second time alone;
- `tests/corpus/precision/<owner>__<repo>/`: config files gathered for this harness
  from self-hosting stacks, company projects and homelabs (compose files, Dockerfiles,
  `.env`/`.env.example`, nginx and Caddy files, with the `.gitignore`/`.dockerignore`
  beside them), original paths kept; `PROVENANCE` in each folder names the repository,
  commit and licence.

Each part runs `rampart check --format json --profile strict --no-ignore` (strict, so
the strict policies are measured too; `opinionated` policies are not).

**Labels.** `tests/corpus/precision/labels.tsv` has one row per reviewed finding:
`policy, file, line, column, label, excerpt, note`. The key is (policy, file, line,
column) — not the message, the fingerprint or the redaction, so labels survive wording
changes; `excerpt` (the source line) is only for the reader. A finding that moves (a
fix reports it elsewhere) becomes unlabelled, and its old label shows under "labels
not matched" (true/false/debatable), which is how a removed false positive shows up.
`bench/precision.sh --unlabelled [--policy ID]` lists the findings still to review as
ready-to-fill rows; `--stale` lists the labels that match nothing.

**How findings were judged.** Findings were reviewed grouped by policy and message,
reading the flagged lines (and the service, block or file around them):
- `true`: a platform engineer would agree this is an instance of what the policy's
  row in STDLIB.md says, worth fixing or waiving. For *absence* policies (a missing
  hardening setting: `cap_drop`, `no-new-privileges`, read-only root, limits,
  healthcheck, security headers, `USER`) that means the setting really is absent
  where the policy looks, with includes, imports, anchors and linked files followed,
  and the object is in scope (a long-running service, a route that serves responses).
  For *presence* policies (a literal secret, a privileged setting, a socket or host
  mount, a published datastore port) the flagged value really is that thing.
- `false`: wrong — a benign case the policy's own text excludes (a timezone file
  mount, `MYSQL_RANDOM_ROOT_PASSWORD=true`, a container-side port), the wrong side or
  node, the wrong kind of file, a misparse, or a claim rampart cannot know.
- `debatable`: defensible either way (the note says why, e.g. a one-shot init
  container without a healthcheck, a development-only compose file).

A label covers every finding of its policy at its location: where several findings
share one (a merge key reaching several variables), the label is the majority verdict
and the note says so.

How the labels were made: findings were grouped by policy and message and the flagged
lines read; large groups were judged with a small reviewer's script that re-checks each
finding against an independent reading of the file (a YAML parse: the service really has
no `cap_drop`, its image really is `postgres`, the published host port really is below
1024, the value really is `true`; a known image's `USER`; whether a compose service is a
partial override of a base file) and writes the verdict and the reason into the note.
Policies that fire hundreds of times on the same absent setting (`http.*` headers,
`dockerfile.base-image-digest`, `compose.shared-volumes`) have a reviewed sample of
30–40 findings, one per file, and the rest stay unlabelled.

Precision is true / (true + false); debatable and unlabelled findings are counted but
not in it. The target is ≥ 95 % for every policy, with at least 10 reviewed findings
wherever a policy fires that often ("(thin)" marks fewer).
"""


def render_doc(stats, sev, findings, labels, errors, files, repos, base=None, base_name=""):
    lines = ["# Precision on real repositories", "",
             "Generated by `bench/precision.sh --write-doc` from "
             "`tests/corpus/precision/labels.tsv`; do not edit by hand.", "",
             f"{len(repos)} repositories, {files} files checked, {len(findings)} findings, "
             f"{errors} input errors; {sum(1 for f in findings if key(f) in labels)} findings "
             f"reviewed.", "", "## Per policy", "",
             "✗ marks a policy below " f"{int(TARGET * 100)} %; (thin) one with fewer than "
             f"{MIN_REVIEWED} reviewed findings though it fires that often. \"labels not "
             "matched\" counts labels (true/false/debatable) whose finding is no longer "
             "reported." + (f" The baseline columns are the same labels applied to the findings "
             f"of {base_name}." if base is not None else ""), "",
             render_table(stats, sev, md=True, base=base), ""]
    byp = collections.defaultdict(list)
    for f in findings:
        lab = labels.get(key(f))
        if lab and lab["label"] == "false":
            byp[f["policy"]].append(lab)
    if byp:
        lines += ["## False positives still reported", "",
                  "Up to three per policy, with the reviewer's note.", ""]
        for pol in sorted(byp):
            lines.append(f"- `{pol}` ({len(byp[pol])}):")
            seen_notes = set()
            for lab in byp[pol]:
                if lab["note"] in seen_notes:
                    continue
                seen_notes.add(lab["note"])
                ex = lab["excerpt"].replace("`", "'")
                lines.append(f"  - `{lab['file']}:{lab['line']}` `{ex}` — {lab['note']}")
                if len(seen_notes) == 3:
                    break
        lines.append("")
    lines += [METHOD]
    return "\n".join(lines)


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "debug", "rampart"))
    ap.add_argument("--shared")
    ap.add_argument("--policy", action="append")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--unlabelled", action="store_true")
    g.add_argument("--stale", action="store_true")
    g.add_argument("--write-doc", action="store_true")
    g.add_argument("--rows")
    ap.add_argument("--baseline-bin", help="also run this binary and show its precision beside")
    ap.add_argument("--baseline-name", default="the baseline binary",
                    help="how the doc names the baseline (e.g. a commit)")
    a = ap.parse_args()
    shared = shared_dir(a.shared)
    labels, bad = load_labels()
    if bad:
        sys.exit("precision: bad label rows:\n" + "\n".join(bad))
    findings, errors, files, repos = collect(os.path.abspath(a.bin), shared)
    want = (lambda p: p in a.policy) if a.policy else (lambda p: True)
    if a.unlabelled:
        for f in sorted(findings, key=lambda f: (f["policy"], f["message"], f["file"], f["line"])):
            if want(f["policy"]) and key(f) not in labels:
                print("\t".join([f["policy"], f["file"], str(f["line"]), str(f["column"]), "",
                                 excerpt(shared, f["file"], f["line"]), "",
                                 " ".join(f["message"].split())]))
        return
    if a.stale:
        seen = {key(f) for f in findings}
        for k, lab in sorted(labels.items()):
            if k not in seen and want(k[0]):
                print("\t".join(lab[c] for c in FIELDS))
        return
    if a.rows:
        with open(a.rows, "w", encoding="utf-8") as out:
            for f in findings:
                lab = labels.get(key(f))
                row = dict(f, label=lab["label"] if lab else None,
                           note=lab["note"] if lab else None,
                           excerpt=excerpt(shared, f["file"], f["line"]))
                out.write(json.dumps(row) + "\n")
        return
    labels = {k: v for k, v in labels.items() if want(k[0])}
    stats, sev = table([f for f in findings if want(f["policy"])], labels)
    base = None
    if a.baseline_bin:
        bf, _, _, _ = collect(os.path.abspath(a.baseline_bin), shared)
        base, _ = table([f for f in bf if want(f["policy"])], labels)
    if a.write_doc:
        with open(os.path.join(ROOT, DOC), "w", encoding="utf-8") as out:
            out.write(render_doc(stats, sev, findings, labels, errors, files, repos, base,
                                 a.baseline_name))
        print(f"wrote {DOC}")
        return
    print(f"{len(repos)} repositories, {files} files, {len(findings)} findings, {errors} errors")
    print(render_table(stats, sev, md=False, base=base))


if __name__ == "__main__":
    main()
