"""Time-range filters of the lists: `<name>_after` (inclusive) and `<name>_before`
(exclusive), each optional, a range the wrong way round a 422 naming the `_after` field
(an empty answer would hide the mistake)."""

from __future__ import annotations

from marshmallow import ValidationError, validates_schema

from api.schemas.fields import Aware, StrictSchema


def refuse_inverted(data: dict, after: str, before: str) -> None:
    if after in data and before in data and data[after] > data[before]:
        raise ValidationError(f"Must not be later than {before}.", field_name=after)


def _after(what: str):
    return Aware(metadata={"description": f"Only rows {what} at or after this instant"})


def _before(what: str):
    return Aware(metadata={"description": f"Only rows {what} before this instant (exclusive)"})


class CreatedRange(StrictSchema):
    """created_after / created_before, on the rows' creation time."""

    created_after = _after("created")
    created_before = _before("created")

    @validates_schema
    def _created_in_order(self, data, **_kwargs):
        refuse_inverted(data, "created_after", "created_before")


class DueRange(CreatedRange):
    """A touch's scheduled time (due_after / due_before) beside its creation time."""

    due_after = Aware(metadata={"description": "Only touches scheduled at or after this instant"})
    due_before = Aware(
        metadata={"description": "Only touches scheduled before this instant (exclusive)"}
    )

    @validates_schema
    def _due_in_order(self, data, **_kwargs):
        refuse_inverted(data, "due_after", "due_before")


class OccurredRange(CreatedRange):
    """When a response happened (occurred_after / occurred_before) beside when it was
    recorded (created_*)."""

    occurred_after = _after("that happened")
    occurred_before = _before("that happened")

    @validates_schema
    def _occurred_in_order(self, data, **_kwargs):
        refuse_inverted(data, "occurred_after", "occurred_before")


class ReceivedRange(StrictSchema):
    """When an inbound message arrived."""

    received_after = _after("received")
    received_before = _before("received")

    @validates_schema
    def _received_in_order(self, data, **_kwargs):
        refuse_inverted(data, "received_after", "received_before")


class StartsRange(StrictSchema):
    """An interview's start (the filters it already had), refused the wrong way round."""

    @validates_schema
    def _starts_in_order(self, data, **_kwargs):
        refuse_inverted(data, "starts_after", "starts_before")
