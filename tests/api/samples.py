"""Sample objects for path parameters of resources added after the foundation."""

from __future__ import annotations


def build(factory, candidate, contact, application, interview) -> dict[str, int]:
    return {}
