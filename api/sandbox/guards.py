"""The guards: operators, filters and tests refused before they would build a value over
the bounds, and charged for what they handle and build."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Undefined
from jinja2.utils import _PassArg  # how Jinja tells which argument a filter wants

from api.sandbox.budget import (
    MAX_ARGUMENT,
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_TEXT,
    MAX_WEIGHT,
    charge,
    checked,
    is_int,
    materialized,
    measure,
    text_size,
    text_too_long,
    too_large,
    weight,
)

# -- operators --------------------------------------------------------------------------------

# %[(key)][flags][width][.precision][length]type
_FORMAT_SPEC = re.compile(r"%(?:\(([^)]*)\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.?)", re.S)


def _check_format(template: str, args: Any) -> None:
    """``str % args``: refuse wide fields and results that would be too long, before."""
    size = len(template)
    index = 0
    for match in _FORMAT_SPEC.finditer(template):
        key, width, precision, conversion = match.groups()
        if conversion == "%":
            continue
        for number in (width, precision):
            if number == "*":
                raise SecurityError("'*' field widths are not supported in '%' formatting")
            if number and (len(number) > 3 or int(number) > MAX_FORMAT_WIDTH):
                raise SecurityError(f"a '%' format field is wider than {MAX_FORMAT_WIDTH}")
        if key is not None and isinstance(args, Mapping):
            arg = args.get(key)
        elif isinstance(args, tuple):
            arg = args[index] if index < len(args) else None
            index += 1
        else:
            arg = args
        size += int(width or 0) + int(precision or 0) + text_size(arg)
        if size > MAX_TEXT:
            raise text_too_long()


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse, from the operands' sizes, an operation whose result would be too large."""
    if operator == "**":
        big = is_int(left) and is_int(right) and right > 1 and abs(left) > 1
        if big and (right > MAX_INT_BITS or (left.bit_length() - 1) * right > MAX_INT_BITS):
            raise too_large(f"the number would be too large (over {MAX_INT_BITS} bits)")
    elif operator == "*":
        if is_int(left) and is_int(right):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
                raise too_large(f"the number would be too large (over {MAX_INT_BITS} bits)")
            return
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and is_int(times) and times > 1:
                size = len(seq) if isinstance(seq, str) else weight(seq)
                if size * times > (MAX_TEXT if isinstance(seq, str) else MAX_WEIGHT):
                    raise too_large("the repetition would produce a too large value")
    elif operator == "+":
        if isinstance(left, str) and isinstance(right, str) and len(left) + len(right) > MAX_TEXT:
            raise text_too_long()
        sequences = isinstance(left, list | tuple) and isinstance(right, list | tuple)
        if sequences and weight(left) + weight(right) > MAX_WEIGHT:
            raise too_large(f"the list would be too large (over {MAX_WEIGHT} items)")
    elif operator == "%" and isinstance(left, str):
        _check_format(left, right)


def to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | dict) and weight(value) > MAX_WEIGHT:
        raise too_large(f"the list would be too large (over {MAX_WEIGHT} items)")
    return str(value)


# -- filters ----------------------------------------------------------------------------------


def _argument(args: tuple, kwargs: dict, position: int, name: str, default: Any) -> Any:
    if len(args) > position:
        return args[position]
    return kwargs.get(name, default)


def _check_join(value: Any, *args: Any, **kwargs: Any) -> None:
    separator = to_text(_argument(args, kwargs, 0, "d", ""))
    attribute = _argument(args, kwargs, 1, "attribute", None)
    if isinstance(value, dict):
        items: Any = list(value)
    elif isinstance(value, list | tuple | str):
        items = value
    elif isinstance(value, Undefined):
        return  # join itself raises the undefined error
    else:
        raise SecurityError("join joins a list or a text")
    # with an attribute, what is joined is somewhere inside the items
    size = 6 * weight(value) if attribute else sum(text_size(item) for item in items)
    if size + len(separator) * max(0, len(items) - 1) > MAX_TEXT:
        raise too_large(f"the joined text would be too long (over {MAX_TEXT} characters)")


def _check_round(value: Any, *args: Any, **kwargs: Any) -> None:
    precision = _argument(args, kwargs, 0, "precision", 0)
    if is_int(precision) and abs(precision) > MAX_ARGUMENT:
        raise SecurityError(f"round's precision must be between -{MAX_ARGUMENT} and {MAX_ARGUMENT}")


def _check_trim(value: Any, *args: Any, **kwargs: Any) -> None:
    chars = _argument(args, kwargs, 0, "chars", None)
    if isinstance(chars, str) and len(chars) > MAX_ARGUMENT:
        raise SecurityError(f"trim's characters must be at most {MAX_ARGUMENT}")


def _check_sum(value: Any, *args: Any, **kwargs: Any) -> None:
    start = _argument(args, kwargs, 1, "start", 0)
    if not isinstance(start, int | float):
        raise SecurityError("sum adds numbers only")


_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "join": _check_join,
    "round": _check_round,
    "trim": _check_trim,
    "sum": _check_sum,
}


# Filters that handle each item in Python (or call a test, a filter or a getter per item),
# and those that run a regex over the text and handle each word in Python.
_PER_ITEM_FILTERS = frozenset(
    {"map", "max", "min", "reject", "rejectattr", "select", "selectattr", "sort", "sum", "unique"}
)
_PER_WORD_FILTERS = frozenset({"title", "wordcount"})
_REGEX_CHARS_PER_STEP = 10


def guard(name: str, func: Callable[..., Any], *, is_filter: bool = True) -> Callable[..., Any]:
    """The filter (or test), charged for its input, arguments and output and refused when
    any is too large.

    Marked ``pass_context`` so that Jinja never runs it at compile time (outside any
    budget) to fold constants."""
    passes = _PassArg.from_obj(func)
    check = _FILTER_CHECKS.get(name) if is_filter else None
    per_item = is_filter and name in _PER_ITEM_FILTERS
    per_word = is_filter and name in _PER_WORD_FILTERS

    @pass_context
    def guarded(context: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        value = materialized(value)
        steps = measure(value)
        for arg in (*args, *kwargs.values()):
            steps += measure(arg)
        if per_item and isinstance(value, str | list | tuple | dict):
            steps += len(value)
        if per_word and isinstance(value, str):
            steps += len(value) // _REGEX_CHARS_PER_STEP
        if check is not None:
            check(value, *args, **kwargs)
        charge(steps)
        if passes is _PassArg.context:
            result = func(context, value, *args, **kwargs)
        elif passes is _PassArg.eval_context:
            result = func(context.eval_ctx, value, *args, **kwargs)
        elif passes is _PassArg.environment:
            result = func(context.environment, value, *args, **kwargs)
        else:
            result = func(value, *args, **kwargs)
        return checked(result) if is_filter else result

    guarded.__name__ = guarded.__qualname__ = f"sandboxed_{name}"
    return guarded
