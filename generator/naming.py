"""Python names for OpenAPI names. Decided here once; templates only print them."""

from __future__ import annotations

import builtins
import itertools
import keyword
import re
from collections.abc import Iterator

# Names a generated signature or attribute must not shadow.
RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) | {"self", "cls"}
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|\b|_)|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def words(name: str) -> list[str]:
    """Split any identifier-ish text into words: `filter[system_template_id]` → filter, system, template, id."""
    parts: list[str] = []
    for chunk in re.split(r"[^A-Za-z0-9]+", name):
        parts.extend(_WORD.findall(chunk))
    return parts


def snake_name(name: str) -> str:
    """A valid, non-shadowing snake_case identifier: `id` → `id_`, `2fa` → `field_2fa`, `$ref` → `ref`."""
    text = "_".join(w.lower() for w in words(name)) or "field"
    if text[0].isdigit():
        text = f"field_{text}"
    if text in RESERVED:
        text += "_"
    return text


def class_name(name: str) -> str:
    """A valid PascalCase class name: `external services` → `ExternalServices`, `3d` → `Model3d`."""
    text = "".join(w[:1].upper() + w[1:] for w in words(name)) or "Model"
    if text[0].isdigit():
        text = f"Model{text}"
    if text in RESERVED:
        text += "_"
    return text


def avoiding(name: str, reserved: frozenset[str] | set[str]) -> str:
    """`name`, with `_` appended while it is one of `reserved` (`body` → `body_` where `body` is taken)."""
    while name in reserved:
        name += "_"
    return name


def numbered(base: str) -> Iterator[str]:
    """`base`, `base2`, `base3`, …: candidates for a name that may be taken."""
    yield base
    for n in itertools.count(2):
        yield f"{base}{n}"


def status_suffix(status: object) -> str:
    """What a class named after an operation's response adds for its status: `200`, `2XX`, `Default`."""
    text = str(status)
    return "Default" if text.lower() == "default" else text.upper()


def unique(names: list[str]) -> list[str]:
    """Resolve collisions deterministically: later repeats get `_2`, `_3`, ... in input order."""
    seen: dict[str, int] = {}
    taken = set(names)
    result = []
    for name in names:
        if name not in seen:
            seen[name] = 1
            result.append(name)
            continue
        count = seen[name]
        candidate = f"{name}_{count + 1}"
        while candidate in taken:
            count += 1
            candidate = f"{name}_{count + 1}"
        seen[name] = count + 1
        taken.add(candidate)
        result.append(candidate)
    return result


def py_literal(value: object) -> str:
    """A Python literal, strings in double quotes as black writes them (black then has less to rewrite)."""
    literal = repr(value)
    if not isinstance(value, str) or literal.startswith('"') or '"' in value and "'" not in value:
        return literal  # not a string, already double-quoted, or single quotes spare escapes (black keeps those)
    # `'…'` with both kinds of quote inside: swap which one is escaped, leaving escaped backslashes alone
    body = re.sub(r"\\\\|\\'|\"", lambda m: {"\\'": "'", '"': '\\"'}.get(m.group(0), m.group(0)), literal[1:-1])
    return f'"{body}"'
