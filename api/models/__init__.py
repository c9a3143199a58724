"""Typed declarative models. Importing this package registers every table on `Base.metadata`."""

from api.models.base import Base, UTCDateTime, utcnow
from api.models.people import ApiToken, Assignment, Organization, User
from api.models.records import Application, Contact, Interview, Interviewer

__all__ = [
    "ApiToken",
    "Application",
    "Assignment",
    "Base",
    "Contact",
    "Interview",
    "Interviewer",
    "Organization",
    "UTCDateTime",
    "User",
    "utcnow",
]
