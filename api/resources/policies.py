"""Policy settings (org -> candidate -> contact) and where a contact's budget stands."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import select

from api import ledger, policy, policy_bounds, scheduling
from api.auth import ALL_ROLES, current, get_visible, roles, visible_candidate
from api.db import get_session
from api.models import (
    Application,
    Contact,
    Organization,
    PolicySetting,
    utcnow,
)
from api.privacy import audit
from api.problems import Problem
from api.resources.common import Blueprint, field_error
from api.schemas.touches import (
    BudgetQuerySchema,
    BudgetSchema,
    PolicyChangeSchema,
    PolicySchema,
    PolicyValuesSchema,
)
from api.template_previews import default_application

blp = Blueprint(
    "policy",
    __name__,
    url_prefix="/v1",
    description="The numbers behind the follow-up rules, layered org -> candidate -> contact, "
    "and each contact's touch budget.",
)


def _row(session, org_id: int, candidate_id: int | None, contact_id: int | None) -> PolicySetting:
    row = session.scalars(
        select(PolicySetting).where(
            PolicySetting.org_id == org_id,
            PolicySetting.candidate_id.is_(None)
            if candidate_id is None
            else PolicySetting.candidate_id == candidate_id,
            PolicySetting.contact_id.is_(None)
            if contact_id is None
            else PolicySetting.contact_id == contact_id,
        )
    ).first()
    if row is None:
        row = PolicySetting(
            org_id=org_id, candidate_id=candidate_id, contact_id=contact_id, values={}
        )
        session.add(row)
    return row


def _answer(
    scope: str, overrides: dict, layers: tuple[dict, ...], own: dict | None = None
) -> dict[str, Any]:
    try:
        settings, sources = policy.merge(*layers, own)
    except policy.PolicyError as exc:
        raise field_error(exc.field, str(exc).split(": ", 1)[-1]) from exc
    return {
        "scope": scope,
        "overrides": overrides,
        "own": own or {},
        "effective": settings.to_mapping(),
        "sources": sources,
    }


def _validated(values: dict) -> dict:
    try:
        overrides = policy.validate_overrides(values)
    except policy.PolicyError as exc:
        raise field_error(exc.field, str(exc).split(": ", 1)[-1]) from exc
    if "business_days" in overrides:
        overrides["business_days"] = list(overrides["business_days"])
    return overrides


def _lock_org(session, org_id: int) -> None:
    """Serialise changes to one organisation's policy: each change reads every layer."""
    session.scalars(select(Organization).where(Organization.id == org_id).with_for_update()).one()


def _store(scope: str, org_id, candidate_id, contact_id, values: dict) -> dict[str, Any]:
    """Replace one staff layer's overrides (null or absent: not set here) after validating
    the merged result, so an impossible combination is refused with the field named."""
    session = get_session()
    overrides = _validated(values)
    _lock_org(session, org_id)
    org, cand, cont, own = ledger.all_layers(session, org_id, candidate_id, contact_id)
    layers = {
        "org": (overrides, cand if candidate_id else {}, cont if contact_id else {}),
        "candidate": (org, overrides, cont if contact_id else {}),
        "contact": (org, cand, overrides),
    }[scope]
    answer = _answer(scope, overrides, layers, own if contact_id else None)
    _check_dependents(session, scope, org_id, candidate_id, overrides)
    row = _row(session, org_id, candidate_id, contact_id)
    row.values = overrides
    answer["affected_touches"] = _replan(session, org_id, candidate_id, contact_id)
    audit.by_caller(
        session,
        "policy.changed",
        candidate_id,
        level=scope,
        contact_id=contact_id,
        fields=sorted(overrides),
    )
    session.commit()
    return answer


def _store_own(contact: Contact, values: dict) -> dict[str, Any]:
    """Replace the candidate's own rules for a contact: each may only be stricter than the
    value the staff levels put in force (403 naming the field, the level and the value);
    the combination must still be a valid policy (422)."""
    session = get_session()
    own = _validated(values)
    _lock_org(session, contact.org_id)
    org, cand, cont, _ = ledger.all_layers(
        session, contact.org_id, contact.candidate_id, contact.id
    )
    above, sources = policy.merge(org, cand, cont)
    looser = policy_bounds.loosenings(above.to_mapping(), sources, own)
    if looser:
        raise Problem(
            403,
            "A candidate may only make their own rules stricter than the levels above: "
            + "; ".join(f"{x.field}: {x.reason}" for x in looser),
            type_="urn:touchbase:problem:policy-looser",
            title="Looser than the policy in force",
            errors={x.field: [x.reason] for x in looser},
            limits={x.field: {"level": x.level, "in_force": x.in_force} for x in looser},
        )
    # Stricter values combine like plain overrides; merging them so names a bad combination.
    _answer("contact", cont, (org, cand, {**cont, **own}))
    answer = _answer("contact", cont, (org, cand, cont), own)
    row = _row(session, contact.org_id, contact.candidate_id, contact.id)
    row.own_values = own
    answer["affected_touches"] = _replan(session, contact.org_id, contact.candidate_id, contact.id)
    session.commit()
    return answer


def _replan(session, org_id: int, candidate_id: int | None, contact_id: int | None) -> list:
    """A policy change re-plans, at once, every pending touch it governs (api.scheduling)."""
    session.flush()
    actor = ledger.actor_for_user(current().user_id)
    return scheduling.replan_where(
        session, utcnow(), actor, org_id=org_id, candidate_id=candidate_id, contact_id=contact_id
    )


def _check_dependents(
    session, scope: str, org_id: int, candidate_id: int | None, overrides: dict
) -> None:
    """The layers below the one being set must still merge into a valid policy: an org
    send window that ends before a candidate's own start would break every send of theirs."""
    if scope == "contact":
        return
    rows = session.scalars(select(PolicySetting).where(PolicySetting.org_id == org_id)).all()
    org = overrides if scope == "org" else {}
    cands: dict[int, dict] = {}
    for row in rows:
        if row.candidate_id is None and row.contact_id is None and scope != "org":
            org = row.values or {}
        elif row.contact_id is None and row.candidate_id is not None:
            cands[row.candidate_id] = row.values or {}
    if scope == "candidate":
        cands[candidate_id] = overrides
    for row in rows:
        if row.candidate_id is None or (scope == "candidate" and row.candidate_id != candidate_id):
            continue
        below = (row.values or {}) if row.contact_id is not None else {}
        try:
            policy.merge(org, cands.get(row.candidate_id, {}), below)
        except policy.PolicyError as exc:
            who = f"contact {row.contact_id}" if row.contact_id else f"candidate {row.candidate_id}"
            reason = str(exc).split(": ", 1)[-1]
            raise field_error(
                exc.field, f"{reason} (together with the overrides of {who})"
            ) from exc


@blp.route("/policy")
class OrgPolicy(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, PolicySchema)
    @blp.doc(operationId="get_org_policy")
    def get(self):
        """The organisation's policy

        Every number the rules use (budget, gaps, windows, daily cap, approval...)
        as the organisation sets it, beside the built-in defaults and the settings'
        allowed ranges.
        """
        return _org_answer(current().org_id)

    @roles("admin")
    @blp.etag
    @blp.arguments(PolicyValuesSchema)
    @blp.response(200, PolicyChangeSchema)
    @blp.doc(operationId="set_org_policy")
    def put(self, data):
        """Set the organisation's defaults (absent or null: the built-in default)

        The body replaces this level's overrides: `{}` clears them all. A body is
        required; a PUT without one is a 422 and changes nothing.
        """
        org_id = current().org_id
        blp.check_etag(_org_answer(org_id), PolicySchema)
        changed = _store("org", org_id, None, None, data)
        blp.set_etag(_org_answer(org_id), PolicySchema)
        return changed


@blp.route("/users/<int:user_id>/policy")
class CandidatePolicy(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.alt_response(409, response="CONFLICT", description="The user is not a candidate")
    @blp.response(200, PolicySchema)
    @blp.doc(operationId="get_candidate_policy")
    def get(self, user_id):
        """A candidate's policy: their overrides over the organisation's

        The values in force for a candidate's touches: the organisation's,
        overridden by what staff set for this candidate, and the overrides set at
        this level.
        """
        return _candidate_answer(visible_candidate(user_id))

    @roles("admin", "advisor")
    @blp.etag
    @blp.alt_response(409, response="CONFLICT", description="The user is not a candidate")
    @blp.arguments(PolicyValuesSchema)
    @blp.response(200, PolicyChangeSchema)
    @blp.doc(operationId="set_candidate_policy")
    def put(self, data, user_id):
        """Set a candidate's overrides

        The body replaces this level's overrides (absent or null: inherited); `{}` clears
        them all. A PUT without a body is a 422 and changes nothing.
        """
        user = visible_candidate(user_id)
        blp.check_etag(_candidate_answer(user), PolicySchema)
        changed = _store("candidate", user.org_id, user.id, None, data)
        blp.set_etag(_candidate_answer(user), PolicySchema)
        return changed


@blp.route("/contacts/<int:contact_id>/policy")
class ContactPolicy(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, PolicySchema)
    def get(self, contact_id):
        """A contact's policy: the values in force for touches to this person

        The values in force for touches to this contact, the level each comes from
        (organisation, candidate, contact staff or the candidate's own), and the
        overrides set at this level.
        """
        return _contact_answer(get_visible(Contact, contact_id))

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.arguments(PolicyValuesSchema)
    @blp.response(200, PolicyChangeSchema)
    @blp.alt_response(403, response="FORBIDDEN", description="A candidate's value is looser")
    def put(self, data, contact_id):
        """Set overrides for one contact

        Staff (admins, advisors) set the contact's `overrides`, looser or stricter within
        the settings' ranges. A candidate sets their `own` rules, which may only be stricter
        than what the levels above put in force; they are combined as the stricter of the
        two at every check, so a later staff change never turns them into a loosening.

        The body replaces this level's values (absent or null: inherited); `{}` clears
        them all. A PUT without a body is a 422 and changes nothing.
        """
        contact = get_visible(Contact, contact_id)
        blp.check_etag(_contact_answer(contact), PolicySchema)
        if current().role == "candidate":
            changed = _store_own(contact, data)
        else:
            changed = _store("contact", contact.org_id, contact.candidate_id, contact.id, data)
        blp.set_etag(_contact_answer(contact), PolicySchema)
        return changed


# What each level's GET answers, and what its ETag is computed from.


def _org_answer(org_id: int) -> dict:
    org, _, _ = ledger.policy_layers(get_session(), org_id, None, None)
    return _answer("org", org, (org, {}, {}))


def _candidate_answer(user) -> dict:
    layers = ledger.policy_layers(get_session(), user.org_id, user.id, None)
    return _answer("candidate", layers[1], (layers[0], layers[1], {}))


def _contact_answer(contact: Contact) -> dict:
    org, cand, cont, own = ledger.all_layers(
        get_session(), contact.org_id, contact.candidate_id, contact.id
    )
    return _answer("contact", cont, (org, cand, cont), own)


@blp.route("/contacts/<int:contact_id>/budget")
class ContactBudget(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.arguments(BudgetQuerySchema, location="query")
    @blp.response(200, BudgetSchema)
    def get(self, args, contact_id):
        """Touches used and left this round, the next allowed time per channel, any stop

        How many touches this person may still receive this round (R6), how many
        were used, the earliest time the next one is allowed on each channel, and
        what stops or blocks each channel (a reply, an opt-out, an undeliverable
        address), with the rule and a sentence.
        """
        session = get_session()
        contact = get_visible(Contact, contact_id)
        if "application_id" in args:
            application = session.get(Application, args["application_id"])
            if application is None or application.candidate_id != contact.candidate_id:
                raise field_error("application_id", "Unknown application for this contact.")
        else:
            application = default_application(session, contact)
        round_ = args.get("round") or ledger.current_round(session, application.id)
        now = utcnow()
        where = ledger.situation(session, contact, application, round_, since=now)
        summary = where.budget(round_, now, application.id)
        summary.update(contact_id=contact.id, application_id=application.id)
        return summary
