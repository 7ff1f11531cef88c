#!/usr/bin/env python3
"""Mutation pairs: one change of each kind, applied to a retail contract and run
through both `steward diff` and oasdiff, in both directions.

Usage: mutations.py STEWARD OASDIFF BASE_SPEC [BASE_SPEC_31] [--markdown OUT]

BASE_SPEC is one of specs/retail (YAML). An operation `POST /mutations` is added
to it with a query parameter, a request body, a response body and a response
header, each with a schema that the mutations change one keyword at a time, and
the operation itself is mutated (removed, deprecated, secured, ...). The rest of
the contract stays as it is, so each pair differs by exactly one change.

For every check id either tool reports, the table says in how many pairs it was
reported and in how many of those the other tool reported the same id; and it
lists oasdiff's ids that no pair exercised, so the catalogue's coverage is seen.
"""
import collections
import copy
import json
import os
import subprocess
import sys
import tempfile

import yaml

STR = {"type": "string"}
INT = {"type": "integer"}
ARR = {"type": "array", "items": {"type": "string"}}


# (label, base schema, revision schema): each is also run reversed.
SCHEMA_MUTATIONS = [
    ("maxLength set", STR, {**STR, "maxLength": 10}),
    ("maxLength lowered", {**STR, "maxLength": 10}, {**STR, "maxLength": 5}),
    ("minLength set", STR, {**STR, "minLength": 2}),
    ("minLength raised", {**STR, "minLength": 2}, {**STR, "minLength": 4}),
    ("maximum set", INT, {**INT, "maximum": 10}),
    ("maximum lowered", {**INT, "maximum": 10}, {**INT, "maximum": 5}),
    ("minimum set", INT, {**INT, "minimum": 1}),
    ("minimum raised", {**INT, "minimum": 1}, {**INT, "minimum": 3}),
    ("maxItems lowered", {**ARR, "maxItems": 5}, {**ARR, "maxItems": 3}),
    ("minItems set", ARR, {**ARR, "minItems": 1}),
    ("minItems raised", {**ARR, "minItems": 1}, {**ARR, "minItems": 2}),
    ("enum set", STR, {**STR, "enum": ["a", "b"]}),
    ("enum value removed", {**STR, "enum": ["a", "b"]}, {**STR, "enum": ["a"]}),
    ("pattern set", STR, {**STR, "pattern": "^[a-z]+$"}),
    ("pattern changed", {**STR, "pattern": "^[a-z]+$"}, {**STR, "pattern": "^[0-9]+$"}),
    ("type changed", STR, INT),
    ("integer to number", INT, {"type": "number"}),
    ("format set", STR, {**STR, "format": "date"}),
    ("int32 to int64", {**INT, "format": "int32"}, {**INT, "format": "int64"}),
    ("nullable set", STR, {**STR, "nullable": True}),
    ("default set", STR, {**STR, "default": "a"}),
    ("default changed", {**STR, "default": "a"}, {**STR, "default": "b"}),
    ("oneOf alternative added", {"oneOf": [{"title": "A", **STR}]}, {"oneOf": [{"title": "A", **STR}, {"title": "B", **STR, "format": "date"}]}),
    ("anyOf alternative added", {"anyOf": [{"title": "A", **STR}]}, {"anyOf": [{"title": "A", **STR}, {"title": "B", **STR, "format": "date"}]}),
    ("allOf part added", {"allOf": [STR]}, {"allOf": [STR, {"title": "note"}]}),
    ("list of types widened", STR, {"oneOf": [STR, INT]}),
    ("x-extensible-enum value removed", {**STR, "x-extensible-enum": ["a", "b"]}, {**STR, "x-extensible-enum": ["a"]}),
    ("object: property added", {"type": "object", "properties": {"a": STR}}, {"type": "object", "properties": {"a": STR, "b": STR}}),
    ("object: required property added", {"type": "object", "properties": {"a": STR}}, {"type": "object", "required": ["b"], "properties": {"a": STR, "b": STR}}),
    ("object: property became required", {"type": "object", "properties": {"a": STR}}, {"type": "object", "required": ["a"], "properties": {"a": STR}}),
    ("object: additionalProperties false", {"type": "object", "properties": {"a": STR}}, {"type": "object", "properties": {"a": STR}, "additionalProperties": False}),
    ("object: property readOnly", {"type": "object", "properties": {"a": STR}}, {"type": "object", "properties": {"a": {**STR, "readOnly": True}}}),
    ("object: property writeOnly", {"type": "object", "properties": {"a": STR}}, {"type": "object", "properties": {"a": {**STR, "writeOnly": True}}}),
    ("object: property deprecated", {"type": "object", "properties": {"a": STR}}, {"type": "object", "properties": {"a": {**STR, "deprecated": True}}}),
]

# OpenAPI 3.1's JSON Schema 2020-12 keywords, run on a 3.1 contract.
OBJ = {"type": "object"}
SCHEMA_MUTATIONS_31 = [
    ("const set", STR, {**STR, "const": "a"}),
    ("const changed", {**STR, "const": "a"}, {**STR, "const": "b"}),
    ("contains set", ARR, {**ARR, "contains": STR}),
    ("minContains raised", {**ARR, "contains": STR}, {**ARR, "contains": STR, "minContains": 2}),
    ("maxContains lowered", {**ARR, "contains": STR, "maxContains": 3}, {**ARR, "contains": STR, "maxContains": 2}),
    ("if set", OBJ, {**OBJ, "if": {"required": ["a"]}}),
    ("then set", OBJ, {**OBJ, "then": {"required": ["b"]}}),
    ("else set", OBJ, {**OBJ, "else": {"required": ["c"]}}),
    ("dependentRequired set", OBJ, {**OBJ, "dependentRequired": {"a": ["b"]}}),
    ("dependentRequired changed", {**OBJ, "dependentRequired": {"a": ["b"]}}, {**OBJ, "dependentRequired": {"a": ["c"]}}),
    ("dependentSchemas set", OBJ, {**OBJ, "dependentSchemas": {"a": {"required": ["b"]}}}),
    ("patternProperties entry added", OBJ, {**OBJ, "patternProperties": {"^x-": STR}}),
    ("propertyNames set", OBJ, {**OBJ, "propertyNames": {"maxLength": 8}}),
    ("prefixItems set", ARR, {**ARR, "prefixItems": [STR]}),
    ("unevaluatedItems set", ARR, {**ARR, "unevaluatedItems": False}),
    ("unevaluatedProperties set", OBJ, {**OBJ, "unevaluatedProperties": False}),
    ("contentSchema set", STR, {**STR, "contentMediaType": "application/json", "contentSchema": OBJ}),
    ("contentMediaType changed", {**STR, "contentMediaType": "text/csv"}, {**STR, "contentMediaType": "text/plain"}),
    ("contentEncoding changed", {**STR, "contentEncoding": "base64"}, {**STR, "contentEncoding": "base32"}),
    ("exclusiveMaximum lowered", {"type": "number", "exclusiveMaximum": 10}, {"type": "number", "exclusiveMaximum": 5}),
    ("exclusiveMinimum set", {"type": "number"}, {"type": "number", "exclusiveMinimum": 1}),
    ("type list widened", STR, {"type": ["string", "integer"]}),
    ("type list null added", STR, {"type": ["string", "null"]}),
]

SLOTS = ["parameter", "request body", "request property", "response body", "response property", "response header"]


def operation(param, req, resp, header):
    return {
        "operationId": "mutate",
        "summary": "A mutation target",
        "tags": ["mutations"],
        "parameters": [{"name": "q", "in": "query", "schema": param}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": req}}},
        "responses": {
            "200": {
                "description": "ok",
                "headers": {"X-Rate": {"schema": header}},
                "content": {"application/json": {"schema": resp}},
            },
            "400": {"description": "bad request"},
        },
    }


def wrap(schema):
    return {"type": "object", "properties": {"p": schema}}


def with_slot(slot, schema):
    plain = STR
    param, req, resp, header = plain, wrap(plain), wrap(plain), plain
    if slot == "parameter":
        param = schema
    elif slot == "request body":
        req = schema
    elif slot == "request property":
        req = wrap(schema)
    elif slot == "response body":
        resp = schema
    elif slot == "response property":
        resp = wrap(schema)
    elif slot == "response header":
        header = schema
    return operation(param, req, resp, header)


def op_mutations():
    """(label, base operation or None, revision operation or None)."""
    base = with_slot("parameter", STR)
    out = [("operation removed", base, None)]

    def changed(label, f):
        rev = copy.deepcopy(base)
        f(rev)
        out.append((label, base, rev))

    changed("deprecated", lambda o: o.update(deprecated=True))
    changed("deprecated with sunset", lambda o: o.update({"deprecated": True, "x-sunset": "2099-01-01"}))
    changed("required parameter added", lambda o: o["parameters"].append({"name": "r", "in": "query", "required": True, "schema": STR}))
    changed("optional parameter added", lambda o: o["parameters"].append({"name": "r", "in": "query", "schema": STR}))
    changed("parameter became required", lambda o: o["parameters"][0].update(required=True))
    changed("header parameter added", lambda o: o["parameters"].append({"name": "X-Req", "in": "header", "required": True, "schema": STR}))
    changed("request body optional", lambda o: o["requestBody"].update(required=False))
    changed("request media type added", lambda o: o["requestBody"]["content"].update({"application/xml": {"schema": STR}}))
    changed("request body removed", lambda o: o.pop("requestBody"))
    changed("success status added", lambda o: o["responses"].update({"201": {"description": "created"}}))
    changed("non-success status added", lambda o: o["responses"].update({"404": {"description": "missing"}}))
    changed("response media type added", lambda o: o["responses"]["200"]["content"].update({"application/xml": {"schema": STR}}))
    changed("response header added", lambda o: o["responses"]["200"]["headers"].update({"X-More": {"schema": STR}}))
    changed("response header required", lambda o: o["responses"]["200"]["headers"]["X-Rate"].update(required=True))
    changed("security added", lambda o: o.update(security=[{"apiKey": []}]))
    changed("scope added", lambda o: o.update(security=[{"oauth2": ["inventory:read", "inventory:write"]}]))
    changed("operationId changed", lambda o: o.update(operationId="mutate2"))
    changed("tag added", lambda o: o["tags"].append("more"))
    changed("stability decreased", lambda o: o.update({"x-stability-level": "beta"}))
    return out


def pairs(doc, mutations=None):
    if mutations is not None:
        docs = []
        for label, a, b in mutations:
            for slot in SLOTS:
                docs.append((f"{slot}: {label}", put_op(doc, with_slot(slot, a)), put_op(doc, with_slot(slot, b))))
        return docs
    docs = []

    def put(op):
        d = copy.deepcopy(doc)
        if op is not None:
            d.setdefault("paths", {})["/mutations"] = {"post": op}
        return d

    for label, a, b in SCHEMA_MUTATIONS:
        for slot in SLOTS:
            docs.append((f"{slot}: {label}", put(with_slot(slot, a)), put(with_slot(slot, b))))
    for label, a, b in op_mutations():
        docs.append((f"operation: {label}", put(a), put(b)))
    base = with_slot("parameter", STR)
    sec = copy.deepcopy(base)
    sec["security"] = [{"oauth2": ["inventory:read"]}]
    docs.append(("operation: scope security", put(base), put(sec)))
    stable = copy.deepcopy(base)
    stable["x-stability-level"] = "stable"
    beta = copy.deepcopy(base)
    beta["x-stability-level"] = "beta"
    docs.append(("operation: stability stable to beta", put(stable), put(beta)))
    sunset = copy.deepcopy(base)
    sunset.update({"deprecated": True, "x-sunset": "2099-06-30"})
    earlier = copy.deepcopy(sunset)
    earlier["x-sunset"] = "2099-03-31"
    docs.append(("operation: sunset moved earlier", put(sunset), put(earlier)))
    return docs


def put_op(doc, op):
    d = copy.deepcopy(doc)
    if op is not None:
        d.setdefault("paths", {})["/mutations"] = {"post": op}
    return d


LEVEL = {1: "info", 2: "warning", 3: "error"}


def ids(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    try:
        data = json.loads(p.stdout or "[]")
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict):
        data = data.get("changes", [])
    return {c["id"] for c in data if "/mutations" in (c.get("path") or "") or not c.get("path")}


def main():
    args = sys.argv[1:]
    markdown = None
    if "--markdown" in args:
        at = args.index("--markdown")
        markdown = args[at + 1]
        del args[at : at + 2]
    steward, oasdiff, spec = args[:3]
    doc = yaml.safe_load(open(spec))
    # A second contract in OpenAPI 3.1 takes the 2020-12 keyword mutations.
    spec31 = args[3] if len(args) > 3 else None
    batches = [pairs(doc)]
    if spec31:
        batches.append(pairs(yaml.safe_load(open(spec31)), SCHEMA_MUTATIONS_31))
    known = json.loads(subprocess.run([oasdiff, "checks", "-f", "json"], capture_output=True, text=True).stdout)
    oas_levels = {c["id"]: c["level"] for c in known}
    reported = collections.defaultdict(lambda: [0, 0])  # oasdiff id -> [pairs, agreed]
    steward_only = collections.Counter()
    disagreements = collections.defaultdict(collections.Counter)
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        a_path, b_path = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
        for label, a, b in [p for batch in batches for p in batch]:
            for x, y in ((a, b), (b, a)):
                json.dump(x, open(a_path, "w"))
                json.dump(y, open(b_path, "w"))
                o = ids([oasdiff, "changelog", a_path, b_path, "-f", "json"])
                st = ids([steward, "diff", a_path, b_path, "--format", "json", "--fail-on", "info"])
                if o is None or st is None:
                    continue
                n += 1
                for cid in o:
                    reported[cid][0] += 1
                    if cid in st:
                        reported[cid][1] += 1
                    else:
                        for other in st - o:
                            disagreements[cid][other] += 1
                for cid in st - o:
                    steward_only[cid] += 1
    agreed = sorted(c for c, (p, a) in reported.items() if a == p)
    partial = sorted(c for c, (p, a) in reported.items() if 0 < a < p)
    missed = sorted(c for c, (p, a) in reported.items() if a == 0)
    unexercised = sorted(set(oas_levels) - set(reported))
    lines = [
        f"{n} mutation pairs (both directions of {n // 2} changes) on {os.path.basename(spec)}"
        + (f" and, for 3.1's keywords, {os.path.basename(spec31)}." if spec31 else "."),
        "",
        f"- oasdiff ids exercised: {len(reported)} of {len(oas_levels)}; Steward reports the same id "
        f"in every pair for {len(agreed)}, in some for {len(partial)}, in none for {len(missed)}.",
        f"- Steward ids oasdiff does not report in the same pair: {len(steward_only)}.",
        "",
        "| oasdiff id | level | pairs | Steward same id | Steward instead |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for cid in sorted(reported, key=lambda c: (reported[c][1] == reported[c][0], c)):
        p, a = reported[cid]
        instead = ", ".join(f"`{k}`" for k, _ in disagreements[cid].most_common(3))
        lines.append(f"| `{cid}` | {oas_levels.get(cid, '?')} | {p} | {a} | {instead} |")
    lines += ["", "Steward ids without the same id from oasdiff in the pair:", ""]
    lines += [f"- `{k}` ({v})" for k, v in sorted(steward_only.items())]
    lines += ["", f"oasdiff ids no pair exercised ({len(unexercised)}): " + ", ".join(f"`{c}`" for c in unexercised)]
    text = "\n".join(lines) + "\n"
    print("\n".join(lines[:5]))
    if markdown:
        open(markdown, "w").write(text)


if __name__ == "__main__":
    main()
