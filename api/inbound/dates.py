"""Dates written in replies ("back on Monday 14 December", "by Friday the 11th", "12/14").

Careful rules rather than a general date parser: the phrases we need are few, and a
general parser guesses too freely (dateparser's search reads "we" as a date and "Friday
the 11th" as November next year). Every date is resolved relative to the day the message
was written in the contact's time zone, and is never before it: a day without a month
that has already passed this month means next month, a day and month that have passed
this year mean next year, a bare weekday means the next one after today ("next Monday"
too). Relative phrases ("next week", "end of the month") are data in phrases/<lang>.toml;
"next week" means Friday of next week, the latest day such a promise covers. So do
durations ("within two weeks", "in 3 business days", "in the next 2-3 weeks": the upper
bound, counted from the message's day) and parts of a month ("mid-January" the 15th,
"early January" the 10th, "late January" its last day: the numbers are data too).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from api.inbound.phrases import DateWords, alternation


@dataclass(frozen=True)
class FoundDate:
    """One date written in a text: where it is (character offsets) and the day it means."""

    start: int
    end: int
    day: date


def reference_day(sent: datetime | None, received_at: datetime, tz: str) -> date:
    """The day the message was written, in the contact's zone (received_at when no Date)."""
    moment = sent or received_at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(tz)).date()


@cache
def _patterns(words: DateWords) -> list[tuple[str, re.Pattern[str]]]:
    mon = rf"(?:{alternation(list(words.months))})\.?"
    wd = rf"(?:{alternation(list(words.weekdays))})\.?"
    ordn = rf"(?:{alternation(words.ordinal_suffixes)})"
    the, of, nxt = (alternation(w) for w in (words.the, words.of, words.next))
    year = r"(?:,?\s+(?P<y>\d{4}))?"
    parts = alternation(list(words.month_parts)) or "(?!)"
    raw = [
        ("iso", r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
        ("num", r"(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?"),
        (
            "dm",
            rf"(?:(?P<wd>{wd}),?\s+)?(?:(?:{the})\s+)?(?P<d>\d{{1,2}}){ordn}?"
            rf"(?:\s+(?:{of}))?\s+(?P<mon>{mon}){year}",
        ),
        (
            "md",
            rf"(?:(?P<wd>{wd}),?\s+)?(?P<mon>{mon})\s+(?:(?:{the})\s+)?(?P<d>\d{{1,2}}){ordn}?{year}",
        ),
        ("d", rf"(?:(?P<wd>{wd}),?\s+)?(?:{the})\s+(?P<d>\d{{1,2}}){ordn}"),
        ("d", rf"(?P<wd>{wd}),?\s+(?P<d>\d{{1,2}}){ordn}"),
        ("rel", rf"(?P<rel>{alternation(list(words.relative))})"),
        ("dur", _duration_regex(words)),
        ("part", rf"(?:(?:{the})\s+)?(?P<part>{parts})[\s-]+(?:(?:{of})\s+)?(?P<mon>{mon}){year}"),
        ("wd", rf"(?:(?:{nxt})\s+)?(?P<wd>{wd})"),
    ]
    return [(kind, re.compile(rf"(?<![\w/-])(?:{p})(?![\w/-])", re.IGNORECASE)) for kind, p in raw]


def _duration_regex(words: DateWords) -> str:
    """ "within two weeks", "in the next 2-3 days": a lead, a number (or range), a unit."""
    if not (words.duration_leads and words.duration_units):
        return "(?!)"
    number = rf"(?:\d{{1,3}}|{alternation(list(words.duration_numbers))})"
    return (
        rf"(?:{alternation(words.duration_leads)})\s+(?:{number}\s*(?:-|\u2013|to|or)\s*)?"
        rf"(?P<n>{number})\s+(?P<unit>{alternation(list(words.duration_units))})"
    )


def _after(today: date, n: int, unit: str) -> date:
    """The day `n` units after today: d days, w weeks, b business days, h hours, m months."""
    if unit == "b":
        day = today
        while n > 0:
            day += timedelta(days=1)
            n -= day.weekday() < 5
        return day
    if unit == "m":
        y, m = _add_months(today.year, today.month, n)
        return date(y, m, min(today.day, calendar.monthrange(y, m)[1]))
    days = {"d": n, "w": 7 * n, "h": -(-n // 24)}[unit]
    return today + timedelta(days=days)


def _month_day(year: int, month: int, day: int) -> date:
    """Day `day` of a month, where a day below 1 (or past its end) means its last day."""
    last = calendar.monthrange(year, month)[1]
    return date(year, month, day if 1 <= day <= last else last)


def _key(text: str | None) -> str:
    return re.sub(r"\s+", " ", (text or "").lower().rstrip("."))


def _weekday(words: DateWords, name: str | None) -> int | None:
    return words.weekdays.get(_key(name)) if name else None


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


def _day_month(today: date, day: int, month: int, year: int | None) -> date | None:
    """The first `day`/`month` on or after today (that exact year when given)."""
    years = [year] if year else [today.year, today.year + 1, today.year + 4]
    for y in years:
        try:
            found = date(y, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


def _day_only(today: date, day: int, weekday: int | None) -> date | None:
    """The first month day `day` on or after today; with a weekday, the first that matches it."""
    for wanted in [weekday, None] if weekday is not None else [None]:
        for n in range(13 if wanted is not None else 2):
            y, m = _add_months(today.year, today.month, n)
            if day > calendar.monthrange(y, m)[1]:
                continue
            found = date(y, m, day)
            if found >= today and (wanted is None or found.weekday() == wanted):
                return found
    return None


def _relative(today: date, rule: str) -> date:
    if rule == "month_end":
        return today.replace(day=calendar.monthrange(today.year, today.month)[1])
    if rule.startswith("month+"):  # "month+1:10" the 10th of next month, ":end" its last day
        plus, _, day = rule.removeprefix("month+").partition(":")
        y, m = _add_months(today.year, today.month, int(plus))
        return _month_day(y, m, 0 if day == "end" else int(day))
    if rule.startswith("+") and rule.endswith("d"):
        return today + timedelta(days=int(rule[1:-1]))
    weekday, _, plus = rule.removeprefix("weekday:").partition("+")
    monday = today - timedelta(days=today.weekday())
    found = monday + timedelta(days=int(weekday), weeks=int(plus.rstrip("w") or 0) if plus else 0)
    return found if found >= today else found + timedelta(weeks=1)


def _resolve(kind: str, m: re.Match[str], today: date, words: DateWords) -> date | None:
    g = m.groupdict()
    year = int(g["y"]) if g.get("y") else None
    if year is not None and year < 100:
        year += 2000
    if kind == "iso":
        return _day_month(today, int(g["d"]), int(g["m"]), year) if 1 <= int(g["m"]) <= 12 else None
    if kind == "num":
        a, b = int(g["a"]), int(g["b"])
        month, day = (a, b) if words.numeric_order.startswith("M") else (b, a)
        return _day_month(today, day, month, year) if 1 <= month <= 12 else None
    if kind in ("dm", "md"):
        return _day_month(today, int(g["d"]), words.months[_key(g["mon"])], year)
    if kind == "d":
        return _day_only(today, int(g["d"]), _weekday(words, g["wd"]))
    if kind == "rel":
        return _relative(today, words.relative[_key(g["rel"])])
    if kind == "dur":
        n = g["n"]
        count = int(n) if n.isdigit() else words.duration_numbers[_key(n)]
        return _after(today, count, words.duration_units[_key(g["unit"])])
    if kind == "part":
        month, day = words.months[_key(g["mon"])], words.month_parts[_key(g["part"])]
        for y in [year] if year else [today.year, today.year + 1]:
            found = _month_day(y, month, day)
            if found >= today:
                return found
        return None
    wd = _weekday(words, g["wd"])
    return today + timedelta(days=(wd - today.weekday() - 1) % 7 + 1) if wd is not None else None


def find_dates(text: str, today: date, words: DateWords) -> list[FoundDate]:
    """Every date written in `text`, in reading order, each resolved on or after `today`."""
    taken: list[FoundDate] = []
    for kind, pattern in _patterns(words):
        for m in pattern.finditer(text):
            if any(m.start() < f.end and f.start < m.end() for f in taken):
                continue
            day = _resolve(kind, m, today, words)
            if day is not None:
                # "Thursday." ends a sentence: the dot an abbreviation may take ("Thu.")
                # stays outside, so that the sentence around the date is read right.
                end = m.end() - 1 if m.group(0).endswith(".") else m.end()
                taken.append(FoundDate(m.start(), end, day))
    return sorted(taken, key=lambda f: f.start)


SENTENCE_END = re.compile(r"[.!?;](?:\s|$)|\n\s*\n")


def window_after(text: str, end: int, width: int = 60) -> str:
    """The words just after offset `end`, within the same sentence."""
    window = text[end : end + width]
    found = SENTENCE_END.search(window)
    return window[: found.start()] if found else window


def window_before(text: str, start: int, width: int = 80) -> str:
    """The words just before offset `start`, within the same sentence."""
    window = text[max(0, start - width) : start]
    cut = max((m.end() for m in SENTENCE_END.finditer(window)), default=0)
    return window[cut:]
