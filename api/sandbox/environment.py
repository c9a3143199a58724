"""The sandboxed environment, its code generator, and what a template may call."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, operators, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from api.sandbox.budget import (
    BUDGET,
    CHARS_PER_STEP,
    MAX_ARGUMENT,
    MAX_TEXT,
    charge,
    checked,
    measure,
    text_too_long,
    weight,
)
from api.sandbox.guards import check_binop, guard, to_text

ALLOWED_FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "default",
        "first",
        "float",
        "int",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "map",
        "max",
        "min",
        "reject",
        "rejectattr",
        "reverse",
        "round",
        "select",
        "selectattr",
        "sort",
        "string",
        "sum",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "wordcount",
    }
)
#: Methods a template may call: cheap ones whose result is no larger than their object.
CALLABLE_METHODS = frozenset(
    {
        "capitalize",
        "endswith",
        "lower",
        "lstrip",
        "rsplit",
        "rstrip",
        "split",
        "startswith",
        "strip",
        "title",
        "upper",
        # on ``loop`` inside a for loop
        "changed",
        "cycle",
    }
)
_LOOP_METHODS = frozenset({"changed", "cycle"})


# -- code generation --------------------------------------------------------------------------


_ITER_HOOK = "sandbox_iter"


def _is_counted(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.EnvironmentAttribute)
        and node.node.name == _ITER_HOOK
    )


class _SandboxCodeGenerator(CodeGenerator):
    """Routes through the environment what Jinja compiles to plain Python: ``~``,
    comparisons, slices, list/tuple/dict literals, and each loop's items."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # Each loop's iterable becomes environment.sandbox_iter(iterable, cost): a node
        # no template source can produce (Jinja forbids custom node types).
        for loop in node.find_all(nodes.For):
            if not _is_counted(loop.iter):
                parts = [*loop.body, *loop.else_, *([loop.test] if loop.test else [])]
                cost = 1 + sum(1 + sum(1 for _ in part.find_all(nodes.Node)) for part in parts)
                hook = nodes.EnvironmentAttribute(_ITER_HOOK, lineno=loop.iter.lineno)
                args = [loop.iter, nodes.Const(cost, lineno=loop.iter.lineno)]
                loop.iter = nodes.Call(hook, args, [], None, None, lineno=loop.iter.lineno)
        super().visit_Template(node, frame)

    def visit_Call(self, node: nodes.Call, frame: Frame, **kwargs: Any) -> None:
        if not _is_counted(node):
            super().visit_Call(node, frame, **kwargs)
            return
        self.write(f"environment.{_ITER_HOOK}(")
        for arg in node.args:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")")

    @optimizeconst
    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        # (a == b in c): each side charged as it is evaluated, chaining kept
        self.write("(environment.sandbox_operand(")
        self.visit(node.expr, frame)
        self.write(")")
        for op in node.ops:
            self.visit(op, frame)
        self.write(")")

    def visit_Operand(self, node: nodes.Operand, frame: Frame) -> None:
        self.write(f" {operators[node.op]} environment.sandbox_operand(")
        self.visit(node.expr, frame)
        self.write(")")

    @optimizeconst
    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):  # the rest goes through getitem already
            super().visit_Getitem(node, frame)
            return
        self.write("environment.sandbox_slice(")  # Jinja writes obj[a:b:c] as it is
        self.visit(node.node, frame)
        for part in (node.arg.start, node.arg.stop, node.arg.step):
            self.write(", ")
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
        self.write(")")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.sandbox_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _literal(self, visit: Callable[[Any, Frame], None], node: Any, frame: Frame) -> None:
        if getattr(node, "ctx", "load") != "load":
            visit(node, frame)
            return
        self.write("environment.sandbox_value(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._literal(super().visit_List, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        self._literal(super().visit_Tuple, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._literal(super().visit_Dict, node, frame)


# -- the environment --------------------------------------------------------------------------


class SandboxEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with every operator, call, filter, output and loop bounded."""

    code_generator_class = _SandboxCodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.clear()
        filters, tests = self.filters, self.tests
        self.filters = {n: guard(n, f) for n, f in filters.items() if n in ALLOWED_FILTERS}
        self.tests = {n: guard(n, f, is_filter=False) for n, f in tests.items()}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        check_binop(operator, left, right)
        return checked(super().call_binop(context, operator, left, right))

    def call_unop(self, context: Any, operator: str, arg: Any) -> Any:
        charge(1)
        return super().call_unop(context, operator, arg)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if type(argument) is int or (type(argument) is str and len(argument) <= CHARS_PER_STEP):
            return super().getitem(obj, argument)
        # a long key is hashed character by character, a tuple item by item
        charge(measure(argument))
        return checked(super().getitem(obj, argument))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(__obj, Undefined):
            return __obj()  # raises its own error: "'int object' has no attribute 'strip'"
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", None)
        if isinstance(__obj, types.BuiltinMethodType) and isinstance(owner, str):
            allowed = name in CALLABLE_METHODS and name not in _LOOP_METHODS
        elif isinstance(__obj, types.MethodType) and isinstance(owner, LoopContext):
            allowed = name in _LOOP_METHODS
        else:
            allowed = False
        if not allowed:
            what = f".{name}()" if isinstance(name, str) else "this"
            raise SecurityError(f"calling {what} is not allowed in a message template")
        for arg in (*args, *kwargs.values()):
            if weight(arg, MAX_ARGUMENT) > MAX_ARGUMENT:
                raise SecurityError(f"an argument of .{name}() is too long")
        charge(measure(owner))
        return checked(__context.call(__obj, *args, **kwargs))

    def sandbox_iter(self, iterable: Any, cost: int) -> Iterator[Any]:
        """A loop's items, each charged the loop body's static cost."""
        budget = BUDGET.get()
        for item in iterable:
            if budget is not None:
                budget.charge(cost)
            yield item

    def sandbox_concat(self, values: tuple) -> str:
        """``a ~ b ~ c``, refused before joining when the text would be too long."""
        parts = []
        size = 0
        for value in values:
            text = to_text(value)
            size += len(text)
            if size > MAX_TEXT:
                raise text_too_long()
            parts.append(text)
        charge(1 + size // CHARS_PER_STEP)
        return "".join(parts)

    def sandbox_slice(self, obj: Any, start: Any, stop: Any, step: Any) -> Any:
        """``obj[start:stop:step]``: a copy, charged for its size."""
        return checked(obj[start:stop:step])

    def sandbox_operand(self, value: Any) -> Any:
        """One side of a comparison (``==``, ``<``, ``in`` ...), charged for its size."""
        charge(measure(value))
        return value

    def sandbox_value(self, value: Any) -> Any:
        """A list, tuple or dict literal: nesting cannot grow a value past the bounds."""
        return checked(value)
