"""`touchbase plugin new NAME`: an installable channel plugin that passes its own tests.

The package it writes (``touchbase-NAME/``): ``pyproject.toml`` with the ``touchbase`` entry
point, ``touchbase_NAME.py`` (a channel POSTing each message as JSON to a URL: the shape
most providers take, and a few lines to change for the others), ``tests/`` with the
conformance kit and a loopback HTTP peer, and a README.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

#: A plugin name is a channel name that is also a Python identifier (the module's suffix).
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
RESERVED = frozenset({"email", "sms", "call", "manual"})

#: template file -> path in the package ({module} is the module's name).
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "channel.py.tmpl": "{module}.py",
    "conftest.py.tmpl": "tests/conftest.py",
    "test_channel.py.tmpl": "tests/test_{name}.py",
}


class ScaffoldError(ValueError):
    """The name or the target directory cannot be used; the message says why."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a plugin, or ``None``."""
    if not NAME_RE.match(name):
        return (
            f"{name!r} is not a plugin name: lower-case letters, digits and _, "
            "starting with a letter, at most 30 characters"
        )
    if name in RESERVED:
        return f"{name!r} is a built-in channel's name"
    return None


def values(name: str) -> dict[str, str]:
    """What the templates fill in for ``name``."""
    class_name = "".join(part.capitalize() for part in name.split("_") if part)
    return {
        "name": name,
        "module": f"touchbase_{name}",
        "class_name": class_name,
        "title": f"{class_name} (JSON over HTTP)",
    }


def scaffold(name: str, parent: Path) -> Path:
    """Write ``parent / touchbase-<name>`` and return it; :class:`ScaffoldError` if the
    name is unusable or the directory exists (nothing is overwritten)."""
    problem = name_problem(name)
    if problem:
        raise ScaffoldError(problem)
    target = Path(parent) / f"touchbase-{name}"
    if target.exists():
        raise ScaffoldError(f"{target} already exists; choose another name or directory")
    fill = values(name)
    source = resources.files(__package__)
    for template, path in FILES.items():
        text = Template(source.joinpath(template).read_text(encoding="utf-8")).substitute(fill)
        out = target / path.format(**fill)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return target
