"""The template sandbox: every step of a render is small, counted, and on a clock.

Jinja's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` keeps a template from
reaching outside (unsafe attributes, mutation), not from working too hard: one ``**`` on a
big integer, one ``join`` or ``'%0100000000d' % 1`` is a single C call that holds the GIL
for seconds, and every other request of the process waits. So here:

- no single operation may build a value over :data:`MAX_TEXT` characters,
  :data:`MAX_WEIGHT` items and characters, or :data:`MAX_INT_BITS` bits. The size is
  checked from the operands *before* the work wherever the work could be large (``*``,
  ``**``, ``+``, ``%``, ``~``, ``join``, ...), and on the result after it;
- every operation, filter call and loop iteration (at the static cost of the loop's body)
  is charged in steps to the render's :class:`Budget`, which also checks a wall-clock
  deadline at each charge. Since no step is large, the deadline holds even against code
  that holds the GIL, and a render in one thread leaves the others their turns;
- only a few cheap ``str`` methods (and ``loop.cycle``/``loop.changed``) may be called,
  and only the filters of :data:`ALLOWED_FILTERS`, each wrapped in the same checks.

The hooks: the sandbox's ``call_binop``/``call_unop``/``call``/``getitem``, the filters and
tests, and a code generator that routes through the environment what Jinja compiles to
plain Python: ``~`` (Concat), comparisons, slices, list/tuple/dict literals and each loop's
iterable. What ``{{ ... }}`` prints is then bounded by construction, and the rendered
field's length is checked as it is produced (``api.templating``). Measured in
``tests/bench/sandbox_bench.py``.

Modules: ``budget`` (the bounds, the sizes, the budget), ``guards`` (operators, filters,
tests), ``environment`` (the environment and its code generator), ``checks`` (what a
template's source may hold, checked when it is saved).
"""

from api.sandbox.budget import (
    MAX_INT_BITS,
    MAX_TEXT,
    MAX_WEIGHT,
    RENDER_SECONDS,
    WORK_STEPS,
    Budget,
    TooMuchWork,
    metered,
)
from api.sandbox.environment import ALLOWED_FILTERS, CALLABLE_METHODS, SandboxEnvironment

__all__ = [
    "ALLOWED_FILTERS",
    "CALLABLE_METHODS",
    "MAX_INT_BITS",
    "MAX_TEXT",
    "MAX_WEIGHT",
    "RENDER_SECONDS",
    "WORK_STEPS",
    "Budget",
    "SandboxEnvironment",
    "TooMuchWork",
    "metered",
]
