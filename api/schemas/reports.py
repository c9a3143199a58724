"""The adherence report: its range, its rows and its total."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validates_schema

from api.reports.adherence import MAX_SPAN
from api.schemas.fields import Aware, ReadSchema, StrictSchema


class AdherenceQuerySchema(StrictSchema):
    start = Aware(
        required=True,
        metadata={"description": "First instant of the range (inclusive), with its offset"},
    )
    end = Aware(
        required=True,
        metadata={
            "description": f"End of the range (exclusive), after start, at most "
            f"{MAX_SPAN.days} days after it"
        },
    )

    @validates_schema
    def _a_range(self, data, **_kwargs):
        if "start" not in data or "end" not in data:
            return
        if data["end"] <= data["start"]:
            raise ValidationError("Must be after start.", field_name="end")
        if data["end"] - data["start"] > MAX_SPAN:
            raise ValidationError(
                f"Must be at most {MAX_SPAN.days} days after start.", field_name="end"
            )


def _count(description: str):
    return fields.Integer(metadata={"description": description})


class AttentionSchema(ReadSchema):
    drafts_awaiting_approval = _count("Drafts waiting for someone's approval, now")
    past_deadline = _count(
        "Pending touches past their time: a draft past its approval deadline not yet "
        "skipped, or a scheduled touch more than an hour late"
    )
    unknown_outcomes = _count("Sends whose outcome was lost (status unknown), to settle")
    bounced_addresses = _count("Contacts whose email address bounced permanently")
    unmatched_inbound = _count("Inbound emails matched to no touch or contact, to attach")


class FiguresSchema(ReadSchema):
    interviews = _count("Interviews that ended in the range")
    interviewers = _count(
        "Panel seats (one interviewer of one application's round, R1) whose last interview "
        "with the candidate ended in the range"
    )
    interviewers_thanked = _count("Of those seats, how many got a thank-you sent (any time)")
    thanked_within_24h = _count("Seats thanked within 24 h of the interview's end (R2)")
    thanked_within_48h = _count("Seats thanked within 48 h of the interview's end (R2)")
    interviewers_answered = _count(
        "Seats whose interviewer answered (any response but an out-of-office)"
    )
    follow_ups_sent = _count("Follow-ups sent in the range")
    follow_ups_after_wait = _count(
        "Of those, sent after the wait the org's policy asks: R4's decision date plus "
        "its grace days, else R5's days after the thank-you"
    )
    calls_made = _count("Calls made (logged or bridged) in the range")
    replies = _count("Replies and decision dates received in the range")
    rejections = _count("Rejections received in the range")
    next_rounds = _count("Invitations to a next round received in the range")
    offers = _count("Offers received in the range")
    refused = _count("Touches a rule stopped in the range (the sum of refused_by_rule)")
    refused_by_rule = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "Per rule, how often it stopped a touch: a change refused "
            "(event refused), a touch skipped or cancelled by it",
            "example": {"R6": 2, "R8": 5},
        },
    )
    median_hours_to_first_reply = fields.Float(
        allow_none=True,
        metadata={
            "description": "Median hours from a seat's first touch sent to the interviewer's "
            "first answer; null with no answer. Erased candidates are not in it"
        },
    )
    attention = fields.Nested(AttentionSchema)


class CandidateAdherenceSchema(FiguresSchema):
    candidate_id = fields.Integer()
    name = fields.String()
    email = fields.String()


class AdherenceTotalSchema(FiguresSchema):
    candidates = _count("Candidates in the report")
    includes_erased = fields.Boolean(
        metadata={
            "description": "Whether the counts include erased candidates' anonymous tallies "
            "(an admin's report: whole UTC days starting in the range)"
        }
    )


class AdherenceReportSchema(ReadSchema):
    start = fields.DateTime()
    end = fields.DateTime()
    generated_at = fields.DateTime()
    candidates = fields.List(fields.Nested(CandidateAdherenceSchema))
    total = fields.Nested(AdherenceTotalSchema)
