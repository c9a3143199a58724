"""Reports for career-services staff: a cohort's adherence to the rules, in SQL aggregates.

:mod:`.figures` (the summable counts), :mod:`.attention` (what needs someone now),
:mod:`.adherence` (the report's rows and total), :mod:`.anonymous` (what an erasure keeps),
:mod:`.tables` (CSV) and :mod:`.chart` (the weekly SVG).
"""
