"""Inbound replies: parse, classify and act on the email and SMS answers to touches."""
