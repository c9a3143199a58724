"""The document's tags: the README's groups of the API, in the README's order.

A generated client files its functions by tag (openapi-python-client: one module per tag;
Swagger UI: one section), so the tags are the portal developer's table of contents: they
follow the README's API tour (Accounts, Records, Follow-ups, Channels, Calendar, the feed,
Replies, Reports, Webhooks, Privacy), not the code's blueprints, which are an implementation detail.
Each blueprint belongs to exactly one group; a blueprint no group names stops the document
from being built, so a new resource cannot reach the portal's client unfiled.

The `twilio-callbacks` group is internal: Twilio calls it, never a portal, so its operations
are kept out of openapi/openapi.json (api.openapi_documents).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tag:
    name: str
    description: str
    blueprints: tuple[str, ...]
    #: Called by a provider, not by a portal: kept out of the portal's document.
    internal: bool = False


TAGS: tuple[Tag, ...] = (
    Tag(
        "accounts",
        "Who the caller is, their API tokens (a secret is shown once), the organisation's "
        "users and advisor-candidate assignments. An admin sees the organisation, an advisor "
        "their assigned candidates, a candidate their own records; anything else answers 404, "
        "exactly as if it did not exist.",
        ("me", "tokens", "users", "assignments"),
    ),
    Tag(
        "records",
        "The candidate's contacts (interviewers, recruiters, HR), applications and "
        "interviews; an interview carries its panel and the candidate's notes on each "
        "interviewer.",
        ("contacts", "applications", "interviews"),
    ),
    Tag(
        "follow-ups",
        "Touches (every contact attempt, scheduled or logged) and their events, the planner "
        "that proposes a thank-you, a follow-up and a call per interviewer, the approval of "
        "its drafts, the responses that stop or move them, each contact's touch budget and the "
        "layered policy (organisation, candidate, contact) whose numbers the rules use.",
        ("plans", "touches", "approvals", "responses", "policy"),
    ),
    Tag(
        "channels",
        "Channels a touch can go out on (email, SMS, call, plugins), their settings per "
        "organisation and per candidate (secrets are write-only), and the message templates "
        "per step and channel, checked when saved and previewed for a real contact.",
        ("channels", "templates"),
    ),
    Tag(
        "calendar",
        "What will happen and when: every pending and recent touch the caller may see, in "
        "time order, with the reason for its time; and the caller's secret iCalendar feed URL "
        "(create, rotate, revoke).",
        ("calendar",),
    ),
    Tag(
        "calendar-feed",
        "The caller's calendar as iCalendar, for calendar apps to subscribe to. No token: "
        "the secret in the URL (POST /v1/calendar/feed) is the credential.",
        ("feed",),
    ),
    Tag(
        "replies",
        "Replies heard by email: posted raw to /v1/inbound/email (a mail provider's inbound "
        "route, a forwarding rule, a portal) or read from a mailbox; what each became, the "
        "unmatched ones to attach by hand, and whether each mailbox can be read.",
        ("inbound", "mailboxes"),
    ),
    Tag(
        "reports",
        "For advisors and admins: how a cohort follows the rules over a time range, per "
        "candidate and in total (thank-yous on time, follow-ups after the right wait, "
        "touches refused by rule, answers, what needs attention now), as JSON, CSV or a "
        "weekly chart. An admin's totals keep erased candidates' counts, anonymously.",
        ("reports",),
    ),
    Tag(
        "webhooks",
        "Signed events pushed to the portal (Standard Webhooks): the organisation's endpoints, "
        "their event types and secrets (shown once, rotated with an overlap), each endpoint's "
        "delivery log and manual redelivery. Admins of the organisation only.",
        ("webhook_endpoints",),
    ),
    Tag(
        "privacy",
        "A candidate's data: exported as one ZIP and erased (by the candidate or an admin), "
        "the organisation's retention of message texts, and the audit trail of staff actions "
        "that matter to a candidate (admins).",
        ("privacy", "organization", "audit"),
    ),
    Tag(
        "health",
        "Process and database health for load balancers and orchestrators; no token needed.",
        ("health",),
    ),
    Tag(
        "twilio-callbacks",
        "Callbacks from Twilio (delivery and call status, the call bridge, inbound SMS). Not "
        "for portals: each request must carry Twilio's signature (X-Twilio-Signature). Kept "
        "out of openapi/openapi.json, documented in openapi/provider-callbacks.json.",
        ("webhooks",),
        internal=True,
    ),
)

_BY_BLUEPRINT = {blueprint: tag for tag in TAGS for blueprint in tag.blueprints}
INTERNAL_TAGS = frozenset(tag.name for tag in TAGS if tag.internal)


def tag_of(blueprint: str) -> Tag:
    """The group a blueprint's operations are filed under."""
    try:
        return _BY_BLUEPRINT[blueprint]
    except KeyError:
        raise ValueError(
            f"Blueprint {blueprint!r} belongs to no tag: add it to one group of "
            "api.openapi_tags.TAGS (the README's API groups)."
        ) from None


def declared(names: set[str]) -> list[dict[str, str]]:
    """The top-level `tags` of a document whose operations use `names`, in README order."""
    return [{"name": tag.name, "description": tag.description} for tag in TAGS if tag.name in names]
