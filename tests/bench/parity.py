#!/usr/bin/env python3
"""Differential test of `steward diff` against oasdiff on many spec pairs.

Usage: parity.py STEWARD OASDIFF PAIRS_FILE [--markdown OUT] [--ids]

PAIRS_FILE has one pair per line: `name<TAB>base<TAB>revision`. For each pair both
tools run once; findings are keyed by (check id, method, path with parameter names
blanked) and counted with multiplicity, as ../shared/tools/oasdiff-agreement.py
scores parity: oasdiff's occurrence semantics (one finding per status code, media
type and property path) are the unit. Recall is the share of oasdiff's error and
warning findings that Steward reports with the same key; precision is the share of
Steward's error and warning findings that oasdiff reports.

Prints one line per pair, then a table per check id over all pairs (both
directions: ids only oasdiff reports and ids only Steward reports), and writes
the same as markdown with --markdown.
"""
import collections
import json
import re
import subprocess
import sys
import time


def run(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc, time.perf_counter() - start


def norm(path):
    return re.sub(r"\{[^}]*\}", "{}", path or "")


def key_oasdiff(c):
    return (c["id"], c.get("operation", "") or "", norm(c.get("path")))


def key_steward(c):
    op = c.get("operation") or ""
    path = c.get("path")
    if " " in op:
        op, p2 = op.split(" ", 1)
        path = path or p2
    return (c["id"], op, norm(path))


LEVELS_O = {3: "error", 2: "warning", 1: "info"}


def level_steward(c):
    return str(c.get("level")).lower()


def compare(steward, oasdiff, base, rev):
    po, to = run([oasdiff, "changelog", base, rev, "-f", "json"])
    ps, ts = run([steward, "diff", base, rev, "--format", "json", "--fail-on", "info"])
    if po.returncode != 0:
        return None, f"oasdiff failed: {po.stderr.strip()[:300]}"
    if ps.returncode not in (0, 1):
        return None, f"steward failed: {ps.stderr.strip()[:300]}"
    o = json.loads(po.stdout or "[]")
    s = json.loads(ps.stdout or "[]")
    s = s.get("changes", s) if isinstance(s, dict) else s
    by_level = {}
    for lvl in ("error", "warning", "info"):
        by_level[("o", lvl)] = collections.Counter(
            key_oasdiff(c) for c in o if LEVELS_O.get(c.get("level")) == lvl
        )
        by_level[("s", lvl)] = collections.Counter(
            key_steward(c) for c in s if level_steward(c) == lvl
        )
    return {"o": by_level, "to": to, "ts": ts, "notes": ps.stderr.count("note:")}, None


def ratio(a, b):
    return a / b if b else 1.0


def main():
    args = sys.argv[1:]
    markdown = None
    if "--markdown" in args:
        at = args.index("--markdown")
        markdown = args[at + 1]
        del args[at : at + 2]
    steward, oasdiff, pairs_file = args[:3]
    pairs = [
        line.rstrip("\n").split("\t")
        for line in open(pairs_file)
        if line.strip() and not line.startswith("#")
    ]
    per_id = collections.defaultdict(lambda: [0, 0, 0])  # oasdiff, steward, both
    lines = []
    totals = [0, 0, 0]
    header = (
        f"{'pair':<34} {'oasdiff':>8} {'steward':>8} {'both':>7} {'recall':>7} "
        f"{'precision':>9} {'oasdiff s':>9} {'steward s':>9}"
    )
    print(header)
    lines.append(
        "| pair | oasdiff (error+warning) | Steward (error+warning) | both | recall | precision | oasdiff time | Steward time |"
    )
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, base, rev in pairs:
        result, error = compare(steward, oasdiff, base, rev)
        if error:
            print(f"{name:<34} {error}")
            lines.append(f"| {name} | {error} | | | | | | |")
            continue
        o = result["o"]
        oa = o[("o", "error")] + o[("o", "warning")]
        sa = o[("s", "error")] + o[("s", "warning")]
        both = oa & sa
        n_o, n_s, n_b = sum(oa.values()), sum(sa.values()), sum(both.values())
        totals[0] += n_o
        totals[1] += n_s
        totals[2] += n_b
        for k, n in oa.items():
            per_id[k[0]][0] += n
        for k, n in sa.items():
            per_id[k[0]][1] += n
        for k, n in both.items():
            per_id[k[0]][2] += n
        row = (
            f"{name:<34} {n_o:>8} {n_s:>8} {n_b:>7} {ratio(n_b, n_o):>7.3f} "
            f"{ratio(n_b, n_s):>9.3f} {result['to']:>9.2f} {result['ts']:>9.2f}"
        )
        print(row, flush=True)
        lines.append(
            f"| {name} | {n_o} | {n_s} | {n_b} | {ratio(n_b, n_o):.3f} | {ratio(n_b, n_s):.3f} "
            f"| {result['to']:.2f} s | {result['ts']:.2f} s |"
        )
    print(
        f"{'total':<34} {totals[0]:>8} {totals[1]:>8} {totals[2]:>7} "
        f"{ratio(totals[2], totals[0]):>7.3f} {ratio(totals[2], totals[1]):>9.3f}"
    )
    lines.append(
        f"| **total** | {totals[0]} | {totals[1]} | {totals[2]} | {ratio(totals[2], totals[0]):.3f} "
        f"| {ratio(totals[2], totals[1]):.3f} | | |"
    )
    print()
    print(f"{'check id':<58} {'oasdiff':>8} {'steward':>8} {'both':>7} {'recall':>7} {'precision':>9}")
    lines.append("")
    lines.append("| check id | oasdiff | Steward | both | recall | precision |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for cid, (n_o, n_s, n_b) in sorted(per_id.items(), key=lambda kv: (-(kv[1][0] - kv[1][2]) - (kv[1][1] - kv[1][2]), kv[0])):
        print(f"{cid:<58} {n_o:>8} {n_s:>8} {n_b:>7} {ratio(n_b, n_o):>7.3f} {ratio(n_b, n_s):>9.3f}")
        lines.append(f"| `{cid}` | {n_o} | {n_s} | {n_b} | {ratio(n_b, n_o):.3f} | {ratio(n_b, n_s):.3f} |")
    if markdown:
        with open(markdown, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
