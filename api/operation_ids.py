"""Every operation's operationId: the function name a generated client gives it.

Without one, generators name functions after the path (`post_v1_interviews_interview_id_plan`),
and the name changes whenever a path does. The shapes most routes share are named by one rule
here (`list_touches`, `create_touch`, `get_touch`, `approve_touch`, `list_touch_events`...);
a view whose path fits none of them names itself with `@blp.doc(operationId=...)`, which wins
over the rule. An operation named neither way stops the document from being built, so a new
route cannot reach the portal's client unnamed. tests/api/test_openapi_contract.py pins the
whole list: renaming an operation breaks every client generated from the document, and has to
be done on purpose.
"""

from __future__ import annotations

import re

from apispec import BasePlugin

#: What a method does to one object (`/touches/{touch_id}`)...
ON_AN_OBJECT = {"get": "get", "patch": "update", "delete": "delete"}
#: ... and to one part of it (`/contacts/{contact_id}/policy`), which PUT sets whole.
ON_A_PART = {"get": "get", "put": "set", "delete": "delete"}
_WORD = re.compile(r"^[a-z]+(?:_[a-z]+)*$")


def singular(plural: str) -> str:
    """`touches` -> `touch`, `policies` -> `policy`, `mailboxes` -> `mailbox`, `users` -> `user`."""
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    if plural.endswith(("ches", "shes", "sses", "xes")):
        return plural[:-2]
    return plural[:-1]


def _is_collection(segment: str) -> bool:
    return bool(_WORD.match(segment)) and segment.endswith("s")


def _names_one_of(segment: str, collection: str) -> bool:
    """`{touch_id}` after `touches`."""
    return segment == "{" + singular(collection) + "_id}"


def derived_operation_id(path: str, method: str) -> str | None:
    """The rule's name for an operation, or None when its path fits no shape of the rule:

    - `/v1/touches`: list_touches (GET), create_touch (POST);
    - `/v1/touches/{touch_id}`: get_touch, update_touch (PATCH), delete_touch;
    - `/v1/touches/{touch_id}/events` (a collection): list_touch_events;
    - `/v1/touches/{touch_id}/approve` (POST to a word): approve_touch, the word is the verb;
    - `/v1/contacts/{contact_id}/policy` (a part): get_contact_policy, set_contact_policy (PUT).
    """
    parts = path.strip("/").split("/")
    if parts[:1] != ["v1"] or len(parts) < 2 or not _is_collection(parts[1]):
        return None
    collection, rest = parts[1], parts[2:]
    noun = singular(collection)
    if not rest:
        return {"get": f"list_{collection}", "post": f"create_{noun}"}.get(method)
    if not _names_one_of(rest[0], collection):
        return None
    if len(rest) == 1:
        verb = ON_AN_OBJECT.get(method)
        return f"{verb}_{noun}" if verb else None
    if len(rest) != 2 or not _WORD.match(rest[1]):
        return None
    word = rest[1]
    if _is_collection(word):
        return f"list_{noun}_{word}" if method == "get" else None
    if method == "post":
        return f"{word}_{noun}"
    verb = ON_A_PART.get(method)
    return f"{verb}_{noun}_{word}" if verb else None


class OperationIdPlugin(BasePlugin):
    """Names each operation: its view's own `operationId` if it set one, else the rule's."""

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **_):
        for method, operation in (operations or {}).items():
            if operation.get("operationId"):
                continue
            name = derived_operation_id(path or "", method)
            if name is None:
                raise ValueError(
                    f"{method.upper()} {path} has no operationId: its path fits no shape of "
                    "api.operation_ids, so name it with @blp.doc(operationId='verb_noun')."
                )
            operation["operationId"] = name
