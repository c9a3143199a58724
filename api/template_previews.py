"""Previews of a message for real parties: whom a preview renders for, and the rendered
message with the findings of the message check under the contact's own limits. Shared by
the template previews and the contact's budget (which needs the same default application).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import ledger, templating
from api.auth import get_referenced
from api.compose import (
    Parties,
    check_message,
    previous_subject,
    template_channel,
    template_context,
)
from api.models import Application, Contact, Interview, Interviewer, Template, Touch
from api.resources.common import field_error


def default_application(session: Session, contact: Contact) -> Application:
    """The application the contact was last seen in: an interview, else a touch."""
    app_id = session.scalar(
        select(Interview.application_id)
        .join(Interviewer, Interviewer.interview_id == Interview.id)
        .where(Interviewer.contact_id == contact.id)
        .order_by(Interview.starts_at.desc())
    ) or session.scalar(
        select(Touch.application_id).where(Touch.contact_id == contact.id).order_by(Touch.id.desc())
    )
    if app_id is None:
        raise field_error("application_id", "Required: this contact has no interview or touch yet.")
    return session.get(Application, app_id)


def preview_target(
    session: Session, data: dict[str, Any], template: Template | None = None
) -> tuple[Parties, int, Touch | None]:
    """The parties a preview renders for, the round, and the touch if one was given
    (of the template's candidate, for a candidate's template)."""

    def check_owner(candidate_id: int, field: str) -> None:
        if template is not None and template.candidate_id not in (None, candidate_id):
            raise field_error(field, "Belongs to another candidate than the template.")

    if "touch_id" in data:
        touch = get_referenced(Touch, data["touch_id"], "touch_id")
        check_owner(touch.candidate_id, "touch_id")
        contact = session.get(Contact, touch.contact_id)
        application = session.get(Application, touch.application_id)
        return Parties.load(session, contact, application, touch.interview_id), touch.round, touch
    contact = get_referenced(Contact, data["contact_id"], "contact_id")
    check_owner(contact.candidate_id, "contact_id")
    if "application_id" in data:
        application = get_referenced(Application, data["application_id"], "application_id")
        if application.candidate_id != contact.candidate_id:
            raise field_error("application_id", "Belongs to another candidate than the contact.")
    else:
        application = default_application(session, contact)
    interview_id = data.get("interview_id")
    if interview_id is not None:
        interview = session.get(Interview, interview_id)
        if interview is None or interview.application_id != application.id:
            raise field_error("interview_id", "Unknown interview for this application.")
    parties = Parties.load(session, contact, application, interview_id)
    return parties, ledger.current_round(session, application.id), None


def render_preview(
    session: Session,
    parties: Parties,
    round_: int,
    step: str,
    channel: str,
    subject: str | None,
    body: str,
) -> dict[str, Any]:
    """Render for real parties and run the message check with the contact's own limits."""
    contact = parties.contact
    previous, _ = previous_subject(session, contact.id, round_)
    context = template_context(parties, step, channel, previous)
    try:
        rendered = templating.render(subject, body, context)
    except templating.TemplateRenderError as exc:
        raise field_error(exc.field, f"The template could not be rendered: {exc.reason}") from exc
    out_subject = rendered.subject if template_channel(channel) == "email" else None
    settings, _ = ledger.effective_policy(session, contact.org_id, contact.candidate_id, contact.id)
    findings = check_message(
        session,
        parties,
        step,
        channel,
        out_subject,
        rendered.body,
        ledger.message_limits(settings),
    )
    return {
        "step": step,
        "channel": channel,
        "contact_id": contact.id,
        "application_id": parties.application.id,
        "interview_id": parties.interview.id if parties.interview else None,
        "subject": out_subject,
        "body": rendered.body,
        "findings": [f.as_dict() for f in findings],
        "blocking": any(f.severity == "block" for f in findings),
    }
