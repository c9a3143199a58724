"""Whatever a template holds, saving it answers issues or nothing, never an exception, and
a saved one renders or fails with a TemplateRenderError, in well under a second.

Templates are drawn from a small grammar of the constructs a message template may use
(and a few it may not), over values chosen to be large, empty or of the wrong type.
"""

from __future__ import annotations

import contextlib
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.templating import TemplateRenderError, build_context, render, validate_template

ATOMS = st.sampled_from(
    [
        "'x'",
        "'ab'",
        "''",
        "9",
        "20000",
        "-3",
        "1.5",
        "1e308",
        "True",
        "None",
        "[1, 2]",
        "{'k': 'v'}",
        "(1, 'x')",
        "a",
        "b",
        "notes.topics",
        "notes.specific_point",
        "contact.name",
    ]
)
OPERATORS = st.sampled_from(["+", "-", "*", "**", "/", "//", "%", "~", "==", "<", "in", "and"])
FILTERS = st.sampled_from(
    [
        "list",
        "join",
        "join('-')",
        "sort",
        "unique",
        "map('upper')",
        "sum",
        "round(2)",
        "int",
        "string",
        "length",
        "first",
        "select('string')",
        "title",
        "wordcount",
        "truncate(5)",
        "reverse",
        "max",
        "default('z')",
        "trim",
    ]
)
SUFFIXES = st.sampled_from(
    [".split()", ".upper()", ".strip()", ".startswith('a')", "[0]", "[::-1]", "[1:]"]
)


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda x, op, y: f"({x} {op} {y})", inner, OPERATORS, inner),
        st.builds(lambda x, f: f"{x}|{f}", inner, FILTERS),
        st.builds(lambda x, s: f"({x}){s}", inner, SUFFIXES),
        st.builds(lambda x, y: f"[{x}, {y}]", inner, inner),
        st.builds(lambda x, c, y: f"({x} if {c} else {y})", inner, inner, inner),
    )


EXPRESSIONS = st.recursive(ATOMS, _compound, max_leaves=12)


def _statement(in_loop: bool) -> st.SearchStrategy[str]:
    simple = st.one_of(
        st.builds(lambda n, e: f"{{% set {n} = {e} %}}", st.sampled_from("ab"), EXPRESSIONS),
        st.builds(lambda e: f"{{{{ {e} }}}}", EXPRESSIONS),
        st.builds(lambda e: f"{{{{ '' if {e} else '' }}}}", EXPRESSIONS),
        st.builds(
            lambda c, e: f"{{% if {c} %}}{{{{ {e} }}}}{{% endif %}}", EXPRESSIONS, EXPRESSIONS
        ),
    )
    if in_loop:
        return simple
    loop = st.builds(
        lambda it, body: f"{{% for i in {it} %}}{''.join(body)}{{% endfor %}}",
        EXPRESSIONS,
        st.lists(simple, min_size=1, max_size=3),
    )
    return st.one_of(simple, loop)


TEMPLATES = st.lists(_statement(False), min_size=1, max_size=6).map(
    lambda parts: "{% set a = 'aa' %}{% set b = 3 %}" + "".join(parts)
)
REAL_NOTES = build_context(
    notes={
        "topics": ",".join(f"topic {i}" for i in range(211)),
        "specific_point": "p" * 2000,
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEMPLATES)
def test_any_template_is_refused_or_renders_in_well_under_a_second(source):
    started = time.perf_counter()

    issues = validate_template("", source)
    if not issues:
        with contextlib.suppress(TemplateRenderError):  # refused for the real notes: fine
            render("", source, REAL_NOTES)

    assert time.perf_counter() - started < 1.0
