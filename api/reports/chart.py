"""The cohort's weekly thank-you-within-24h rate and reply rate, drawn as SVG.

matplotlib (Agg/SVG backend, no display, no JavaScript in the file): a well-kept library
whose SVG renders the same in every browser, with real axes and legends; the figure is
built per request on its own ``Figure`` (no pyplot global state, safe across threads).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from api.reports.adherence import Week

#: The two lines' colours: the chart test looks for them in the rendered pixels.
THANKED_COLOUR = "#1f77b4"
REPLY_COLOUR = "#d62728"


def svg(weeks: Sequence[Week], title: str) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.add_subplot()
    labels = [w.start.isoformat() for w in weeks]
    x = list(range(len(weeks)))
    thanked = [w.thanked_rate * 100 if w.thanked_rate is not None else float("nan") for w in weeks]
    replied = [w.reply_rate * 100 if w.reply_rate is not None else float("nan") for w in weeks]
    axes.plot(
        x, thanked, color=THANKED_COLOUR, marker="o", linewidth=2.5, label="Thanked within 24 h"
    )
    axes.plot(x, replied, color=REPLY_COLOUR, marker="s", linewidth=2.5, label="Answered")
    axes.set_ylim(0, 105)
    axes.yaxis.set_major_formatter(PercentFormatter())
    axes.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
    axes.set_xlabel("Week starting (UTC), by the interview's end")
    axes.set_ylabel("Share of interviewers")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()
