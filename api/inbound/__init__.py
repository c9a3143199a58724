"""Inbound replies: parse, dedupe, match, classify and act on the answers to touches.

:mod:`.message` reads a raw message, :mod:`.quotes` cuts quoted history and signatures,
:mod:`.bounces`, :mod:`.autoreply` and :mod:`.classify` say what it is (phrases in
:mod:`.phrases`' data), :mod:`.pipeline` acts on it, :mod:`.mailbox` reads an IMAP folder.
"""
