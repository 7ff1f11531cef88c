#!/usr/bin/env python3
"""Converts an OpenAPI 3.0 JSON document to 3.1 the way generators and converters
write 3.1, to make large 3.1 documents for the benchmarks and the parity harness.

Usage: to31.py IN.json OUT.json

- `openapi` becomes 3.1.0;
- `nullable: true` becomes `"null"` in a type list (and `null` joins an `enum`), a
  `{"type": "null"}` alternative in a `oneOf`/`anyOf`, or for `allOf` an `anyOf`
  of the composition and `{"type": "null"}`; without any of these it is dropped,
  since 3.1 has no `nullable`;
- boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers;
- a schema's `example` becomes `examples: [example]`.
"""
import json
import sys

SCHEMA_MAPS = ("properties", "patternProperties", "$defs")
SCHEMA_LISTS = ("allOf", "oneOf", "anyOf", "prefixItems")
SCHEMA_ONE = ("items", "not", "additionalProperties", "contains", "if", "then", "else")


def schema(s):
    if not isinstance(s, dict) or "$ref" in s:
        return s
    for k in SCHEMA_MAPS:
        if isinstance(s.get(k), dict):
            s[k] = {n: schema(v) for n, v in s[k].items()}
    for k in SCHEMA_LISTS:
        if isinstance(s.get(k), list):
            s[k] = [schema(v) for v in s[k]]
    for k in SCHEMA_ONE:
        if isinstance(s.get(k), dict):
            s[k] = schema(s[k])
    for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if s.get(flag) is True and bound in s:
            s[flag] = s.pop(bound)
        elif s.get(flag) is False:
            del s[flag]
    if "example" in s:
        s["examples"] = [s.pop("example")]
    if s.pop("nullable", False) is True:
        if isinstance(s.get("type"), str):
            s["type"] = [s["type"], "null"]
            if isinstance(s.get("enum"), list) and None not in s["enum"]:
                s["enum"].append(None)
        elif isinstance(s.get("oneOf"), list):
            s["oneOf"].append({"type": "null"})
        elif isinstance(s.get("anyOf"), list):
            s["anyOf"].append({"type": "null"})
        elif isinstance(s.get("allOf"), list):
            s["anyOf"] = [{"allOf": s.pop("allOf")}, {"type": "null"}]
    return s


def walk(v, in_schema_slot=False):
    if isinstance(v, dict):
        for k, c in list(v.items()):
            if k == "schema" or (k == "schemas" and isinstance(c, dict)):
                if k == "schema":
                    v[k] = schema(c)
                else:
                    v[k] = {n: schema(x) for n, x in c.items()}
            elif k not in ("example", "examples", "default", "enum"):
                walk(c)
    elif isinstance(v, list):
        for c in v:
            walk(c)


def main():
    doc = json.load(open(sys.argv[1]))
    doc["openapi"] = "3.1.0"
    walk(doc)
    with open(sys.argv[2], "w") as f:
        json.dump(doc, f)


if __name__ == "__main__":
    main()
