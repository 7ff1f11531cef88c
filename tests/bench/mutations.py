#!/usr/bin/env python3
"""Mutation pairs: one change of each kind, applied to a retail contract and run
through both `steward diff` and oasdiff, in both directions.

Usage: mutations.py STEWARD OASDIFF BASE_SPEC [BASE_SPEC_31] [--markdown OUT]

BASE_SPEC is one of specs/retail (YAML). An operation `POST /mutations` is added
to it with a query parameter, a request body, a response body and a response
header, each with a schema that the mutations change one keyword at a time, and
the operation itself is mutated (removed, deprecated, secured, ...). Further pairs
change the path item around it (a second operation, path-level parameters, a path
template) and the document (global security, security schemes, components; 3.1's
webhooks). The rest of the contract stays as it is, so each pair differs by exactly
one change. Sunset dates are relative to today, as oasdiff's sunset checks are.

For every check id either tool reports, the table says in how many pairs it was
reported and in how many of those the other tool reported the same id; and it
lists oasdiff's ids that no pair exercised, so the catalogue's coverage is seen.
"""
import collections
import copy
import datetime
import json
import os
import subprocess
import sys
import tempfile

import yaml

STR = {"type": "string"}
INT = {"type": "integer"}
ARR = {"type": "array", "items": {"type": "string"}}
NUM = {"type": "number"}
RO, WO = {"readOnly": True}, {"writeOnly": True}

# oasdiff's sunset checks compare with today: a date in the past is "too small" even
# without a deprecation policy (--deprecation-days-*), one far ahead is fine.
TODAY = datetime.date.today()
SUNSET_LATER = (TODAY + datetime.timedelta(days=400)).isoformat()
SUNSET_PASSED = (TODAY - datetime.timedelta(days=10)).isoformat()


def obj(a, required=None, **more):
    """An object with the one property `a`."""
    o = {"type": "object", "properties": {"a": a}, **more}
    if required:
        o["required"] = required
    return o


def variant(kind):
    return {"title": kind, "type": "object", "required": ["kind"], "properties": {"kind": {**STR, "enum": [kind]}}}


def tagged(discriminator=None):
    """A oneOf of two variants told apart by `kind`, with or without a discriminator."""
    one = {"oneOf": [variant("a"), variant("b")]}
    return {**one, "discriminator": discriminator} if discriminator else one


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
    # 3.0's boolean exclusiveMinimum/Maximum beside minimum/maximum.
    ("exclusiveMaximum set (3.0 boolean)", {**NUM, "maximum": 10}, {**NUM, "maximum": 10, "exclusiveMaximum": True}),
    ("exclusiveMinimum set (3.0 boolean)", {**NUM, "minimum": 1}, {**NUM, "minimum": 1, "exclusiveMinimum": True}),
    # oasdiff calls a pattern "generalized" only when it becomes `.*`.
    ("pattern generalized", {**STR, "pattern": "^[a-z]+$"}, {**STR, "pattern": ".*"}),
    ("object: property type changed", obj(STR), obj(INT)),
    ("object: property integer to number", obj(INT), obj(NUM)),
    ("object: property list of types widened", obj({"oneOf": [STR, INT]}), obj({"oneOf": [STR, INT, {"type": "boolean"}]})),
    ("object: property deprecated with sunset", obj(STR), obj({**STR, "deprecated": True, "x-sunset": SUNSET_LATER})),
    ("object: property deprecated, sunset unparseable", obj(STR), obj({**STR, "deprecated": True, "x-sunset": "soon"})),
    ("object: property deprecated, sunset passed", obj(STR), obj({**STR, "deprecated": True, "x-sunset": SUNSET_PASSED})),
    ("object: required property became readOnly", obj(STR, ["a"]), obj({**STR, **RO}, ["a"])),
    ("object: required property became writeOnly", obj(STR, ["a"]), obj({**STR, **WO}, ["a"])),
    ("object: writeOnly property added", {"type": "object", "properties": {}}, obj({**STR, **WO})),
    ("object: required writeOnly property added", {"type": "object", "properties": {}}, obj({**STR, **WO}, ["a"])),
    ("object: writeOnly property became required", obj({**STR, **WO}), obj({**STR, **WO}, ["a"])),
    ("object: writeOnly enum value added", obj({**STR, **WO, "enum": ["x"]}), obj({**STR, **WO, "enum": ["x", "y"]})),
    # A readOnly property is not sent, so oasdiff's request-read-only-* ids are info.
    ("object: readOnly enum value removed", obj({**STR, **RO, "enum": ["x", "y"]}), obj({**STR, **RO, "enum": ["x"]})),
    ("object: readOnly maximum lowered", obj({**INT, **RO, "maximum": 10}), obj({**INT, **RO, "maximum": 5})),
    ("object: readOnly minimum raised", obj({**INT, **RO, "minimum": 1}), obj({**INT, **RO, "minimum": 3})),
    ("object: readOnly maxLength lowered", obj({**STR, **RO, "maxLength": 10}), obj({**STR, **RO, "maxLength": 5})),
    ("object: required property with default added", {"type": "object", "properties": {}}, obj({**STR, "default": "x"}, ["a"])),
    ("object: property with default became required", obj({**STR, "default": "x"}), obj({**STR, "default": "x"}, ["a"])),
    ("discriminator added", tagged(), tagged({"propertyName": "kind"})),
    ("discriminator propertyName changed", tagged({"propertyName": "kind"}), tagged({"propertyName": "type"})),
    ("discriminator mapping added", tagged({"propertyName": "kind"}), tagged({"propertyName": "kind", "mapping": {"a": "#/components/schemas/Channel"}})),
    ("discriminator mapping changed", tagged({"propertyName": "kind", "mapping": {"a": "#/components/schemas/Channel"}}), tagged({"propertyName": "kind", "mapping": {"a": "#/components/schemas/Problem"}})),
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
    ("minContains raised from 1", {**ARR, "contains": STR, "minContains": 1}, {**ARR, "contains": STR, "minContains": 2}),
    ("exclusiveMinimum raised", {**NUM, "exclusiveMinimum": 1}, {**NUM, "exclusiveMinimum": 3}),
    ("exclusiveMaximum set", NUM, {**NUM, "exclusiveMaximum": 10}),
    # oasdiff reads a boolean `false` as no schema (the `... set` rows above), a schema it compares.
    ("unevaluatedItems schema set", ARR, {**ARR, "unevaluatedItems": STR}),
    ("unevaluatedProperties schema set", OBJ, {**OBJ, "unevaluatedProperties": STR}),
    ("object: readOnly exclusiveMaximum lowered", obj({**NUM, **RO, "exclusiveMaximum": 10}), obj({**NUM, **RO, "exclusiveMaximum": 5})),
    ("object: readOnly exclusiveMinimum raised", obj({**NUM, **RO, "exclusiveMinimum": 1}), obj({**NUM, **RO, "exclusiveMinimum": 3})),
    ("object: property type list widened", obj({"type": ["string", "integer"]}), obj({"type": ["string", "integer", "boolean"]})),
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
    changed("stability invalid", lambda o: o.update({"x-stability-level": "bogus"}))
    changed("operationId removed", lambda o: o.pop("operationId"))
    changed("deprecated, sunset unparseable", lambda o: o.update({"deprecated": True, "x-sunset": "soon"}))
    changed("deprecated, sunset passed", lambda o: o.update({"deprecated": True, "x-sunset": SUNSET_PASSED}))
    param = lambda o: o["parameters"][0]
    changed("parameter deprecated", lambda o: param(o).update(deprecated=True))
    changed("parameter deprecated with sunset", lambda o: param(o).update({"deprecated": True, "x-sunset": SUNSET_LATER}))
    changed("parameter deprecated, sunset unparseable", lambda o: param(o).update({"deprecated": True, "x-sunset": "soon"}))
    changed("parameter deprecated, sunset passed", lambda o: param(o).update({"deprecated": True, "x-sunset": SUNSET_PASSED}))
    ok = lambda o: o["responses"]["200"]
    changed("response media type specialized", lambda o: ok(o).update(content={"application/problem+json": ok(o)["content"]["application/json"]}))
    changed("response media type parameter added", lambda o: ok(o).update(content={"application/json; charset=utf-8": ok(o)["content"]["application/json"]}))

    def between(label, f, g):
        a, b = copy.deepcopy(base), copy.deepcopy(base)
        f(a)
        g(b)
        out.append((label, a, b))

    # The operation's own security requirement, where the existing "scope added" replaces the global one.
    own = lambda scopes: lambda o: o.update(security=[{"oauth2": scopes}])
    between("scope added to own security", own(["inventory:read"]), own(["inventory:read", "inventory:write"]))
    between("optional request body added", lambda o: o.pop("requestBody"), lambda o: o["requestBody"].update(required=False))
    between("required response header removed", lambda o: ok(o)["headers"]["X-Rate"].update(required=True), lambda o: ok(o).pop("headers"))
    # Changes to a deprecated operation's or parameter's sunset.
    dep = lambda date: lambda o: o.update({"deprecated": True, "x-sunset": date})
    between("sunset deleted", dep(SUNSET_LATER), lambda o: o.update(deprecated=True))
    between("sunset moved into the past", dep(SUNSET_LATER), dep(SUNSET_PASSED))
    between("sunset made unparseable", dep(SUNSET_LATER), dep("soon"))
    pdep = lambda date: lambda o: param(o).update({"deprecated": True, **({"x-sunset": date} if date else {})})
    between("parameter sunset deleted", pdep(SUNSET_LATER), pdep(None))
    between("parameter sunset moved into the past", pdep(SUNSET_LATER), pdep(SUNSET_PASSED))
    between("parameter sunset made unparseable", pdep(SUNSET_LATER), pdep("soon"))
    between("deprecated parameter removed", pdep(None), lambda o: o["parameters"].pop())
    between("parameter removed before sunset", pdep(SUNSET_LATER), lambda o: o["parameters"].pop())
    # An object-typed header parameter, changed below its top level.
    header = lambda schema: lambda o: o["parameters"].append({"name": "X-Filter", "in": "header", "schema": schema})
    between("header parameter property became enum", header(obj(STR)), header(obj({**STR, "enum": ["x"]})))
    between("header parameter property became required", header(obj(STR)), header(obj(STR, ["a"])))
    between("header parameter required property added", header(obj(STR)), header({"type": "object", "required": ["b"], "properties": {"a": STR, "b": STR}}))
    return out


def path_mutations():
    """(label, path, base path item or None, revision path item or None): changes that
    need a second operation on the path, parameters of the path item, or a path template."""
    op = with_slot("parameter", STR)
    get = {"operationId": "mutateGet", "summary": "Read mutations", "tags": ["mutations"], "responses": {"200": {"description": "ok"}}}

    def dep(sunset=None):
        o = copy.deepcopy(op)
        o["deprecated"] = True
        if sunset:
            o["x-sunset"] = sunset
        return o

    # Removing one of two operations is api-*, removing a path's last one api-path-*.
    out = [
        ("operation removed, path kept", "/mutations", {"get": get, "post": op}, {"get": get}),
        ("deprecated operation removed, path kept", "/mutations", {"get": get, "post": dep()}, {"get": get}),
        ("operation removed before sunset, path kept", "/mutations", {"get": get, "post": dep(SUNSET_LATER)}, {"get": get}),
        ("operation removed after sunset, path kept", "/mutations", {"get": get, "post": dep(SUNSET_PASSED)}, {"get": get}),
        ("deprecated path removed", "/mutations", {"post": dep()}, None),
        ("path removed before sunset", "/mutations", {"post": dep(SUNSET_LATER)}, None),
        ("path removed, sunset unparseable", "/mutations", {"post": dep("soon")}, None),
        ("path-level optional parameter added", "/mutations", {"post": op}, {"post": op, "parameters": [{"name": "r", "in": "query", "schema": STR}]}),
        ("path-level required parameter added", "/mutations", {"post": op}, {"post": op, "parameters": [{"name": "r", "in": "query", "required": True, "schema": STR}]}),
    ]
    # oasdiff's own test of a new path parameter declares it where the base left the
    # template's variable undeclared; moving a declaration from the path item to the
    # operation (no change for a client) reads the same to oasdiff.
    pid = {"name": "id", "in": "path", "required": True, "schema": STR}
    with_id = copy.deepcopy(op)
    with_id["parameters"].append(pid)
    out.append(("path parameter declared", "/mutations/{id}", {"post": op}, {"post": with_id}))
    out.append(("path parameter moved to operation", "/mutations/{id}", {"post": op, "parameters": [pid]}, {"post": with_id}))
    return out


def document_mutations(doc):
    """(label, base document, revision document): changes outside the operation."""
    base = put_op(doc, with_slot("parameter", STR))
    out = []

    def changed(label, f, g=lambda d: None):
        a, b = copy.deepcopy(base), copy.deepcopy(base)
        f(a)
        g(b)
        out.append((label, a, b))

    schemes = lambda d: d["components"]["securitySchemes"]
    basic = {"type": "http", "scheme": "basic"}
    changed("global security scheme added", lambda d: None, lambda d: (d["security"].append({"basic": []}), schemes(d).update(basic=basic)))
    changed("global security scope added", lambda d: None, lambda d: d["security"][0]["oauth2"].append("inventory:write"))
    changed("security scheme added", lambda d: None, lambda d: schemes(d).update(basic=basic))
    changed("security scheme type changed", lambda d: schemes(d).update(basic=basic), lambda d: schemes(d).update(basic={"type": "apiKey", "in": "header", "name": "X-Basic"}))
    changed("components schema removed", lambda d: d["components"]["schemas"].update(Unused=STR))

    # oasdiff compares only the implicit flow of an OAuth scheme.
    def implicit(**flow):
        f = {"authorizationUrl": "https://auth.example/authorize", "scopes": {"inventory:read": "Read stock."}, **flow}
        return lambda d: schemes(d).update(partner={"type": "oauth2", "flows": {"implicit": f}})

    changed("OAuth scope added", implicit(), implicit(scopes={"inventory:read": "Read stock.", "inventory:write": "Write stock."}))
    changed("OAuth scope description changed", implicit(), implicit(scopes={"inventory:read": "Read all stock."}))
    changed("OAuth authorizationUrl changed", implicit(), implicit(authorizationUrl="https://auth.example/authorize2"))
    # The implicit flow has no tokenUrl in the spec; oasdiff reads one anyway, Steward
    # does not. The client-credentials flow, which partners use, has one: oasdiff does
    # not compare it, Steward does (the `oauth-flows` divergence).
    changed("OAuth tokenUrl changed (implicit flow)", implicit(tokenUrl="https://auth.example/token"), implicit(tokenUrl="https://auth.example/token2"))

    def client_credentials(url):
        f = {"tokenUrl": url, "scopes": {"inventory:read": "Read stock."}}
        return lambda d: schemes(d).update(partner={"type": "oauth2", "flows": {"clientCredentials": f}})

    changed("OAuth tokenUrl changed (client credentials)", client_credentials("https://auth.example/token"), client_credentials("https://auth.example/token2"))
    return out


def webhook_mutations(doc):
    """3.1's webhooks: one added (and, reversed, removed)."""
    base = put_op(doc, with_slot("parameter", STR))
    rev = copy.deepcopy(base)
    hook = {"operationId": "onMutation", "requestBody": {"content": {"application/json": {"schema": STR}}}, "responses": {"200": {"description": "ok"}}}
    rev["webhooks"] = {"mutation": {"post": hook}}
    return [("document: webhook added", base, rev)]


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
    for label, path, a, b in path_mutations():
        docs.append((f"path: {label}", put_path(doc, path, a), put_path(doc, path, b)))
    for label, a, b in document_mutations(doc):
        docs.append((f"document: {label}", a, b))
    return docs


def put_path(doc, path, item):
    d = copy.deepcopy(doc)
    if item is not None:
        d.setdefault("paths", {})[path] = item
    return d


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
    # --only TEXT runs the pairs whose label contains TEXT, and prints each pair's
    # ids from both tools: for working on one kind of change.
    only = None
    if "--only" in args:
        at = args.index("--only")
        only = args[at + 1]
        del args[at : at + 2]
    steward, oasdiff, spec = args[:3]
    doc = yaml.safe_load(open(spec))
    # A second contract in OpenAPI 3.1 takes the 2020-12 keyword mutations.
    spec31 = args[3] if len(args) > 3 else None
    batches = [pairs(doc)]
    if spec31:
        doc31 = yaml.safe_load(open(spec31))
        batches.append(pairs(doc31, SCHEMA_MUTATIONS_31) + webhook_mutations(doc31))
    known = json.loads(subprocess.run([oasdiff, "checks", "-f", "json"], capture_output=True, text=True).stdout)
    oas_levels = {c["id"]: c["level"] for c in known}
    reported = collections.defaultdict(lambda: [0, 0])  # oasdiff id -> [pairs, agreed]
    steward_only = collections.Counter()
    disagreements = collections.defaultdict(collections.Counter)
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        a_path, b_path = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
        for label, a, b in [p for batch in batches for p in batch]:
            if only is not None and only not in label:
                continue
            for direction, (x, y) in (("fwd", (a, b)), ("rev", (b, a))):
                json.dump(x, open(a_path, "w"))
                json.dump(y, open(b_path, "w"))
                o = ids([oasdiff, "changelog", a_path, b_path, "-f", "json"])
                st = ids([steward, "diff", a_path, b_path, "--format", "json", "--fail-on", "info"])
                if o is None or st is None:
                    continue
                if only is not None:
                    mark = "=" if o == st else "≠"
                    print(f"{mark} {label} [{direction}]\n    oasdiff: {' '.join(sorted(o))}\n    steward: {' '.join(sorted(st))}")
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
