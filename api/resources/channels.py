"""Channels (built-in and plugins) and their settings, per organisation and per candidate.

Settings are layered: the channel's own defaults, then the deployment (e.g. the email
outbox directory, not settable through the API), then the organisation, then the
candidate; the most specific value wins field by field. Secrets (the fields a channel
marks secret or load-only) are write-only: an answer only says whether each is set
(`"auth_token_set": true`), a PUT that omits one keeps the stored value, a null removes it.
Nothing here logs setting values.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from api.auth import ALL_ROLES, current, roles, visible_candidate
from api.channel_settings import instance_defaults, stored_layers
from api.db import get_session
from api.inbound.mailboxes import sync_mailboxes
from api.models import ChannelSetting, Organization, utcnow
from api.privacy import audit
from api.problems import Problem, describe_errors
from api.resources.common import Blueprint
from api.schemas.channels import (
    SETTINGS_INPUT_DESCRIPTION,
    SETTINGS_INPUT_EXAMPLE,
    ChannelSchema,
    ChannelSettingsInputSchema,
    ChannelSettingsSchema,
)
from api.schemas.fields import loose_booleans

blp = Blueprint(
    "channels",
    __name__,
    url_prefix="/v1",
    description="Channels a touch can go out on (email, SMS, call, plugins) and their "
    "settings per organisation and per candidate; secrets are write-only.",
)

SECRET_MASK = "***"


def get_channel_or_404(name: str):
    from channels.registry import UnknownChannelError, get_channel

    try:
        return get_channel(name)
    except UnknownChannelError:
        raise Problem(404, f"No channel {name!r}; see GET /v1/channels.") from None


def _fields(channel) -> dict[str, ma.fields.Field]:
    """The settings fields by the key they have in JSON."""
    schema = channel.settings_schema()
    return {f.data_key or name: f for name, f in schema.fields.items()}


def secret_keys(channel) -> set[str]:
    """Keys never shown: fields marked secret, and any other load-only field."""
    return {key for key, f in _fields(channel).items() if f.load_only or f.metadata.get("secret")}


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list | tuple):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False


def _defaults(channel) -> dict[str, Any]:
    out = {}
    for key, f in _fields(channel).items():
        default = f.load_default
        if default is not ma.missing and not callable(default) and _jsonable(default):
            out[key] = default
    return out


def _shown(values: dict[str, Any], secrets: set[str]) -> dict[str, Any]:
    """Values without secrets; each secret becomes `<name>_set`."""
    shown = {k: v for k, v in values.items() if k not in secrets}
    for key in sorted(secrets):
        shown[f"{key}_set"] = bool(values.get(key))
    return shown


def _masked(errors: Any, secret_values: list[str]) -> Any:
    """Error messages with any secret value blanked out (a schema may echo its input)."""
    if isinstance(errors, dict):
        return {k: _masked(v, secret_values) for k, v in errors.items()}
    if isinstance(errors, list):
        return [_masked(v, secret_values) for v in errors]
    if isinstance(errors, str):
        for value in secret_values:
            errors = errors.replace(value, SECRET_MASK)
    return errors


def _secret_values(channel, *layers: dict[str, Any]) -> list[str]:
    secrets = secret_keys(channel)
    return [
        str(layer[k]) for layer in layers for k in secrets if k in layer and str(layer[k] or "")
    ]


def settings_answer(
    channel,
    scope: str,
    candidate_id: int | None,
    layers: list[tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    """What GET answers: this level's values, the effective ones and where each comes from."""
    secrets = secret_keys(channel)
    effective: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in _defaults(channel).items():
        effective[key], sources[key] = value, "default"
    for source, values in layers:
        for key, value in values.items():
            effective[key], sources[key] = value, source
    raw = {k: v for k, v in effective.items() if sources[k] != "default"}
    problems: Any = {}
    try:
        channel.load_settings(raw)
    except ma.ValidationError as exc:
        problems = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        problems = _masked(problems, _secret_values(channel, raw))
    return {
        "channel": channel.name,
        "scope": scope,
        "candidate_id": candidate_id,
        "values": _shown(layers[-1][1], secrets),
        "effective": _shown(effective, secrets),
        "sources": sources,
        "complete": not problems,
        "problems": problems,
    }


def _layers(org_id: int, candidate_id: int | None, name: str) -> list[tuple[str, dict]]:
    org, candidate = stored_layers(get_session(), org_id, candidate_id, name)
    layers = [("deployment", instance_defaults(name, current_app.config)), ("org", org)]
    if candidate_id is not None:
        layers.append(("candidate", candidate))
    return layers


def _row(session, org_id: int, candidate_id: int | None, name: str) -> ChannelSetting | None:
    return session.scalars(
        select(ChannelSetting).where(
            ChannelSetting.org_id == org_id,
            ChannelSetting.channel == name,
            ChannelSetting.candidate_id.is_(None)
            if candidate_id is None
            else ChannelSetting.candidate_id == candidate_id,
        )
    ).first()


def new_layer(
    channel, body: dict[str, Any], stored: dict[str, Any], below: dict[str, Any], deployment
) -> dict[str, Any]:
    """The values a PUT stores, or 422 naming each bad field of `body`.

    Each given field is checked by the channel's schema against the settings in force
    (`below` merged with the new level), so a cross-field rule (SMS needs a sender)
    refuses the field that breaks it; a field still missing for sending is not an
    error here (another level may set it) but shows in `problems`.
    """
    secrets = secret_keys(channel)
    # `<secret>_set` is what a GET shows: accept it back (a PUT of a GET's values) and ignore it.
    body = {k: v for k, v in body.items() if not (k.endswith("_set") and k[:-4] in secrets)}
    layer = {k: v for k, v in body.items() if v is not None and k not in secrets}
    for key in secrets:
        if key in body:
            if body[key] is not None:
                layer[key] = body[key]
        elif key in stored:
            layer[key] = stored[key]
    errors: dict[str, Any] = {}
    for key in body:
        if key in deployment:
            errors[key] = ["Set by the deployment, not through the API."]
    schema = channel.settings_schema()
    errors.update((k, v) for k, v in loose_booleans(schema, body).items() if k not in errors)
    found = schema.validate({**below, **layer}, partial=True)
    if isinstance(found, dict):
        for key, reasons in found.items():
            if key in body and key not in errors:
                errors[key] = reasons
    if errors:
        errors = _masked(errors, _secret_values(channel, body))
        raise Problem(422, describe_errors(errors), errors=errors)
    return layer


def store_layer(org_id: int, candidate_id: int | None, channel, body: dict[str, Any]) -> dict:
    session = get_session()
    # Serialise writers of one organisation's settings: an org-level row has a NULL
    # candidate_id, which the unique constraint does not cover.
    session.scalars(
        select(Organization.id).where(Organization.id == org_id).with_for_update()
    ).first()
    layers = _layers(org_id, candidate_id, channel.name)
    row = _row(session, org_id, candidate_id, channel.name)
    stored = dict(row.values or {}) if row is not None else {}
    below: dict[str, Any] = {}
    for _source, values in layers[:-1]:
        below.update(values)
    layer = new_layer(channel, body, stored, below, layers[0][1])
    if row is None:
        row = ChannelSetting(
            org_id=org_id, candidate_id=candidate_id, channel=channel.name, values={}
        )
        session.add(row)
    row.values = layer
    session.flush()
    sync_mailboxes(session, org_id, current_app.config, utcnow())
    audit.by_caller(
        session,
        "channel_settings.changed",
        candidate_id,
        channel=channel.name,
        fields=sorted(layer),
    )
    session.commit()
    layers[-1] = (layers[-1][0], layer)
    scope = "org" if candidate_id is None else "candidate"
    return settings_answer(channel, scope, candidate_id, layers)


def delete_layer(org_id: int, candidate_id: int | None, name: str) -> None:
    session = get_session()
    row = _row(session, org_id, candidate_id, name)
    if row is not None:
        session.delete(row)
        session.flush()
        sync_mailboxes(session, org_id, current_app.config, utcnow())
        audit.by_caller(
            session, "channel_settings.changed", candidate_id, channel=name, removed=True
        )
    session.commit()


@blp.route("/channels")
class Channels(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, ChannelSchema(many=True))
    def get(self):
        """List channels with their capabilities and settings schema

        The channels a touch can go out on (email, SMS, call and any plugin's), with
        what each can do (delivery receipts, replies) and the JSON Schema of its
        settings, so a portal can build its settings form.
        """
        from channels.registry import channel_descriptions

        return channel_descriptions()


@blp.route("/channels/<channel>/settings")
class OrgChannelSettings(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.response(200, ChannelSettingsSchema)
    @blp.doc(operationId="get_org_channel_settings")
    def get(self, channel):
        """The organisation's settings of a channel (secrets never shown)

        The organisation's settings of one channel as saved; secrets (passwords,
        tokens) are never answered, only whether each is set.
        """
        return _org_answer(get_channel_or_404(channel))

    @roles("admin")
    @blp.etag
    @blp.arguments(
        ChannelSettingsInputSchema,
        description=SETTINGS_INPUT_DESCRIPTION,
        example=SETTINGS_INPUT_EXAMPLE,
    )
    @blp.response(200, ChannelSettingsSchema)
    @blp.doc(operationId="set_org_channel_settings")
    def put(self, data, channel):
        """Set the organisation's settings of a channel

        An admin sets the whole settings of a channel for the organisation (e.g. the
        SMTP server, the Twilio account), checked against the channel's settings
        schema. Secrets are write-only.
        """
        found = get_channel_or_404(channel)
        blp.check_etag(_org_answer(found), ChannelSettingsSchema)
        return store_layer(current().org_id, None, found, data)

    @roles("admin")
    @blp.etag
    @blp.response(204)
    @blp.doc(operationId="delete_org_channel_settings")
    def delete(self, channel):
        """Remove the organisation's settings of a channel, secrets included

        An admin removes the organisation's settings of a channel, secrets included;
        candidates' own settings stay. Touches on the channel then wait for settings
        that can send.
        """
        found = get_channel_or_404(channel)
        blp.check_etag(_org_answer(found), ChannelSettingsSchema)
        delete_layer(current().org_id, None, found.name)


@blp.route("/users/<int:user_id>/channels/<channel>/settings")
class CandidateChannelSettings(MethodView):
    @roles(*ALL_ROLES)
    @blp.etag
    @blp.alt_response(409, response="CONFLICT", description="The user is not a candidate")
    @blp.response(200, ChannelSettingsSchema)
    @blp.doc(operationId="get_candidate_channel_settings")
    def get(self, user_id, channel):
        """A candidate's settings of a channel over the organisation's (secrets never shown)

        The candidate's own settings of one channel over the organisation's, and
        which level each value comes from; secrets are never answered.
        """
        return _candidate_answer(visible_candidate(user_id), get_channel_or_404(channel))

    # Staff only: settings name servers the process connects to and paths it writes, so a
    # candidate could otherwise aim the server at any host or file.
    @roles("admin", "advisor")
    @blp.etag
    @blp.alt_response(409, response="CONFLICT", description="The user is not a candidate")
    @blp.arguments(
        ChannelSettingsInputSchema,
        description=SETTINGS_INPUT_DESCRIPTION,
        example=SETTINGS_INPUT_EXAMPLE,
    )
    @blp.response(200, ChannelSettingsSchema)
    @blp.doc(operationId="set_candidate_channel_settings")
    def put(self, data, user_id, channel):
        """Set a candidate's own settings of a channel (e.g. their SMTP account)

        Sets a candidate's own settings of a channel (their SMTP account, their
        mailbox to read replies from), checked against the channel's settings
        schema; secrets are write-only. The user must be a candidate (409
        otherwise).
        """
        user = visible_candidate(user_id)
        found = get_channel_or_404(channel)
        blp.check_etag(_candidate_answer(user, found), ChannelSettingsSchema)
        return store_layer(user.org_id, user.id, found, data)

    @roles("admin", "advisor")
    @blp.etag
    @blp.alt_response(409, response="CONFLICT", description="The user is not a candidate")
    @blp.response(204)
    @blp.doc(operationId="delete_candidate_channel_settings")
    def delete(self, user_id, channel):
        """Remove a candidate's settings of a channel: the organisation's apply again

        Removes the candidate's own settings of a channel; the organisation's
        settings apply to their touches again.
        """
        user = visible_candidate(user_id)
        found = get_channel_or_404(channel)
        blp.check_etag(_candidate_answer(user, found), ChannelSettingsSchema)
        delete_layer(user.org_id, user.id, found.name)


def _org_answer(found) -> dict[str, Any]:
    """What the organisation level's GET answers (its ETag is computed from it)."""
    return settings_answer(found, "org", None, _layers(current().org_id, None, found.name))


def _candidate_answer(user, found) -> dict[str, Any]:
    return settings_answer(found, "candidate", user.id, _layers(user.org_id, user.id, found.name))
