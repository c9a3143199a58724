"""Message templates per step and channel: the organisation's, a candidate's, the built-ins.

The most specific template is used for a touch: the candidate's, else the
organisation's, else the built-in default (GET /v1/templates/defaults). A template is
saved only when it passes the sandbox's validation (known variables, no unsafe
attributes, bounded size), so a bad template is refused here rather than at send time.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from api import templating
from api.auth import (
    ALL_ROLES,
    Principal,
    current,
    not_found,
    resolve_candidate,
    roles,
    visible_candidates,
)
from api.compose import (
    find_template,
    plugin_default_template,
    template_channel,
)
from api.db import get_session
from api.models import (
    Template,
    User,
)
from api.problems import Problem, describe_errors
from api.resources.common import PAGINATION, Blueprint, SelectPage, field_error, filter_equal
from api.resources.listing import Sort, filter_range
from api.schemas.channels import (
    DefaultTemplateSchema,
    PreviewSchema,
    StepPreviewSchema,
    TemplateCreateSchema,
    TemplatePreviewSchema,
    TemplateQuerySchema,
    TemplateSchema,
    TemplateUpdateSchema,
)
from api.template_previews import preview_target, render_preview

TEMPLATE_SORT = Sort(
    Template.id,
    step=Template.step,
    channel=Template.channel,
    created_at=Template.created_at,
    updated_at=Template.updated_at,
)

blp = Blueprint(
    "templates",
    __name__,
    url_prefix="/v1/templates",
    description="Message templates per step and channel, for the organisation or one "
    "candidate, checked when saved; previews rendered for a real contact.",
)


# -- access -----------------------------------------------------------------------------------


def visible_templates(principal: Principal) -> Select:
    """The organisation's templates, and those of the candidates the caller may see."""
    return select(Template).where(
        Template.org_id == principal.org_id,
        or_(
            Template.candidate_id.is_(None),
            Template.candidate_id.in_(visible_candidates(principal)),
        ),
    )


def get_visible_template(template_id: int) -> Template:
    found = (
        get_session()
        .scalars(visible_templates(current()).where(Template.id == template_id))
        .first()
    )
    if found is None:
        raise not_found(Template)
    return found


def _may_write(template: Template) -> None:
    if template.candidate_id is None and current().role != "admin":
        raise Problem(403, "Organisation-wide templates are managed by admins.")


def _owner_of_new(data: dict[str, Any]) -> User | None:
    """The candidate a new template belongs to; None: the whole organisation."""
    principal = current()
    if data.get("candidate_id") is not None:
        return resolve_candidate(data["candidate_id"])
    if principal.role == "candidate" and "candidate_id" not in data:
        return resolve_candidate(None)
    if principal.role != "admin":
        raise Problem(
            403,
            "Only an admin may write organisation-wide templates; give candidate_id.",
        )
    return None


# -- checks -----------------------------------------------------------------------------------


def _refuse_invalid(subject: str | None, body: str | None, channel: str) -> None:
    issues = templating.validate_template(subject, body, channel=template_channel(channel))
    if issues:
        errors: dict[str, list[str]] = {}
        for issue in issues:
            errors.setdefault(issue.field, []).append(issue.reason)
        raise Problem(
            422,
            describe_errors(errors),
            type_="urn:touchbase:problem:template",
            title="Template refused",
            errors=errors,
        )


def _refuse_duplicate(
    session: Session,
    org_id: int,
    candidate_id: int | None,
    step: str,
    channel: str,
    except_id: int | None = None,
) -> None:
    query = select(Template.id).where(
        Template.org_id == org_id,
        Template.step == step,
        Template.channel == channel,
        Template.candidate_id.is_(None)
        if candidate_id is None
        else Template.candidate_id == candidate_id,
    )
    if except_id is not None:
        query = query.where(Template.id != except_id)
    existing = session.scalar(query)
    if existing is not None:
        whose = "the organisation" if candidate_id is None else "this candidate"
        reason = (
            f"{whose.capitalize()} already has a {step} template for {channel} "
            f"(template {existing}); change that one instead."
        )
        raise Problem(
            409,
            reason,
            errors={"step": [reason], "channel": [reason]},
            existing_id=existing,
        )


def _normal_subject(subject: str | None, channel: str) -> str | None:
    if template_channel(channel) != "email":
        return subject or None
    return subject


# -- routes -----------------------------------------------------------------------------------


@blp.route("")
class Templates(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(TemplateQuerySchema, location="query")
    @blp.response(200, TemplateSchema(many=True))
    @blp.paginate(SelectPage, sort=TEMPLATE_SORT, **PAGINATION)
    def get(self, args):
        """List templates: the organisation's and those of the candidates you see

        The saved templates the caller may see: the organisation's and those of the
        candidates they act for, per step and channel.
        """
        query = filter_equal(
            visible_templates(current()), Template, args, "candidate_id", "step", "channel"
        )
        if args.get("scope") == "org":
            query = query.where(Template.candidate_id.is_(None))
        elif args.get("scope") == "candidate":
            query = query.where(Template.candidate_id.is_not(None))
        query = filter_range(query, Template.created_at, args, "created_after", "created_before")
        return query.order_by(Template.id)

    @roles(*ALL_ROLES)
    @blp.arguments(TemplateCreateSchema)
    @blp.response(201, TemplateSchema)
    @blp.alt_response(
        403, response="FORBIDDEN", description="Organisation-wide templates are admins'"
    )
    @blp.alt_response(409, response="CONFLICT", description="One already exists for this step")
    def post(self, data):
        """Save a template (refused with 422 if it could not render safely)

        Saves a template for a step and channel, for the organisation (admins) or
        one candidate. It is rendered in the sandbox when saved: a template that
        could not render safely or names a Jinja special is a 422 naming `body` or
        `subject`.
        """
        owner = _owner_of_new(data)
        session = get_session()
        subject = _normal_subject(data.get("subject"), data["channel"])
        _refuse_invalid(subject, data["body"], data["channel"])
        org_id = current().org_id
        _refuse_duplicate(
            session, org_id, owner.id if owner else None, data["step"], data["channel"]
        )
        template = Template(
            org_id=org_id,
            candidate_id=owner.id if owner else None,
            step=data["step"],
            channel=data["channel"],
            subject=subject,
            body=data["body"],
        )
        session.add(template)
        session.commit()
        return template


@blp.route("/defaults")
class DefaultTemplates(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, DefaultTemplateSchema(many=True))
    @blp.doc(operationId="list_default_templates")
    def get(self):
        """The built-in templates for every step and channel, and those plugin channels
        ship (read-only)

        The built-in template of every step and channel, the one used when neither the
        organisation nor the candidate saved their own, and the templates plugin channels
        ship for their own steps (looked up after the organisation's and candidate's).
        """
        from channels.registry import channels

        pairs = [
            (step, channel, templating.default_template(step, channel))
            for step, names in templating.DEFAULT_CHANNELS.items()
            for channel in names
        ]
        for name in channels():
            for step in templating.STEPS:
                shipped = plugin_default_template(name, step)
                if shipped is not None:
                    pairs.append((step, name, shipped))
        return [
            {"step": step, "channel": channel, "subject": subject or None, "body": body}
            for step, channel, (subject, body) in pairs
        ]


@blp.route("/preview")
class StepPreview(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(StepPreviewSchema)
    @blp.response(200, PreviewSchema)
    @blp.doc(operationId="preview_step")
    def post(self, data):
        """Preview what a step would send: the template in force, rendered and checked

        Renders what a step would send to a contact now, with the template in force
        (candidate, organisation or built-in) and the message check's findings,
        without saving or scheduling anything.
        """
        session = get_session()
        parties, round_, touch = preview_target(session, data)
        step = touch.step if touch else data["step"]
        channel = touch.channel if touch else data["channel"]
        if touch is None:
            from channels.registry import channels

            if channel not in channels():
                raise field_error("channel", "Unknown channel; see GET /v1/channels.")
        candidate = parties.candidate
        subject, body, source, template_id = find_template(
            session, candidate.org_id, candidate.id, step, channel
        )
        answer = render_preview(session, parties, round_, step, channel, subject, body)
        answer.update(template_id=template_id, source=source)
        return answer


@blp.route("/<int:template_id>")
class TemplateById(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, TemplateSchema)
    def get(self, template_id):
        """Show a template

        One saved template with its step, channel and scope.
        """
        return get_visible_template(template_id)

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.arguments(TemplateUpdateSchema)
    @blp.response(200, TemplateSchema)
    @blp.alt_response(
        403, response="FORBIDDEN", description="Organisation-wide templates are admins'"
    )
    @blp.alt_response(409, response="CONFLICT", description="One already exists for this step")
    def patch(self, data, template_id):
        """Change a template (checked again before it is saved)

        Changes the fields given; the result is rendered in the sandbox again before
        it is saved, under the rules of POST.
        """
        session = get_session()
        template = get_visible_template(template_id)
        _may_write(template)
        blp.check_etag(template, TemplateSchema)
        step = data.get("step", template.step)
        channel = data.get("channel", template.channel)
        subject = _normal_subject(data.get("subject", template.subject), channel)
        body = data.get("body", template.body)
        _refuse_invalid(subject, body, channel)
        if (step, channel) != (template.step, template.channel):
            _refuse_duplicate(
                session, template.org_id, template.candidate_id, step, channel, template.id
            )
        template.step, template.channel = step, channel
        template.subject, template.body = subject, body
        session.commit()
        return template

    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(204)
    @blp.alt_response(
        403, response="FORBIDDEN", description="Organisation-wide templates are admins'"
    )
    def delete(self, template_id):
        """Delete a template: the next less specific one applies again

        Removes a saved template; the next less specific one (the organisation's,
        then the built-in) applies to touches composed afterwards.
        """
        session = get_session()
        template = get_visible_template(template_id)
        _may_write(template)
        blp.check_etag(template, TemplateSchema)
        session.delete(template)
        session.commit()


@blp.route("/<int:template_id>/preview")
class TemplatePreview(MethodView):
    @roles(*ALL_ROLES)
    @blp.arguments(TemplatePreviewSchema)
    @blp.response(200, PreviewSchema)
    def post(self, data, template_id):
        """Render this template for a contact or a touch, with the message check's findings

        Renders this template for one of the caller's contacts or touches, with the
        message check's findings; nothing is saved.
        """
        session = get_session()
        template = get_visible_template(template_id)
        parties, round_, _touch = preview_target(session, data, template)
        answer = render_preview(
            session,
            parties,
            round_,
            template.step,
            template.channel,
            template.subject,
            template.body,
        )
        answer.update(
            template_id=template.id, source="org" if template.candidate_id is None else "candidate"
        )
        return answer
