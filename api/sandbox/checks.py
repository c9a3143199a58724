"""Static checks of a template's source: what it may contain, how big and how deep.

Run when a template is saved, before it is compiled or rendered: only the constructs a
message needs (a whitelist of node types), no macros, includes, nested or recursive loops,
no Jinja specials (``self``), calls only of :data:`api.sandbox.CALLABLE_METHODS`, at most
:data:`MAX_NODES` nodes nested at most :data:`MAX_DEPTH` deep. The depth bound keeps Jinja's
recursive code generator and Python's compiler within their limits (and the node bound the
compile time, one C call); a parse that still recurses too deeply is reported, not raised.
"""

from __future__ import annotations

from jinja2 import Environment, TemplateSyntaxError, nodes

from api.sandbox.environment import CALLABLE_METHODS

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "compile_issue",
    "parse",
    "structure_issues",
    "syntax_reason",
]

#: Nodes in a template's syntax tree (the longest default template has 64).
MAX_NODES = 1_000
#: Nesting of the syntax tree (the default templates reach 6).
MAX_DEPTH = 40

_TOO_DEEP = f"the template is nested too deeply (more than {MAX_DEPTH} levels)"

# Why a construct is refused, for those a user may well try.
_REFUSED: dict[type[nodes.Node], str] = {
    nodes.Macro: "macros ({% macro %}) are not supported in message templates",
    nodes.CallBlock: "call blocks ({% call %}) are not supported in message templates",
    nodes.Include: "including other templates is not supported",
    nodes.Import: "importing other templates is not supported",
    nodes.FromImport: "importing other templates is not supported",
    nodes.Extends: "extending other templates is not supported",
    nodes.Block: "blocks ({% block %}) are not supported in message templates",
    nodes.AssignBlock: "block assignments ({% set x %}...{% endset %}) are not supported; "
    "use {% set x = ... %}",
    nodes.FilterBlock: "filter blocks ({% filter %}) are not supported; use {{ ... | filter }}",
    nodes.ScopedEvalContextModifier: "{% autoescape %} is not supported in message templates",
    nodes.Scope: "{% autoescape %} is not supported in message templates",  # what wraps it
    nodes.NSRef: "namespace assignments (set ns.x) are not supported in message templates",
}
# Everything a message template may hold; anything else is refused.
_ALLOWED: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.For,
    nodes.Assign,
    nodes.With,
    nodes.Name,
    nodes.Const,
    nodes.Tuple,
    nodes.List,
    nodes.Dict,
    nodes.Pair,
    nodes.Keyword,
    nodes.CondExpr,
    nodes.Filter,
    nodes.Test,
    nodes.Call,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Concat,
    nodes.Compare,
    nodes.Operand,
    nodes.BinExpr,
    nodes.UnaryExpr,
)
# Names Jinja gives a meaning of its own; none is part of a message's namespace.
_SPECIAL_NAMES = ("self", "super", "caller", "varargs", "kwargs")


def syntax_reason(exc: TemplateSyntaxError) -> str:
    where = f" on line {exc.lineno}" if exc.lineno else ""
    return f"syntax error{where}: {exc.message}"


def parse(env: Environment, source: str) -> tuple[nodes.Template | None, str | None]:
    """The syntax tree, or why the source cannot be parsed."""
    try:
        return env.parse(source), None
    except TemplateSyntaxError as exc:
        return None, syntax_reason(exc)
    except (RecursionError, MemoryError):
        return None, _TOO_DEEP
    except ValueError as exc:  # the lexer's int(): more than 4300 digits
        if "digits" in str(exc):
            return None, "a number in the template has too many digits"
        return None, f"the template cannot be read ({exc})"


def compile_issue(exc: BaseException) -> str | None:
    """The reason for an error compiling a checked tree, or None if it is not one of ours."""
    if isinstance(exc, RecursionError | MemoryError):
        return _TOO_DEEP
    if isinstance(exc, SyntaxError) and not isinstance(exc, TemplateSyntaxError):
        return f"the template is too complex to compile ({exc.msg})"
    return None


def structure_issues(ast: nodes.Template) -> list[str]:
    """Reasons this tree may not be a message template; [] if it may."""
    reasons: list[str] = []

    def add(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    count = 0
    stack: list[tuple[nodes.Node, int, bool]] = [(ast, 0, False)]
    while stack:  # iterative: a deep tree must not make this walk recurse
        node, depth, in_loop = stack.pop()
        count += 1
        if count > MAX_NODES:
            add(f"the template is too complex (more than {MAX_NODES} elements)")
            break
        if depth > MAX_DEPTH:
            add(_TOO_DEEP)
            break
        refused = _node_issue(node, in_loop)
        if refused:
            add(refused)
            continue  # one reason per construct, not one per node inside it
        if isinstance(node, nodes.For):
            for child in node.iter_child_nodes(only=("target", "iter", "test")):
                stack.append((child, depth + 1, in_loop))
            for child in node.iter_child_nodes(only=("body", "else_")):
                stack.append((child, depth + 1, True))
        else:
            stack.extend((child, depth + 1, in_loop) for child in node.iter_child_nodes())
    return reasons


def _node_issue(node: nodes.Node, in_loop: bool) -> str | None:
    for node_type, reason in _REFUSED.items():
        if isinstance(node, node_type):
            return reason
    if not isinstance(node, _ALLOWED):
        return f"{type(node).__name__} is not supported in message templates"
    if isinstance(node, nodes.For):
        if node.recursive:
            return "recursive loops are not supported in message templates"
        if in_loop:
            return "loops inside loops are not supported in message templates"
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name in _SPECIAL_NAMES:
        return f'"{node.name}" is not available in message templates'
    if isinstance(node, nodes.Call | nodes.Filter | nodes.Test) and (
        node.dyn_args is not None or node.dyn_kwargs is not None
    ):
        return "*args and **kwargs are not supported in message templates"
    if isinstance(node, nodes.Call):
        method = node.node.attr if isinstance(node.node, nodes.Getattr) else None
        if method not in CALLABLE_METHODS:
            if method:
                called = f".{method}()"
            elif isinstance(node.node, nodes.Name):
                called = f"{node.node.name}()"
            else:
                called = "this"
            return (
                f"calling {called} is not allowed in message templates; use a filter, or one "
                "of the methods " + ", ".join(f".{m}()" for m in sorted(CALLABLE_METHODS))
            )
    return None
