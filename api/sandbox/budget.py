"""What a render may cost: the bounds on any value, and the budget of steps and seconds.

The sizes are measured here (``measure``, ``weight``); every guard of the sandbox charges
the current render's :class:`Budget` through ``charge``. The budget of the render in
progress is in a context variable: each thread (each request, the worker) has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from time import monotonic
from typing import Any

from jinja2.exceptions import SecurityError

#: Longest string any operation may build (the rendered-field bound as well).
MAX_TEXT = 20_000
#: Largest container: its items plus their characters, nested ones included.
MAX_WEIGHT = 20_000
#: Largest integer (1024 bits is 309 decimal digits).
MAX_INT_BITS = 1024
#: Widest ``%`` format field and largest ``round`` precision / method argument.
MAX_FORMAT_WIDTH = 100
MAX_ARGUMENT = 100
#: Steps one render (or one field's validation) may take, and its wall-clock budget. A step
#: is about a microsecond of work: an operation, a filter call, an item a filter handles in
#: Python, a node of a loop's body per iteration, 10 items or 100 characters of a value
#: built, compared or looked through, 10 characters a regex goes through.
WORK_STEPS = 50_000
RENDER_SECONDS = 0.5
CHARS_PER_STEP = 100
WEIGHT_PER_STEP = 10


class TooMuchWork(SecurityError):
    """A render went over its steps or its deadline."""


class Budget:
    """The steps and the deadline of one render (or of one template's validation)."""

    __slots__ = ("deadline", "left", "seconds", "steps")

    def __init__(self, steps: int = WORK_STEPS, seconds: float = RENDER_SECONDS) -> None:
        self.steps, self.seconds = steps, seconds
        self.left = steps
        self.deadline = monotonic() + seconds

    def charge(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise TooMuchWork(
                f"the template does too much work (more than {self.steps} steps); simplify it"
            )
        if monotonic() > self.deadline:
            raise TooMuchWork(f"the template takes too long to render (over {self.seconds} s)")


BUDGET: ContextVar[Budget | None] = ContextVar("touchbase_template_budget", default=None)


class metered:
    """Charge the renders inside to ``budget`` (a fresh one by default).

    Outside, the size bounds still hold but nothing is counted (constant folding at
    compile time runs there, on values no larger than the source). A class rather than
    a generator-based context manager: it runs twice per rendered message."""

    __slots__ = ("budget", "token")

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()

    def __enter__(self) -> Budget:
        self.token = BUDGET.set(self.budget)
        return self.budget

    def __exit__(self, *exc_info: object) -> None:
        BUDGET.reset(self.token)


def charge(steps: int) -> None:
    budget = BUDGET.get()
    if budget is not None:
        budget.charge(steps)


# -- sizes ------------------------------------------------------------------------------------


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_SCALARS = frozenset({int, float, bool, type(None)})


def weight(value: Any, limit: int = MAX_WEIGHT) -> int:
    """Items plus characters in ``value``, nested containers counted at each reference;
    stops counting past ``limit`` (returns ``limit + 1``), so it costs at most that."""
    if isinstance(value, str):
        return len(value) + 1
    if not isinstance(value, list | tuple | dict):
        return 1
    if not isinstance(value, dict):  # a flat list of strings or numbers: counted in C
        kinds = set(map(type, value))
        if kinds == {str}:
            return 1 + len(value) + sum(map(len, value))
        if kinds <= _SCALARS:
            return 1 + len(value)
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        total += 1
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        if total > limit:
            return limit + 1
    return total


def text_size(value: Any) -> int:
    """An upper bound on ``len(str(value))`` for a value within the bounds."""
    if isinstance(value, str):
        return len(value)
    if is_int(value):
        return value.bit_length() * 3 // 10 + 2
    return 6 * weight(value) + 330  # repr's quotes and escapes; a float's digits


def too_large(what: str) -> SecurityError:
    return SecurityError(what)


def text_too_long() -> SecurityError:
    return SecurityError(f"the text would be too long (over {MAX_TEXT} characters)")


def measure(value: Any) -> int:
    """The steps ``value`` is worth (to build, compare or look through), refusing it when
    it is over the bounds."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise text_too_long()
        return 1 + len(value) // CHARS_PER_STEP
    if is_int(value):
        if value.bit_length() > MAX_INT_BITS:
            raise too_large(f"the number would be too large (over {MAX_INT_BITS} bits)")
        return 1
    if isinstance(value, list | tuple | dict):
        size = weight(value)
        if size > MAX_WEIGHT:
            raise too_large(f"the list would be too large (over {MAX_WEIGHT} items and characters)")
        return 1 + size // WEIGHT_PER_STEP
    return 1


def materialized(value: Any) -> Any:
    """Iterators (what map, select, unique ... return) as lists, no longer than the bound."""
    if not isinstance(value, Iterator):
        return value
    items = []
    for item in value:
        items.append(item)
        if len(items) > MAX_WEIGHT:
            raise too_large(f"the list would be too large (over {MAX_WEIGHT} items)")
    charge(1 + len(items) // WEIGHT_PER_STEP)
    return items


def checked(value: Any) -> Any:
    """``value`` after it is charged; refused when over the bounds."""
    value = materialized(value)
    charge(measure(value))
    return value
