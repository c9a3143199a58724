"""Which channel a planned touch goes by: one that can actually send.

A channel is usable for a candidate when its settings (deployment defaults, then the org's,
then the candidate's) pass its own settings schema: email always does in the embedded
default (it writes to the outbox), SMS and calls need a Twilio account, a plugin channel
whatever its schema requires. The planner picks among usable channels only, so a touch
never fails at send time for a channel nobody configured.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.channel_settings import effective_raw, instance_defaults, settings_problems
from api.models import ChannelSetting
from api.policy import ContactInfo

#: The written channels a plan may choose; calls are their own step (R11).
WRITTEN_STEPS = ("thank_you", "follow_up", "post_rejection", "next_round_reply", "custom")


@dataclass(frozen=True)
class Usable:
    """The candidate's channels: name -> address kind of every installed one, and
    name -> why not, for those that cannot send."""

    kinds: Mapping[str, str]
    why_not: Mapping[str, str]

    def can_send(self, name: str) -> bool:
        return name == "manual" or (name in self.kinds and name not in self.why_not)

    def settings_hint(self, name: str) -> str:
        reason = self.why_not.get(name, "it is not installed (GET /v1/channels)")
        return (
            f"The {name} channel cannot send for this candidate: {reason}. Configure it with "
            f"PUT /v1/channels/{name}/settings (the org) or "
            f"PUT /v1/users/{{id}}/channels/{name}/settings (one candidate)."
        )


def usable_channels(
    session: Session, org_id: int, candidate_id: int, config: Mapping[str, Any]
) -> Usable:
    return _usable(lambda name: effective_raw(session, org_id, candidate_id, name, config))


def usable_channels_many(
    session: Session, keys: Iterable[tuple[int, int]], config: Mapping[str, Any]
) -> dict[tuple[int, int], Usable]:
    """:func:`usable_channels` of each (org, candidate), from one query for all of them."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = session.scalars(
        select(ChannelSetting).where(
            ChannelSetting.org_id.in_(sorted({o for o, _ in keys})),
            ChannelSetting.candidate_id.in_(sorted({c for _, c in keys}))
            | ChannelSetting.candidate_id.is_(None),
        )
    ).all()
    stored: dict[tuple[int, int | None, str], dict] = {
        (r.org_id, r.candidate_id, r.channel): dict(r.values or {}) for r in rows
    }

    def raw(org_id: int, candidate_id: int, name: str) -> dict[str, Any]:
        org = stored.get((org_id, None, name), {})
        return {
            **instance_defaults(name, config),
            **org,
            **stored.get((org_id, candidate_id, name), {}),
        }

    seen: dict[tuple[str, str], str | None] = {}  # most candidates share the org's settings
    return {key: _usable(lambda name, key=key: raw(*key, name), seen) for key in keys}


def _usable(
    raw: Callable[[str], dict[str, Any]], seen: dict[tuple[str, str], str | None] | None = None
) -> Usable:
    """Each installed channel's address kind, and why those whose settings (``raw``
    gives them by channel name) do not load cannot send. ``seen``: the verdicts on
    settings already loaded, by channel and their JSON, shared by one caller's candidates."""
    from channels.registry import channels

    kinds, why_not = {}, {}
    for name, channel in sorted(channels().items()):
        settings = raw(name)
        try:
            key = (name, json.dumps(settings, sort_keys=True))
        except (TypeError, ValueError):
            key = None
        if seen is None or key is None or key not in seen:
            problem = None
            try:
                channel.load_settings(settings)
            except ValidationError as exc:
                problem = "its settings are incomplete (" + settings_problems(exc) + ")"
            if seen is not None and key is not None:
                seen[key] = problem
        else:
            problem = seen[key]
        if problem is not None:
            why_not[name] = problem
        kinds[name] = channel.address_kind
    return Usable(kinds, why_not)


def reaches(contact: ContactInfo, kind: str, name: str) -> bool:
    if kind == "email":
        return bool(contact.email) and not contact.email_undeliverable
    return bool(contact.phone) and not (name == "sms" and contact.sms_opted_out)


def pick(step: str, contact: ContactInfo, usable: Usable) -> tuple[str | None, str]:
    """(channel, why) for a written step: R14 prefers email for a thank-you; later notes go
    by the contact's preferred channel (built-in or plugin) when it can reach them, else
    email. ``None`` when nothing can, with the reason (see :func:`blocked`)."""
    preferred = contact.preferred_channel
    order = ["email", preferred] if step == "thank_you" else [preferred, "email"]
    if step == "thank_you" or preferred is None:
        order.append("sms")  # R14: SMS only when email cannot reach them
    names = [n for n in dict.fromkeys(order) if n and n in usable.kinds and n != "call"]
    reachable = [n for n in names if reaches(contact, usable.kinds[n], n)]
    for name in reachable:
        if usable.can_send(name):
            return name, f"by {name}"
    if not reachable:
        return None, "No email or usable phone number."
    return None, usable.settings_hint(reachable[0])


def blocked(step: str, contact: ContactInfo, usable: Usable) -> str | None:
    """The channel :func:`pick` would take if its settings were complete (the planner
    proposes the touch on it as a draft that says why it cannot go yet), or None."""
    if pick(step, contact, usable)[0] is not None:
        return None
    preferred = contact.preferred_channel
    order = ["email", preferred, "sms"] if step == "thank_you" else [preferred, "email", "sms"]
    for name in dict.fromkeys(n for n in order if n and n in usable.kinds and n != "call"):
        if reaches(contact, usable.kinds[name], name):
            return name
    return None
