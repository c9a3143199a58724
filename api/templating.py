"""Message templates: per step and channel, rendered safely from plain dicts.

Pure module: no Flask, no database, no I/O except reading the packaged default
templates under ``api/templates/``.

Rendering uses the bounded sandbox of :mod:`api.sandbox` (Jinja2's immutable
sandbox, every operation size-checked and charged to a per-render budget with a
deadline) with :class:`~jinja2.StrictUndefined`, autoescaping off (messages are
plain text).  The environment is deliberately small: no globals, a whitelist of
filters, and :mod:`api.sandbox.checks` refuses at save time what a message never
needs (macros, includes, nested or recursive loops, Jinja specials, deep nesting),
so a saved template cannot make a render slow or huge.

Variable namespace (fixed; every value is a string unless noted)
-----------------------------------------------------------------
``candidate``    ``name``, ``email``, ``phone``
``contact``      ``name``, ``first_name``, ``last_name``, ``title`` (job title),
                 ``company``, ``salutation`` ("Ms. Jones" when an honorific and
                 last name are known, else the full name)
``application``  ``company``, ``position``
``interview``    ``date`` (local date, e.g. "March 4, 2025"), ``round``, ``format``
``notes``        the candidate's notes on THIS interviewer: ``specific_point``,
                 ``topics`` and ``skills`` (lists: print as "a, b and c", iterate
                 with ``{% for t in notes.topics %}``)
``touch``        ``step``, ``channel``
``previous``     ``subject`` (subject of the thank-you, for "Re:" threading)

Missing values are empty strings / empty lists, so templates test them with
``{% if notes.specific_point %}``.  A line holding nothing but ``{% ... %}``
tags disappears from the output (newline included); a tag that ends a line of
text keeps the newline.  The rendered body loses trailing spaces and runs of
blank lines; the subject is collapsed to one line.  A name outside this namespace, or a field
not listed above, is refused by :func:`validate_template` when the template is
saved, not when the message is sent.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache, lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.ext import Extension

from api.sandbox import MAX_TEXT, Budget, SandboxEnvironment, checks, metered

__all__ = [
    "CHANNELS",
    "DEFAULT_CHANNELS",
    "MAX_BODY_CHARS",
    "MAX_RENDERED_CHARS",
    "MAX_SUBJECT_CHARS",
    "NAMESPACE",
    "STEPS",
    "RenderedMessage",
    "TemplateIssue",
    "TemplateRenderError",
    "TextList",
    "build_context",
    "default_template",
    "empty_context",
    "format_local_date",
    "render",
    "sample_context",
    "validate_template",
]

STEPS: tuple[str, ...] = (
    "thank_you",
    "follow_up",
    "call",
    "post_rejection",
    "next_round_reply",
    "custom",
)
CHANNELS: tuple[str, ...] = ("email", "sms", "call")

#: Channels that have a built-in default template, per step.  The "call" step
#: is a phone call (R6, R11), so it only has a call script.
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    "thank_you": ("email", "sms", "call"),
    "follow_up": ("email", "sms", "call"),
    "call": ("call",),
    "post_rejection": ("email", "sms", "call"),
    "next_round_reply": ("email", "sms", "call"),
    "custom": ("email", "sms", "call"),
}

#: The fixed variable namespace: object -> its fields.
NAMESPACE: dict[str, tuple[str, ...]] = {
    "candidate": ("name", "email", "phone"),
    "contact": ("name", "first_name", "last_name", "title", "company", "salutation"),
    "application": ("company", "position"),
    "interview": ("date", "round", "format"),
    "notes": ("topics", "skills", "specific_point"),
    "touch": ("step", "channel"),
    "previous": ("subject",),
}
_LIST_FIELDS = {("notes", "topics"), ("notes", "skills")}

MAX_SUBJECT_CHARS = 300
MAX_BODY_CHARS = 10_000
#: Upper bound on a rendered field (the output of one template).
MAX_RENDERED_CHARS = MAX_TEXT

# --------------------------------------------------------------------------- #
# Public value types
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class RenderedMessage:
    """A rendered message: ``subject`` is "" for SMS and call scripts."""

    subject: str
    body: str


@dataclass(frozen=True)
class TemplateIssue:
    """One problem with a template, found when it is saved.

    ``field`` is "subject" or "body"; ``reason`` is a sentence for the user.
    """

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class TemplateRenderError(ValueError):
    """Rendering failed (only happens for templates that skipped validation,
    or contexts not built with :func:`build_context`)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class TextList(tuple):
    """An immutable list of strings that prints as "a, b and c"."""

    __slots__ = ()

    def __str__(self) -> str:
        items = [str(i) for i in self]
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- #
# Environment
# --------------------------------------------------------------------------- #


# A line holding nothing but ``{% ... %}`` / ``{# ... #}`` tags.
_STANDALONE_TAG_LINE = re.compile(
    r"^[ \t]*(?:(?:\{%(?:(?!%\}).)*%\}|\{#(?:(?!#\}).)*#\})[ \t]*)+\r?\n", re.MULTILINE
)


class _StandaloneTagLines(Extension):
    """Lines holding only block tags vanish from the output, newline included.

    Unlike Jinja's ``trim_blocks`` this keeps the newline after a tag that
    ends a line of text (``...{% endif %}``), so paragraphs stay apart.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _STANDALONE_TAG_LINE.sub(lambda m: m.group(0).rstrip("\r\n"), source)


def _make_environment() -> SandboxEnvironment:
    return SandboxEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        extensions=[_StandaloneTagLines],
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,
    )


_ENV = _make_environment()


@lru_cache(maxsize=512)
def _compile(source: str) -> Template:
    return _ENV.from_string(source)


# --------------------------------------------------------------------------- #
# Context
# --------------------------------------------------------------------------- #

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof"}


def format_local_date(value: date | datetime | str | None, tz: str | tzinfo | None = None) -> str:
    """Format an interview date as "March 4, 2025" (locale independent).

    An aware ``datetime`` is converted to ``tz`` (the candidate's zone) first;
    a string is returned unchanged (already formatted).
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, datetime):
        if tz is not None and value.tzinfo is not None:
            with contextlib.suppress(OverflowError):  # a stored time at the end of the range
                value = value.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz)
        value = value.date()
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _text_list(value: Any) -> TextList:
    if value is None or value == "":
        return TextList()
    if isinstance(value, str):
        parts: Iterable[Any] = re.split(r"[,;\n]", value)
    else:
        parts = value
    return TextList(t for t in (_text(p) for p in parts) if t)


def _get(data: Mapping[str, Any] | None, *keys: str) -> Any:
    """First non-empty value among ``keys``."""
    if not data:
        return None
    for key in keys:
        value = data.get(key)
        if value not in (None, ""):
            return value
    return None


def build_context(
    *,
    candidate: Mapping[str, Any] | None = None,
    contact: Mapping[str, Any] | None = None,
    application: Mapping[str, Any] | None = None,
    interview: Mapping[str, Any] | None = None,
    notes: Mapping[str, Any] | None = None,
    touch: Mapping[str, Any] | None = None,
    previous: Mapping[str, Any] | None = None,
    tz: str | tzinfo | None = None,
) -> dict[str, dict[str, Any]]:
    """Build the template namespace from plain dicts.

    Every namespace field is present (missing ones are "" or an empty list);
    keys outside the namespace are ignored.  Accepted input keys beyond the
    namespace fields:

    - ``contact["honorific"]`` ("Ms.", "Dr." ...) builds ``salutation`` from the
      last name; an explicit ``contact["salutation"]`` wins.  ``first_name`` and
      ``last_name`` are derived from ``name`` (and vice versa) when missing.
    - ``interview["date"]`` (or ``"starts_at"``) may be a date, a datetime
      (converted to ``tz``, the candidate's zone, when aware) or a string.
    - ``notes["topics"]`` / ``["skills"]`` may be lists or comma separated text.
    - ``contact["company"]`` and ``application["company"]`` fill each other in.
    """
    cand = candidate or {}
    cont = contact or {}
    app = application or {}
    itv = interview or {}
    nts = notes or {}
    tch = touch or {}
    prev = previous or {}

    first = _text(_get(cont, "first_name"))
    last = _text(_get(cont, "last_name"))
    name = _text(_get(cont, "name")) or " ".join(p for p in (first, last) if p)
    parts = name.split()
    if parts and parts[0].rstrip(".").lower() in _HONORIFICS:
        parts = parts[1:]
    if not first and parts:
        first = parts[0]
    if not last and len(parts) > 1:
        last = parts[-1]
    honorific = _text(_get(cont, "honorific"))
    if honorific and not honorific.endswith(".") and honorific.lower() in _HONORIFICS - {"miss"}:
        honorific += "."
    salutation = _text(_get(cont, "salutation"))
    if not salutation:
        salutation = f"{honorific} {last}" if honorific and last else name
    company = _text(_get(cont, "company") or _get(app, "company"))

    return {
        "candidate": {
            "name": _text(_get(cand, "name")),
            "email": _text(_get(cand, "email")),
            "phone": _text(_get(cand, "phone")),
        },
        "contact": {
            "name": name,
            "first_name": first,
            "last_name": last,
            "title": _text(_get(cont, "title")),
            "company": company,
            "salutation": salutation,
        },
        "application": {
            "company": _text(_get(app, "company")) or company,
            "position": _text(_get(app, "position")),
        },
        "interview": {
            "date": format_local_date(_get(itv, "date", "starts_at"), tz),
            "round": _text(_get(itv, "round")),
            "format": _text(_get(itv, "format")),
        },
        "notes": {
            "topics": _text_list(_get(nts, "topics")),
            "skills": _text_list(_get(nts, "skills")),
            "specific_point": _text(_get(nts, "specific_point")),
        },
        "touch": {"step": _text(_get(tch, "step")), "channel": _text(_get(tch, "channel"))},
        "previous": {"subject": _text(_get(prev, "subject"))},
    }


def sample_context() -> dict[str, dict[str, Any]]:
    """A realistic, fully filled context (used for validation and previews)."""
    return build_context(
        candidate={"name": "Alex Kim", "email": "alex.kim@example.com", "phone": "+1 415 555 0142"},
        contact={
            "name": "Dana Jones",
            "honorific": "Ms.",
            "title": "Engineering Manager",
            "company": "Initech",
        },
        application={"company": "Initech", "position": "Senior Backend Engineer"},
        interview={"date": date(2025, 3, 4), "round": 1, "format": "video"},
        notes={
            "specific_point": "moving the billing service to event sourcing",
            "topics": ["incident response", "on-call rotation"],
            "skills": ["Python", "PostgreSQL"],
        },
        touch={"step": "thank_you", "channel": "email"},
        previous={"subject": "Thank you for the Senior Backend Engineer interview"},
    )


def empty_context() -> dict[str, dict[str, Any]]:
    """Every field empty: exercises the ``{% else %}`` branches of a template."""
    return build_context()


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #


def _ast_issues(field: str, ast: nodes.Template) -> list[TemplateIssue]:
    issues: list[TemplateIssue] = []
    seen: set[str] = set()

    def add(reason: str) -> None:
        if reason not in seen:
            seen.add(reason)
            issues.append(TemplateIssue(field, reason))

    for name in sorted(meta.find_undeclared_variables(ast)):
        if name not in NAMESPACE:
            add(
                f'"{name}" is not a known variable; use one of: '
                + ", ".join(sorted(NAMESPACE))
                + "."
            )

    for node in ast.find_all(nodes.Name):
        if node.ctx in ("store", "param") and node.name in NAMESPACE:
            add(f'"{node.name}" is a built-in variable and cannot be assigned')

    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            attr: Any = node.attr
        elif isinstance(node.arg, nodes.Const):
            attr = node.arg.value
        else:
            attr = None
        if isinstance(attr, str) and attr.startswith("_"):
            add(f'accessing "{attr}" is not allowed (unsafe attribute)')
            continue
        target = node.node
        if isinstance(target, nodes.Name) and target.name in NAMESPACE:
            fields = NAMESPACE[target.name]
            if attr is None:
                add(f'look up fields of "{target.name}" by name, e.g. {target.name}.{fields[0]}')
            elif not isinstance(attr, str) or attr not in fields:
                add(
                    f'"{target.name}.{attr}" is not a known field; {target.name} has: '
                    + ", ".join(fields)
                    + "."
                )

    for output in ast.find_all(nodes.Output):
        for expr in output.nodes:
            if isinstance(expr, nodes.Name) and expr.name in NAMESPACE:
                add(
                    f'"{{{{ {expr.name} }}}}" prints a whole group; use a field, '
                    f"e.g. {{{{ {expr.name}.{NAMESPACE[expr.name][0]} }}}}"
                )
    return issues


def _render_field(
    field: str, source: str, context: Mapping[str, Any], budget: Budget | None = None
) -> str:
    """Render one template string within ``budget`` (a fresh one by default), mapping
    every failure to TemplateRenderError."""
    try:
        template = _compile(source)
        size = 0
        chunks: list[str] = []
        with metered(budget):
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_RENDERED_CHARS:
                    raise TemplateRenderError(
                        field, f"the rendered text is longer than {MAX_RENDERED_CHARS} characters"
                    )
                chunks.append(chunk)
        return "".join(chunks)
    except TemplateRenderError:
        raise
    except Exception as exc:  # any other error of the template's own
        raise TemplateRenderError(field, _failure_reason(exc)) from exc


def _failure_reason(exc: Exception) -> str:
    """Why compiling or rendering a template failed, for the user."""
    if isinstance(exc, TemplateSyntaxError):
        return checks.syntax_reason(exc)
    if isinstance(exc, SecurityError):
        return f"not allowed: {exc}"
    if isinstance(exc, UndefinedError):
        return f"unknown value: {exc}"
    return checks.compile_issue(exc) or (
        f"the template fails to render ({type(exc).__name__}: {exc})"
    )


def validate_template(
    subject: str | None, body: str | None, *, channel: str | None = None
) -> list[TemplateIssue]:
    """Check a template before it is saved; an empty list means it is fine.

    Refuses, per field: a size over the bound (subject 300, body 10,000
    characters), a syntax error or unknown filter, a variable outside
    :data:`NAMESPACE`, an unknown field of a known object (``contact.nmae``),
    unsafe attributes (``''.__class__``), unsupported constructs (macros,
    includes, nested loops), and any failure when rendering against both a
    realistic sample context and an all-empty one (StrictUndefined).  An empty
    body is refused.  With ``channel``: an email needs a subject, an SMS or
    call script must not have one.
    """
    subject = subject or ""
    body = body or ""
    issues: list[TemplateIssue] = []

    if not body.strip():
        issues.append(TemplateIssue("body", "the message body is empty"))
    if channel == "email" and not subject.strip():
        issues.append(TemplateIssue("subject", "an email needs a subject"))
    if channel in ("sms", "call") and subject.strip():
        issues.append(TemplateIssue("subject", f"a {channel} message has no subject"))
    if "\n" in subject.strip():
        issues.append(TemplateIssue("subject", "the subject must be a single line"))

    for field, source, limit in (
        ("subject", subject, MAX_SUBJECT_CHARS),
        ("body", body, MAX_BODY_CHARS),
    ):
        if len(source) > limit:
            issues.append(
                TemplateIssue(
                    field,
                    f"the {field} template is {len(source)} characters long; the limit is {limit}",
                )
            )
            continue
        if not source:
            continue
        issue = _checked_source_issue(field, source)
        if issue:
            issues.extend(issue)
            continue
        budget = Budget()  # both renders together: the field's validation is bounded
        for context in (sample_context(), empty_context()):
            try:
                _render_field(field, source, context, budget)
            except TemplateRenderError as exc:
                issues.append(TemplateIssue(field, exc.reason))
                break
    return issues


def _checked_source_issue(field: str, source: str) -> list[TemplateIssue]:
    """What is wrong with the source itself, checked before it is compiled: [] if nothing."""
    ast, reason = checks.parse(_ENV, source)
    if ast is None:
        return [TemplateIssue(field, reason or "the template cannot be parsed")]
    reasons = checks.structure_issues(ast)
    if reasons:
        return [TemplateIssue(field, r) for r in reasons]
    try:
        ast_issues = _ast_issues(field, ast)  # an unknown filter is an error here
        if ast_issues:
            return ast_issues
        _compile(source)  # unknown filters / tests are compile-time errors
    except Exception as exc:  # also what Jinja's constant folding raises: {{ (9)[1:] and 1 }}
        return [TemplateIssue(field, _failure_reason(exc))]
    return []


# --------------------------------------------------------------------------- #
# Rendering
# --------------------------------------------------------------------------- #

_RE_PREFIX = re.compile(r"^(?:re\s*:\s*)+", re.IGNORECASE)


def _tidy_subject(text: str) -> str:
    text = " ".join(text.split())
    if _RE_PREFIX.match(text):
        text = _RE_PREFIX.sub("Re: ", text, count=1)
    return text


def _tidy_body(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", text)  # gaps left by empty values
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def render(subject: str | None, body: str | None, context: Mapping[str, Any]) -> RenderedMessage:
    """Render a template pair against ``context`` (see :func:`build_context`).

    The subject is collapsed to one line ("Re: Re:" becomes "Re:"); the body
    loses trailing spaces and runs of blank lines.  Raises
    :class:`TemplateRenderError` naming the failing field.
    """
    rendered_subject = _tidy_subject(_render_field("subject", subject, context)) if subject else ""
    rendered_body = _tidy_body(_render_field("body", body or "", context))
    return RenderedMessage(subject=rendered_subject, body=rendered_body)


# --------------------------------------------------------------------------- #
# Default templates
# --------------------------------------------------------------------------- #


@cache
def default_template(step: str, channel: str) -> tuple[str, str]:
    """The built-in ``(subject, body)`` template for ``step`` on ``channel``.

    Stored as ``api/templates/<step>/<channel>.j2``.  An email file starts with
    a ``Subject: ...`` line and a blank line, then the body; SMS and call
    templates have no subject ("").  Raises ``ValueError`` for an unknown step
    or a channel without a default (see :data:`DEFAULT_CHANNELS`).
    """
    if step not in DEFAULT_CHANNELS:
        raise ValueError(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
    if channel not in DEFAULT_CHANNELS[step]:
        raise ValueError(
            f"no default template for step {step!r} on channel {channel!r}; "
            f"available: {', '.join(DEFAULT_CHANNELS[step])}"
        )
    source = (
        resources.files("api")
        .joinpath("templates", step, f"{channel}.j2")
        .read_text(encoding="utf-8")
    )
    if channel != "email":
        return "", source.strip("\n")
    first, _, rest = source.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"default template {step}/{channel}.j2 must start with 'Subject:'")
    return first.removeprefix("Subject:").strip(), rest.strip("\n")
