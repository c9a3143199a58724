"""Signed outbound webhooks to the portal (Standard Webhooks).

- :mod:`.events`: the outbox. A change notes its event; the notes become rows in the same
  transaction, just before it commits (nothing for a rolled-back change).
- :mod:`.claim`: the database as the queue (leases, order per touch).
- :mod:`.delivery`: the worker's delivery pass and its thread.
- :mod:`.transport`: the one outbound HTTP request (timeouts, no redirects, no SSRF).
- :mod:`.signing`: secrets, message ids and the ``webhook-*`` headers.
"""
