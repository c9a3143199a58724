"""Which mailboxes there are: one row per place a channel's settings name for replies.

A mailbox belongs to the candidate whose own settings name it, else to the organisation
(its mail is then matched across the org). Kept in step with the settings: the settings
endpoints call :func:`sync_mailboxes` in the same transaction as the change, and the poller
syncs every organisation when it starts. A mailbox dropped from the settings loses its
bookmark; named again, it starts from then, never from its history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.channel_settings import effective_settings
from api.models import ChannelSetting, Mailbox
from channels.registry import channels


def inbound_channels() -> dict[str, Any]:
    """The channels replies can be read back from (capability ``inbound_replies``)."""
    return {
        name: channel
        for name, channel in channels().items()
        if "inbound_replies" in channel.capabilities and hasattr(channel, "fetch_replies")
    }


def source_of(channel, settings: Mapping[str, Any]) -> str | None:
    finder = getattr(channel, "inbound_source", None)
    return finder(settings) if finder is not None else None


def _source(session, channel, org_id, candidate_id, config) -> str | None:
    try:
        settings = effective_settings(session, org_id, candidate_id, channel.name, config)
    except ValidationError:  # refused settings name no mailbox until they are fixed
        return None
    return source_of(channel, settings)


def wanted(
    session: Session, org_id: int, config: Mapping[str, Any]
) -> dict[tuple[str, str], int | None]:
    """(channel, source) -> the candidate it belongs to (None: the organisation)."""
    found: dict[tuple[str, str], int | None] = {}
    for name, channel in inbound_channels().items():
        layers = session.scalars(
            select(ChannelSetting.candidate_id).where(
                ChannelSetting.org_id == org_id, ChannelSetting.channel == name
            )
        ).all()
        org_source = _source(session, channel, org_id, None, config)
        if org_source:
            found[(name, org_source)] = None
        for candidate_id in sorted(c for c in layers if c is not None):
            source = _source(session, channel, org_id, candidate_id, config)
            if not source or source == org_source:
                continue
            key = (name, source)
            # two candidates naming one mailbox share it: it is read for the org
            found[key] = None if key in found else candidate_id
    return found


def sync_mailboxes(
    session: Session, org_id: int, config: Mapping[str, Any], now: datetime
) -> list[Mailbox]:
    """Make the org's mailbox rows match its settings (the caller commits)."""
    want = wanted(session, org_id, config)
    rows = session.scalars(select(Mailbox).where(Mailbox.org_id == org_id)).all()
    kept: list[Mailbox] = []
    gone: list[int] = []
    for row in rows:
        key = (row.channel, row.source)
        if key not in want:
            gone.append(row.id)
            continue
        row.candidate_id = want.pop(key)
        kept.append(row)
    if gone:
        session.execute(delete(Mailbox).where(Mailbox.id.in_(gone)))
    for (channel, source), candidate_id in sorted(want.items(), key=lambda kv: kv[0]):
        row = Mailbox(
            org_id=org_id,
            candidate_id=candidate_id,
            channel=channel,
            source=source,
            cursor=None,
            status="new",
            failures=0,
            heard=0,
            created_at=now,
            next_poll_at=now,
        )
        session.add(row)
        kept.append(row)
    session.flush()
    return kept


def sync_all(session: Session, config: Mapping[str, Any], now: datetime) -> int:
    """Sync every organisation that has settings for an inbound channel; how many."""
    names = list(inbound_channels())
    if not names:
        return 0
    orgs = session.scalars(
        select(ChannelSetting.org_id).where(ChannelSetting.channel.in_(names)).distinct()
    ).all()
    with_rows = session.scalars(select(Mailbox.org_id).distinct()).all()
    for org_id in sorted(set(orgs) | set(with_rows)):
        sync_mailboxes(session, org_id, config, now)
    return len(set(orgs) | set(with_rows))
