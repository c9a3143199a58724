"""What stays of an erased candidate for the organisation's records: anonymous counts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.models.base import Base


class AnonymousTally(Base):
    """One figure of the adherence report (``interviewers``, ``thanked_within_24h``,
    ``refused:R6``...) for one UTC day of one organisation, summed over the candidates
    erased since (api.reports.anonymous.fold_candidate). No user id, no names: the day is
    the finest grain kept, so the org's totals for a range stay as they were."""

    __tablename__ = "anonymous_tallies"
    __table_args__ = (UniqueConstraint("org_id", "day", "figure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    figure: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer, default=0)
