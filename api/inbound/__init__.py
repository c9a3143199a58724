"""Inbound replies: parse, dedupe, match, classify, act."""
