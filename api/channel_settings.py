"""Channel settings per org, overridable per candidate; secrets are stored, never shown.

The embedded default needs no settings at all: email goes to the outbox directory
of the instance when no SMTP host is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ChannelSetting


def instance_defaults(channel_name: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults that come from the deployment rather than from any organisation."""
    if channel_name == "email":
        return {"outbox_dir": config.get("OUTBOX_DIR", "instance/outbox")}
    return {}


def stored_layers(
    session: Session, org_id: int, candidate_id: int | None, channel_name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(org values, candidate values) as stored, secrets included."""
    rows = session.scalars(
        select(ChannelSetting).where(
            ChannelSetting.org_id == org_id,
            ChannelSetting.channel == channel_name,
            (ChannelSetting.candidate_id == candidate_id) | ChannelSetting.candidate_id.is_(None),
        )
    ).all()
    org: dict[str, Any] = {}
    candidate: dict[str, Any] = {}
    for row in rows:
        if row.candidate_id is None:
            org = dict(row.values or {})
        elif candidate_id is not None and row.candidate_id == candidate_id:
            candidate = dict(row.values or {})
    return org, candidate


def effective_raw(
    session: Session,
    org_id: int,
    candidate_id: int | None,
    channel_name: str,
    config: Mapping[str, Any],
) -> dict[str, Any]:
    org, candidate = stored_layers(session, org_id, candidate_id, channel_name)
    return {**instance_defaults(channel_name, config), **org, **candidate}


def effective_settings(
    session: Session,
    org_id: int,
    candidate_id: int | None,
    channel_name: str,
    config: Mapping[str, Any],
) -> dict[str, Any]:
    """Validated settings the channel sends with (marshmallow ValidationError if invalid)."""
    from channels.registry import get_channel

    channel = get_channel(channel_name)
    return channel.load_settings(effective_raw(session, org_id, candidate_id, channel_name, config))


def settings_problems(exc: ValidationError) -> str:
    """What a channel's settings schema refused, in one line ("field: reason; ...")."""
    messages = exc.messages
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                         for k, v in messages.items())  # fmt: skip
    return " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
