"""Validated field types shared by the resource schemas."""

from __future__ import annotations

import functools
import importlib.resources
from datetime import UTC
from typing import ClassVar

import marshmallow as ma
import phonenumbers
from marshmallow import fields, validate

from api import timebounds
from api.schemas import lean
from channels.email_address import email_address_problem

#: In the tzdata list but not a place: "local time is unknown".
_NOT_PLACES = frozenset({"Factory"})


@functools.cache
def _zones() -> frozenset[str]:
    """The IANA zone names, from the tzdata package's own list: the system's zoneinfo
    directory also holds files such as localtime, posixrules, posix/... and right/...,
    which load but name no zone (localtime is whatever the server's zone is)."""
    listed = importlib.resources.files("tzdata").joinpath("zones").read_text()
    return frozenset(listed.split()) - _NOT_PLACES


def is_valid_timezone(name: str) -> bool:
    return name in _zones()


class TimeZone(fields.String):
    """An IANA time zone name such as Europe/London (links such as US/Eastern too)."""

    default_error_messages = {"zone": "Not a known IANA time zone (e.g. America/New_York)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "America/New_York")
        super().__init__(validate=validate.Length(max=64), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not is_valid_timezone(value):
            raise self.make_error("zone")
        return value


class Phone(fields.String):
    """A phone number in international form, stored normalised to E.164."""

    default_error_messages = {
        "invalid": "Not a valid phone number; use international form such as +14155550123.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "+14155550123")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if len(value) > 40:
            raise self.make_error("invalid")
        try:
            parsed = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise self.make_error("invalid") from exc
        if not phonenumbers.is_valid_number(parsed):
            raise self.make_error("invalid")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class Country(fields.String):
    """ISO 3166-1 alpha-2 country code (for public holidays)."""

    default_error_messages = {"country": "Not an ISO 3166-1 alpha-2 country code (e.g. US)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("example", "US")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise self.make_error("country")
        return value


def Text(max_length: int, **kwargs) -> fields.String:
    """A bounded string; empty strings are refused unless allow_none makes the field optional."""
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


class Email(fields.String):
    """An email address the email channel can send to: its own rule, not a second one."""

    default_error_messages = {"address": "Not a valid email address: {reason}"}

    def __init__(self, **kwargs):
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("format", "email")
        metadata.setdefault("example", "dana@example.com")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        problem = email_address_problem(value)
        if problem:
            raise self.make_error("address", reason=problem.rstrip("."))
        return value


class _AwareUTC(fields.AwareDateTime):
    """Aware on input, then held in UTC: answers show the same instant the way reads do.
    Within the working range (api.timebounds), so nothing computed from it overflows."""

    default_error_messages = {"range": f"Must be between {timebounds.RANGE_TEXT}."}

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            at = parsed.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 with an offset that leaves the calendar
            raise self.make_error("range") from None
        if not timebounds.in_range(at):
            raise self.make_error("range")
        return at


def Aware(**kwargs) -> fields.AwareDateTime:
    """A datetime with an explicit UTC offset (naive times are ambiguous across zones), in
    the working range 2000-01-01 to 2100-01-01 UTC. Every time input uses this one."""
    return _AwareUTC(format="iso", **kwargs)


class _Day(fields.Date):
    default_error_messages = {
        "range": f"Must be between {timebounds.FIRST_DAY} and {timebounds.LAST_DAY}."
    }

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not timebounds.FIRST_DAY <= day <= timebounds.LAST_DAY:
            raise self.make_error("range")
        return day


def Day(**kwargs) -> fields.Date:
    """A calendar date (YYYY-MM-DD) in the working range. Every date input uses this one."""
    return _Day(**kwargs)


#: The largest object id: ids are INTEGER columns, 32-bit on PostgreSQL. SQLite could go
#: further, but one range on both keeps a larger number from ever reaching a query.
ID_MAX = 2**31 - 1


def Id(**kwargs) -> fields.Integer:
    """An object id: a JSON integer in bodies (strict); query strings pass `strict=False`."""
    kwargs.setdefault("strict", True)
    return fields.Integer(validate=validate.Range(min=1, max=ID_MAX), **kwargs)


def QueryId(**kwargs) -> fields.Integer:
    """An object id in a query string, where every value arrives as text."""
    return Id(strict=False, **kwargs)


class StrictBoolean(fields.Boolean):
    """true or false, and nothing else: a JSON body that says 0, 1, "yes" or "" has not
    said a boolean. Every body schema uses this one."""

    default_error_messages = {"invalid": "Not a valid boolean: use true or false."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def QueryBoolean(**kwargs) -> fields.Boolean:
    """A boolean in a query string, where it arrives as text: `true` or `false`."""
    return fields.Boolean(truthy={"true"}, falsy={"false"}, **kwargs)


def loose_booleans(schema: ma.Schema, values: dict) -> dict[str, list[str]]:
    """Errors for the values of `values` (a JSON body checked by another schema, e.g. a
    channel's settings) that a boolean field of `schema` would read as a boolean though
    they are none: the same rule as StrictBoolean, for schemas we do not write."""
    by_key = {f.data_key or name: f for name, f in schema.fields.items()}
    return {
        key: [StrictBoolean.default_error_messages["invalid"]]
        for key, value in values.items()
        if isinstance(by_key.get(key), fields.Boolean)
        and value is not None
        and not isinstance(value, bool)
    }


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class ReadSchema(StrictSchema):
    """The shape of an answer (never loaded). Every field is in every answer, so the
    document marks each one `required` (api.spec.ReadSchemaPlugin) and a generated client
    types it without `| Unset`; `allow_none` says which may be null. A field that some
    answers leave out is named in SOMETIMES, and its description says when it is there."""

    SOMETIMES: ClassVar[frozenset[str]] = frozenset()

    def _serialize(self, obj, *, many: bool = False):
        """marshmallow's per-object loop, compiled (api.schemas.lean): lists of answers
        are most of what a read costs."""
        plan = self.__dict__.get("_lean_plan", False)
        if plan is False:
            plan = self._lean_plan = lean.compile_plan(self)
        if plan is None:
            return super()._serialize(obj, many=many)
        if many and obj is not None:
            return [lean.dump_one(self, plan, item) for item in obj]
        return lean.dump_one(self, plan, obj)
