"""Touchbase: helps job candidates follow up with their interviewers, without overdoing it."""

from api.app import create_app

__all__ = ["create_app"]
