"""Answers are dumped by a compiled loop (api.schemas.lean), not marshmallow's: the JSON
is the same, value for value, key for key."""

from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
import pytest
from marshmallow import fields

from api.models import Touch
from api.schemas.fields import ReadSchema
from api.schemas.touches import TouchSchema

FINDING = {"check": "words", "rule": "R12", "severity": "warn", "detail": "Too long."}


@pytest.fixture
def varied_touches(world, factory, db) -> list[Touch]:
    """Touches with every kind of value a list shows: nulls, flags, warnings, a sent time,
    a contact with no company."""
    named = factory.contact(world.candidate)
    bare = factory.contact(world.candidate, company=None, email=None, phone=None)
    application = factory.application(world.candidate)
    touches = [
        factory.touch(named, application),
        factory.touch(
            bare,
            application,
            status="sent",
            sent_at=datetime(2026, 11, 18, 16, 30, 5, 123456, tzinfo=UTC),
            flags=["R2_LATE"],
            warnings=[FINDING, {**FINDING, "rule": None}],
            subject=None,
            reason="Sent late.",
        ),
        factory.touch(named, application, step="follow_up", scheduled_for=None, round=2),
    ]
    db.expire_all()
    loaded = [db.get(Touch, t.id) for t in touches]
    for touch in loaded:
        assert touch.contact is not None  # loaded, as the list's selectinload does
    db.commit()  # SQLite: the db session must not hold the write lock during the request
    return loaded


def test_a_page_of_touches_dumps_as_marshmallow_dumps_it(varied_touches, marshmallow_dump):
    schema = TouchSchema(many=True)
    assert schema.dump(varied_touches) == marshmallow_dump(schema, varied_touches)


def test_a_listed_touch_answers_as_marshmallow_dumps_it(
    call, world, varied_touches, marshmallow_dump
):
    answer = call("GET", "/v1/touches?page_size=50", world.tokens["candidate"])
    expected = marshmallow_dump(TouchSchema(many=True), varied_touches)
    assert answer.get_json() == sorted(expected, key=lambda t: t["id"])


def test_an_expired_touch_is_read_through_its_attributes(varied_touches, db, marshmallow_dump):
    touch = varied_touches[1]
    db.expire(touch)  # nothing loaded: every value is a lazy load, as marshmallow does it
    assert TouchSchema().dump(touch) == marshmallow_dump(TouchSchema(), touch)


class Shapes(ReadSchema):
    count = fields.Integer()
    label = fields.String(data_key="name")
    when = fields.DateTime()
    day = fields.Date()
    on = fields.Boolean()
    nested = fields.Nested(lambda: Shapes(only=("count",)), allow_none=True)
    deep = fields.String(attribute="inner.label")
    computed = fields.Function(lambda obj: "f")
    fallback = fields.String(dump_default="none given")


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"count": "7", "label": b"bytes", "on": 1, "nested": {"count": 2}, "inner": {}},
        {"when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "on": None, "nested": None},
        {"day": datetime(2026, 1, 2).date(), "inner": {"label": 5}, "fallback": None},
    ],
    ids=["empty", "coerced", "nulls", "dates"],
)
def test_a_mapping_dumps_as_marshmallow_dumps_it(obj, marshmallow_dump):
    assert Shapes().dump(obj) == marshmallow_dump(Shapes(), obj)


def test_a_schema_hook_still_runs():
    class Hooked(ReadSchema):
        count = fields.Integer()

        @ma.post_dump
        def doubled(self, data, **_kwargs):
            return {"count": data["count"] * 2}

    assert Hooked().dump({"count": 2}) == {"count": 4}
