"""Sample objects for path parameters of resources added after the foundation.

The access test fills every path parameter from here: a new route whose parameter has
no sample fails that test until one is added.
"""

from __future__ import annotations


def build(factory, candidate, contact, application, interview) -> dict[str, int]:
    touch = factory.touch(contact, application)
    return {"touch_id": touch.id}
