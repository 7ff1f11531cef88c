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

Disagreements that come from a documented difference of method (DIVERGENCES,
and the table in tests/bench/PARITY.md) are recognised mechanically, finding by
finding, and reported beside the raw figures: "net" recall leaves oasdiff's
findings of such a class out of its denominator, "net" precision Steward's.
"""
import collections
import json
import re
import subprocess
import sys
import time


DIVERGENCES = {
    "allof-structure": "oasdiff compares `allOf` by structure: wrapping a schema in "
    "`allOf` (to add properties beside it) reads as every property removed, and "
    "changes below the wrapper go unseen. Steward merges `allOf` parts before "
    "comparing, so it reports what a client can observe: nothing removed, and the "
    "changes below.",
    "oas31-nullability": "Between a 3.0 document and its 3.1 form, oasdiff compares 3.0's "
    "`nullable` with 3.1's `null` type word by word, and reports the migration as enum "
    "values, `oneOf` alternatives and types added or removed. Steward reads both as the "
    "same set of values, so migrating an unchanged API reports nothing.",
    "no-oasdiff-check": "oasdiff has no check for the change: `maxItems`, `minProperties` "
    "and `maxProperties` of bodies and properties, and a looser `minimum` or `maximum` in a "
    "response. Each narrows what a request may carry or widens what a response may hold.",
    "operation-id-changed": "A changed `operationId` renames the method of every "
    "generated SDK, so Steward warns (`api-operation-id-changed`); oasdiff reports "
    "it as `api-operation-id-removed` at info level.",
}


def load_doc(path):
    with open(path) as f:
        return json.load(f)


def resolve(doc, node, depth=0):
    while isinstance(node, dict) and "$ref" in node and depth < 32:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return None
        cur = doc
        for seg in ref[2:].split("/"):
            seg = seg.replace("~1", "/").replace("~0", "~")
            cur = cur.get(seg) if isinstance(cur, dict) else None
        node, depth = cur, depth + 1
    return node


def flat_properties(doc, schema, depth=0):
    """The properties of a schema with `allOf` parts merged in."""
    schema = resolve(doc, schema)
    if not isinstance(schema, dict) or depth > 16:
        return {}
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        for k, v in flat_properties(doc, part, depth + 1).items():
            props.setdefault(k, v)
    return props


def flat_items(doc, schema, depth=0):
    schema = resolve(doc, schema)
    if not isinstance(schema, dict) or depth > 16:
        return None
    if "items" in schema:
        return schema["items"]
    for part in schema.get("allOf") or []:
        found = flat_items(doc, part, depth + 1)
        if found is not None:
            return found
    return None


def response_schema(doc, method, path, status):
    op = ((doc.get("paths") or {}).get(path) or {}).get(method.lower()) or {}
    response = resolve(doc, (op.get("responses") or {}).get(status))
    if not isinstance(response, dict):
        return None
    for media, content in (response.get("content") or {}).items():
        if "json" in media and isinstance(content, dict) and "schema" in content:
            return content["schema"]
    return None


def exists_when_merged(doc, schema, prop_path):
    """Whether `a/items/b` names a property once `allOf` parts are merged."""
    node = schema
    for seg in [s for s in prop_path.split("/") if s]:
        if seg.startswith("allOf["):
            continue
        if seg.startswith(("oneOf[", "anyOf[")):
            return False
        if seg == "items":
            node = flat_items(doc, node)
        else:
            node = flat_properties(doc, node).get(seg)
        if node is None:
            return False
    return True


PROP = re.compile(r"property `([^`]*)`")
STATUS = re.compile(r"`(\d{3}|default)` status|status `(\d{3}|default)`")


def request_schema(doc, method, path):
    op = ((doc.get("paths") or {}).get(path) or {}).get(method.lower()) or {}
    body = resolve(doc, op.get("requestBody"))
    if not isinstance(body, dict):
        return None
    for media, content in (body.get("content") or {}).items():
        if "json" in media and isinstance(content, dict) and "schema" in content:
            return content["schema"]
    return None


NULLABILITY = ("nullable", "enum-value-added", "one-of-", "any-of-", "all-of-", "list-of-types-")


def classify_missed(c, rev_doc, migration=False):
    """The divergence an oasdiff finding Steward lacks comes from, if any."""
    cid, text = c["id"], c.get("text", "")
    if migration and any(part in cid for part in NULLABILITY):
        return "oas31-nullability"
    # Steward notes changed `allOf` lists at info level; their effect on values
    # is what it reports at error or warning.
    if cid.endswith(("-all-of-added", "-all-of-removed")):
        return "allof-structure"
    if cid.endswith("type-changed") and ("`object`/`` to ``/``" in text or "``/`` to `object`/``" in text):
        return "allof-structure"
    if rev_doc is None:
        return None
    prop = PROP.search(text)
    if not prop:
        return None
    method, path = c.get("operation", ""), c.get("path", "")
    schema = None
    if cid in ("response-required-property-removed", "response-optional-property-removed"):
        status = STATUS.search(text)
        if status:
            schema = response_schema(rev_doc, method, path, status.group(1) or status.group(2))
    elif cid == "request-property-removed":
        schema = request_schema(rev_doc, method, path)
    if schema is not None and exists_when_merged(rev_doc, schema, prop.group(1)):
        return "allof-structure"
    return None


OASDIFF_IDS = set()


def classify_extra(c, wrapped_ops):
    """The divergence a Steward finding oasdiff lacks comes from, if any."""
    if c["id"] == "api-operation-id-changed":
        return "operation-id-changed"
    if OASDIFF_IDS and c["id"] not in OASDIFF_IDS:
        return "no-oasdiff-check"
    op = c.get("operation") or ""
    # Below a schema oasdiff saw wrapped in `allOf` (its type read as gone), it
    # compares nothing; Steward's findings there are the changes it could not see.
    if op in wrapped_ops:
        return "allof-structure"
    return None


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
    try:
        rev_doc = load_doc(rev)
    except Exception:
        rev_doc = None
    try:
        base_version = str(load_doc(base).get("openapi", ""))[:3]
    except Exception:
        base_version = ""
    migration = rev_doc is not None and base_version != str(rev_doc.get("openapi", ""))[:3]
    # Operations where oasdiff read an object as having lost its type: the mark
    # of a schema newly wrapped in `allOf`.
    wrapped_ops = {
        f"{c.get('operation', '')} {c.get('path', '')}"
        for c in o
        if c["id"].endswith("type-changed") and "`object`/`` to ``/``" in c.get("text", "")
    }
    diverged = collections.Counter()
    o_errwarn = [c for c in o if LEVELS_O.get(c.get("level")) in ("error", "warning")]
    s_errwarn = [c for c in s if level_steward(c) in ("error", "warning")]
    s_keys = collections.Counter(key_steward(c) for c in s_errwarn)
    o_keys = collections.Counter(key_oasdiff(c) for c in o_errwarn)
    missed_left = s_keys.copy()
    net_o = 0
    for c in o_errwarn:
        k = key_oasdiff(c)
        if missed_left[k] > 0:
            missed_left[k] -= 1
            net_o += 1
            continue
        why = classify_missed(c, rev_doc, migration)
        if why:
            diverged[("oasdiff", why)] += 1
        else:
            net_o += 1
    extra_left = o_keys.copy()
    net_s = 0
    for c in s_errwarn:
        k = key_steward(c)
        if extra_left[k] > 0:
            extra_left[k] -= 1
            net_s += 1
            continue
        why = classify_extra(c, wrapped_ops)
        if why:
            diverged[("steward", why)] += 1
        else:
            net_s += 1
    by_level = {}
    for lvl in ("error", "warning", "info"):
        by_level[("o", lvl)] = collections.Counter(
            key_oasdiff(c) for c in o if LEVELS_O.get(c.get("level")) == lvl
        )
        by_level[("s", lvl)] = collections.Counter(
            key_steward(c) for c in s if level_steward(c) == lvl
        )
    return {
        "o": by_level,
        "to": to,
        "ts": ts,
        "notes": ps.stderr.count("note:"),
        "net_o": net_o,
        "net_s": net_s,
        "diverged": diverged,
    }, None


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
    checks = subprocess.run([oasdiff, "checks", "-f", "json"], capture_output=True, text=True)
    OASDIFF_IDS.update(c["id"] for c in json.loads(checks.stdout or "[]"))
    pairs = [
        line.rstrip("\n").split("\t")
        for line in open(pairs_file)
        if line.strip() and not line.startswith("#")
    ]
    per_id = collections.defaultdict(lambda: [0, 0, 0])  # oasdiff, steward, both
    lines = []
    totals = [0, 0, 0]
    header = (
        f"{'pair':<38} {'oasdiff':>8} {'steward':>8} {'both':>7} {'recall':>7} "
        f"{'precision':>9} {'net rec':>7} {'net prec':>8} {'oasdiff s':>9} {'steward s':>9}"
    )
    all_diverged = collections.Counter()
    net_totals = [0, 0]
    print(header)
    lines.append(
        "| pair | oasdiff (error+warning) | Steward (error+warning) | both | recall | precision | net recall | net precision | oasdiff time | Steward time |"
    )
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, base, rev in pairs:
        result, error = compare(steward, oasdiff, base, rev)
        if error:
            print(f"{name:<38} {error}")
            lines.append(f"| {name} | {error} | | | | | | | | |")
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
        all_diverged.update(result["diverged"])
        net_totals[0] += result["net_o"]
        net_totals[1] += result["net_s"]
        net_r, net_p = ratio(n_b, result["net_o"]), ratio(n_b, result["net_s"])
        row = (
            f"{name:<38} {n_o:>8} {n_s:>8} {n_b:>7} {ratio(n_b, n_o):>7.3f} "
            f"{ratio(n_b, n_s):>9.3f} {net_r:>7.3f} {net_p:>8.3f} {result['to']:>9.2f} {result['ts']:>9.2f}"
        )
        print(row, flush=True)
        lines.append(
            f"| {name} | {n_o} | {n_s} | {n_b} | {ratio(n_b, n_o):.3f} | {ratio(n_b, n_s):.3f} "
            f"| {net_r:.3f} | {net_p:.3f} | {result['to']:.2f} s | {result['ts']:.2f} s |"
        )
    print(
        f"{'total':<38} {totals[0]:>8} {totals[1]:>8} {totals[2]:>7} "
        f"{ratio(totals[2], totals[0]):>7.3f} {ratio(totals[2], totals[1]):>9.3f} "
        f"{ratio(totals[2], net_totals[0]):>7.3f} {ratio(totals[2], net_totals[1]):>8.3f}"
    )
    lines.append(
        f"| **total** | {totals[0]} | {totals[1]} | {totals[2]} | {ratio(totals[2], totals[0]):.3f} "
        f"| {ratio(totals[2], totals[1]):.3f} | {ratio(totals[2], net_totals[0]):.3f} "
        f"| {ratio(totals[2], net_totals[1]):.3f} | | |"
    )
    print()
    lines.append("")
    lines.append("| divergence | oasdiff findings | Steward findings | why |")
    lines.append("| --- | ---: | ---: | --- |")
    for key, why in DIVERGENCES.items():
        n_o, n_s = all_diverged[("oasdiff", key)], all_diverged[("steward", key)]
        print(f"divergence {key:<24} oasdiff {n_o:>6}  steward {n_s:>6}")
        lines.append(f"| {key} | {n_o} | {n_s} | {why} |")
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
