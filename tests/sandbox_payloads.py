"""Templates that try to make a render slow or huge, one per way of growing the work, with
a part of the reason each is refused for.

Shared by the sandbox tests (tests/preflight/test_sandbox.py, the API and load tests) and
the benchmark (tests/bench/sandbox_bench.py).
"""

from __future__ import annotations

#: The hardening issue's payloads, verbatim: before the sandbox counted work, the first
#: took 38 s to save and stalled every other request, the second 5.4 s, the next two
#: took 496 and 592 MiB, the last one printed the template object.
ISSUE_PAYLOADS: dict[str, tuple[str, str]] = {
    "power chain": (
        "{% set a = 9**64 %}{% set b = a**64 %}{% set c = b**64 %}{% set d = c**64 %}"
        "Hi{{ '' if d else '' }}",
        "number would be too large",
    ),
    "sort in a loop": (
        "{% for i in 'x'*2000 %}{{ '' if ('y'*2000)|list|sort|unique|list else '' }}{% endfor %}",
        "too much work",
    ),
    "format width": ("{{ '%0100000000d' % 1 }}", "format field is wider than"),
    "join": ("{{ ('a'*20000)|list|join('b'*20000) }}", "list would be too large"),
    "self": ("{{ self }}", '"self" is not available'),
}

#: More of the same, each accepted (or answered 500) before: growth the ``*``/``**``
#: guards did not see, work that is not the output's size, and source that breaks the
#: parser or the compiler. Each is cheap enough on the old code to fail fast there.
MORE_PAYLOADS: dict[str, tuple[str, str]] = {
    "multiplication chain": (
        "{% set a = 9**64 %}{% set b = a * a %}{% set c = b * b %}{% set d = c * c %}"
        "{{ '' if d else '' }}",
        "number would be too large",
    ),
    "addition of texts": (
        "{% set a = 'x'*20000 %}{% set b = a + a %}{{ '' if b else '' }}",
        "text would be too long",
    ),
    "concatenation": (
        "{% set a = 'x'*20000 %}{% set b = a ~ a ~ a ~ a %}{{ '' if b else '' }}",
        "text would be too long",
    ),
    "repeated list": (
        "{% set a = ['x'*10000] * 20000 %}{{ '' if a else '' }}",
        "repetition would produce a too large value",
    ),
    "nested literals": (
        "{% set a = ['x'*20000, 'x'*20000] %}{% set b = [a, a] %}{{ '' if b else '' }}",
        "list would be too large",
    ),
    "ljust": ("{{ '' if 'x'.ljust(10**7) else '' }}", "calling .ljust() is not allowed"),
    "center": ("{{ '' if 'x'.center(10**7) else '' }}", "calling .center() is not allowed"),
    "zfill": ("{{ '' if 'x'.zfill(10**7) else '' }}", "calling .zfill() is not allowed"),
    "replace": (
        "{{ '' if ('x'*20000).replace('x', 'y'*500) else '' }}",
        "calling .replace() is not allowed",
    ),
    "str.format": (
        "{{ '' if '{:>10000000}'.format(1) else '' }}",
        "calling .format() is not allowed",
    ),
    "round precision": ("{{ 5|round(-1000000) }}", "round's precision"),
    "sum of lists": ("{{ '' if ([[1]] * 5000)|sum(start=[]) else '' }}", "sum adds numbers"),
    "long loop": (
        "{% for i in 'x'*20000 %}" + "{% if i %}{% endif %}" * 10 + "{% endfor %}",
        "too much work",
    ),
    "big work in a loop": (
        "{% for i in 'x'*20000 %}{{ '' if 'y'*19999 else '' }}{% endfor %}",
        "too much work",
    ),
    "big comparisons in a loop": (
        "{% set a = ('x'*9000)|list %}{% set b = ('x'*9000)|list %}"
        "{% for i in a[:2000] %}{{ '' if a == b else '' }}{% endfor %}",
        "too much work",
    ),
    "slices in a loop": (
        "{% set s = 'x'*20000 %}{% for i in s[:5000] %}{{ '' if s[::-1] else '' }}{% endfor %}",
        "too much work",
    ),
    "deep parentheses": ("{{ " + "(" * 500 + "1" + ")" * 500 + " }}", "nested too deeply"),
    "deep ifs": ("{% if 1 %}" * 300 + "x" + "{% endif %}" * 300, "nested too deeply"),
    "long operator chain": ("{{ 1" + " + 1" * 2000 + " }}", "nested too deeply"),
    "long filter chain": ("{{ 1" + "|abs" * 1000 + " }}", "nested too deeply"),
    "huge number literal": ("{{ " + "9" * 5000 + " }}", "too many digits"),
    "undefined folded at compile time": ("{{ (9)[1:] and 1 }}", "unknown value"),
    "too many elements": ("{{contact.name}}" * 600, "too complex"),
    "self in a print tag": ("{% print self %}", '"self" is not available'),
}

PAYLOADS: dict[str, tuple[str, str]] = {**ISSUE_PAYLOADS, **MORE_PAYLOADS}

#: Valid with the sample context, too much work with a specific point as long as the API
#: accepts (2,000 characters): refused when previewed or scheduled for a contact with
#: such notes, not when saved.
DATA_HEAVY_BODY = (
    "Dear {{ contact.name }},\n"
    "{% for t in notes.topics %}"
    "{{ '' if (notes.specific_point * 4)|list|sort|unique|list else '' }}"
    "{% endfor %}"
    "Thank you for {{ notes.specific_point }}."
)
HEAVY_NOTES = {"specific_point": "p" * 2000, "topics": "budgets, hiring, roadmap"}


def too_heavy(reasons: list[str]) -> bool:
    """Whether a 422's reasons say the render ran out of its budget: of steps, or first of
    its wall-clock time (on a loaded machine the steps go slower). The same refusal."""
    said = " | ".join(reasons)
    return "too much work" in said or "takes too long to render" in said
