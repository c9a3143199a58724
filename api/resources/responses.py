"""Placeholder: filled in by the work on this resource."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("responses", __name__, url_prefix="/v1/responses")
