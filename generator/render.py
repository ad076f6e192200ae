"""Jinja templates → module sources. Templates only lay out what the IR already decided."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import cache_dir
from .naming import py_literal

if TYPE_CHECKING:  # jinja (and the IR) are imported when a template is rendered: a no-op run only lists templates
    from jinja2 import Environment, FileSystemBytecodeCache

    from . import ir

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# template (relative to templates/) → output path (relative to the package)
OUTPUTS = (
    ("package_init.py.jinja", "__init__.py"),
    ("models/__init__.py.jinja", "models/__init__.py"),
    ("server/__init__.py.jinja", "server/__init__.py"),
    ("server/handlers.py.jinja", "server/handlers.py"),
    ("server/routes.py.jinja", "server/routes.py"),
    ("server/_spec.py.jinja", "server/_spec.py"),
    ("client/__init__.py.jinja", "client/__init__.py"),
    ("client/resources.py.jinja", "client/resources.py"),
    ("client/_spec.py.jinja", "client/_spec.py"),
    ("pyproject.toml.jinja", "pyproject.toml"),  # the package installable as it is: `pip install generated/<package>`
)
RUNTIME = Path(__file__).resolve().parent / "runtime"  # copied verbatim: server/ and client/ beside the rendered


def runtime_files() -> dict[str, str]:
    """The runtime modules as they go into every package (`server/problems.py`, `client/_base.py`, …): all of
    generator/runtime but its package files and the `_spec.py` stand-ins, which the templates render."""
    return {f"{path.parent.name}/{path.name}": path.read_text(encoding="utf-8")
            for path in sorted(RUNTIME.glob("*/*.py")) if path.name not in ("__init__.py", "_spec.py")}


def _py_tuple(value: object) -> str:
    """A Python literal of nested tuples for requirement lists and IR records (their fields in order), so routes
    hold immutable data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.astuple(value)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_py_tuple(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return py_literal(value)


def _urlquote_path(py_path: str) -> str:
    """`/items/{item_id}` → `/items/{_base.quote(str(item_id), safe='')}`: path values are always percent-encoded."""
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", r"{_base.quote(str(\1), safe='')}", py_path)


def _doc(text: object) -> str:
    """Text safe inside a triple-quoted docstring: no backslash escapes, no closing quotes."""
    return str(text).replace("\\", "\\\\").replace('"""', '\\"\\"\\"').rstrip('"')


PARAGRAPH_WIDTH = 116
UNWRAPPED_WHITESPACE = re.compile(r"[\t\n\x0b\x0c\r]")  # what textwrap turns into spaces


def _paragraph(text: object, indent: str) -> str:
    """Docstring prose wrapped to the line length at `indent`, made safe like `doc`. Most prose fits on its
    line as it is, which is what textwrap would give: only the rest is wrapped (thousands in a big API)."""
    import textwrap

    safe = _doc(text)
    if len(indent) + len(safe) <= PARAGRAPH_WIDTH and safe == safe.strip() and not UNWRAPPED_WHITESPACE.search(safe):
        return safe
    return textwrap.fill(safe, width=PARAGRAPH_WIDTH, initial_indent=indent, subsequent_indent=indent).lstrip(" ")


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    import json

    return json.dumps(text, ensure_ascii=False)


def _compiled_templates() -> FileSystemBytecodeCache | None:
    """Compiling the templates costs more than rendering them; jinja keys each by its source's checksum."""
    from jinja2 import FileSystemBytecodeCache

    folder = cache_dir("jinja")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return FileSystemBytecodeCache(str(folder))


def environment(templates: Path = TEMPLATES) -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(templates)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_compiled_templates(),
    )
    env.filters["pytuple"] = _py_tuple
    env.filters["py"] = py_literal
    env.filters["doc"] = _doc
    env.filters["paragraph"] = _paragraph
    env.filters["urlquote_path"] = _urlquote_path
    env.filters["toml"] = _toml_string
    return env


def render(api: ir.Api, templates: Path = TEMPLATES) -> dict[str, str]:
    env = environment(templates)
    outputs = OUTPUTS + ((("models/literals.py.jinja", f"models/{api.literals_module}.py"),) if api.literals else ())
    rendered = {output: env.get_template(template).render(api=api) for template, output in outputs}
    return {**runtime_files(), "py.typed": "", **rendered}  # py.typed (PEP 561): installed, it is still type-checked


def template_files(templates: Path = TEMPLATES) -> list[Path]:
    return sorted(p for p in templates.rglob("*.jinja") if p.is_file())
