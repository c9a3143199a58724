"""A candidate's data, theirs to take and to erase (issue 15).

- :mod:`api.privacy.audit`: the trail of staff actions that matter to a candidate.
- :mod:`api.privacy.export`: everything Touchbase holds of one candidate, as a ZIP.
- :mod:`api.privacy.erasure`: every row and file of one candidate removed, after their
  pending touches are cancelled and nothing of theirs is in flight.
- :mod:`api.privacy.retention`: the organisation's limit on how long message texts stay.
- :mod:`api.privacy.files`: where a candidate's files (outbox ``.eml``) are.
"""
