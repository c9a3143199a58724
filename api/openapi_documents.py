"""The two documents built from the API's one spec: the portal's and the provider callbacks'.

openapi/openapi.json is what a portal generates its client from, so it holds only what a
portal calls. Twilio's callbacks (signed by Twilio, never called with a token) would
otherwise become functions and models of every portal's client, and neither
openapi-python-client nor openapi-typescript can be told to skip operations (`x-internal`
is read by neither), so they go to a second document, openapi/provider-callbacks.json,
where each is also marked `x-internal: true` for the tools that do read it. Each document
keeps only the components its own operations reach, so the portal's client has no model
of a Twilio form.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from api.openapi_examples import apply_examples
from api.openapi_tags import INTERNAL_TAGS, declared, tag_of

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_REF = re.compile(r"^#/components/(\w+)/(.+)$")

CALLBACKS_INFO = {
    "title": "Touchbase provider callbacks",
    "description": "Requests Twilio makes to Touchbase: message and call status, the call "
    "bridge's TwiML, inbound SMS. Not for portals: each request must carry Twilio's "
    "signature (X-Twilio-Signature), computed over TOUCHBASE_PUBLIC_URL. The portal's "
    "document is openapi.json.",
}


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, operation)
        for path, item in document.get("paths", {}).items()
        for method, operation in item.items()
        if method in METHODS
    ]


def build_documents(spec: dict) -> tuple[dict, dict]:
    """(portal document, provider callbacks document) from the whole spec as apispec
    writes it: operations filed under the README's tags, examples added, split by audience,
    each pruned to the components it uses."""
    full = copy.deepcopy(spec)
    for _path, _method, operation in operations(full):
        (blueprint,) = operation.get("tags") or ["(untagged)"]
        operation["tags"] = [tag_of(blueprint).name]
    apply_examples(full)
    portal = _subset(full, internal=False)
    callbacks = _subset(full, internal=True)
    callbacks["info"] = {**full["info"], **CALLBACKS_INFO}
    for _path, _method, operation in operations(callbacks):
        operation["x-internal"] = True
    return portal, callbacks


def _subset(full: dict, *, internal: bool) -> dict:
    document = {key: value for key, value in full.items() if key not in ("paths", "components")}
    paths: dict[str, dict] = {}
    for path, item in full["paths"].items():
        kept = {
            method: operation
            for method, operation in item.items()
            if method not in METHODS or (operation["tags"][0] in INTERNAL_TAGS) == internal
        }
        if any(method in METHODS for method in kept):
            paths[path] = kept
    document["paths"] = paths
    document["components"] = _reachable_components(full.get("components", {}), paths)
    document["tags"] = declared({op["tags"][0] for _p, _m, op in operations(document)})
    return document


def _reachable_components(components: dict, paths: dict) -> dict:
    """The components the paths refer to, directly or through other components, and the
    security schemes their operations name."""
    seen: set[tuple[str, str]] = set()
    pending = list(_refs(paths))
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        kind, name = key
        pending.extend(_refs(components[kind][name]))
    schemes = {
        name
        for item in paths.values()
        for method, operation in item.items()
        if method in METHODS
        for requirement in operation.get("security", [])
        for name in requirement
    }
    seen |= {("securitySchemes", name) for name in schemes}
    kept: dict[str, dict] = {}
    for kind, entries in components.items():
        names = {name: value for name, value in entries.items() if (kind, name) in seen}
        if names:
            kept[kind] = names
    return kept


def _refs(node: Any):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (match := _REF.match(ref)):
            yield match.group(1), match.group(2)
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def merge_documents(portal: dict, callbacks: dict) -> dict:
    """Both documents as one, as the server serves them together: for checks that hold
    every operation to a rule, and for the fuzzer."""
    if set(portal["paths"]) & set(callbacks["paths"]):
        raise ValueError("a path is in both documents")
    components = {kind: dict(entries) for kind, entries in portal["components"].items()}
    for kind, entries in callbacks["components"].items():
        for name, value in entries.items():
            if components.setdefault(kind, {}).setdefault(name, value) != value:
                raise ValueError(f"component {kind}/{name} differs between the documents")
    return {
        **portal,
        "paths": {**portal["paths"], **callbacks["paths"]},
        "components": components,
        "tags": portal.get("tags", []) + callbacks.get("tags", []),
    }
