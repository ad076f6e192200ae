"""Problems found in a spec, as values: each names where (file, line, JSON pointer) and what is wrong."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"  # specgen diff: a change that breaks nobody


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int
    pointer: str
    rule: str
    message: str
    level: Level = Level.ERROR
    column: int = 0  # 1-based; 0 where unknown (JSON over the size that gets line numbers, a whole file)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        where += f":{self.column}" if self.line and self.column else ""
        return f"{where}: {self.level.value}: {self.message} [{self.rule}] at {self.pointer or '/'}"


@dataclass(frozen=True)
class Finding:
    """A warning of a stage that works on the bundled document, before the pipeline places it in a source file."""

    pointer: str
    rule: str
    message: str


class SpecError(Exception):
    """Raised when a spec cannot be used; carries every diagnostic that explains why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join_pointer(pointer: str, token: str | int) -> str:
    return f"{pointer}/{escape_pointer_token(token)}"


def pointer_of(tokens: Iterable[object]) -> str:
    """The JSON pointer of a path of keys and indexes: ("paths", "/a", "get") → `/paths/~1a/get`."""
    return "".join(join_pointer("", str(token)) for token in tokens)


def walk(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every node of a JSON-like document with its pointer, depth first, the node itself first."""
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, join_pointer(pointer, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, join_pointer(pointer, index))


def split_pointer(pointer: str) -> list[str]:
    pointer = pointer.lstrip("#")
    if pointer in ("", "/"):
        return []
    return [unescape_pointer_token(t) for t in pointer.lstrip("/").split("/")]


def follow_refs(document: dict[str, Any], node: Any) -> dict[str, Any]:
    """`node` with its internal `$ref`s followed (a cycle stops where it repeats); {} where that is no object."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
        seen.add(node["$ref"])
        target: Any = document
        for token in split_pointer(node["$ref"]):
            target = target.get(token) if isinstance(target, dict) else None
        node = target
    return node if isinstance(node, dict) else {}


DATA_KEYWORDS = ("default", "example", "examples", "enum", "const")  # values, not schemas: never rewritten
SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")  # name → schema


def schema_nodes(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object: under components/schemas and every `schema` key, and their subschemas."""
    subschema_lists = ("allOf", "anyOf", "oneOf", "prefixItems")
    subschema_single = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames")

    def visit(pointer: str, schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        if not isinstance(schema, dict) or "$ref" in schema and len(schema) == 1:
            return
        yield pointer, schema
        for key in SUBSCHEMA_MAPS:
            for name, sub in (schema.get(key) or {}).items() if isinstance(schema.get(key), dict) else ():
                yield from visit(join_pointer(join_pointer(pointer, key), name), sub)
        for key in subschema_lists:
            for index, sub in enumerate(schema.get(key) or []) if isinstance(schema.get(key), list) else ():
                yield from visit(join_pointer(join_pointer(pointer, key), index), sub)
        for key in subschema_single:
            yield from visit(join_pointer(pointer, key), schema.get(key))

    for name, schema in ((document.get("components") or {}).get("schemas") or {}).items():
        yield from visit(join_pointer("/components/schemas", name), schema)
    for pointer, node in walk(document.get("paths") or {}, "/paths"):
        if isinstance(node, dict) and isinstance(node.get("schema"), dict):
            yield from visit(join_pointer(pointer, "schema"), node["schema"])
    for kind in ("parameters", "responses", "requestBodies", "headers"):
        for pointer, node in walk((document.get("components") or {}).get(kind) or {}, f"/components/{kind}"):
            if isinstance(node, dict) and isinstance(node.get("schema"), dict):
                yield from visit(join_pointer(pointer, "schema"), node["schema"])


def not_required(document: dict[str, Any], annotation: str) -> dict[str, Any]:
    """A copy of `document` whose schemas do not require their `annotation` ("readOnly", "writeOnly") properties:
    OpenAPI 3.0's reading of `required` beside them (a readOnly property is required in responses only, a
    writeOnly one in requests only)."""
    copied = copy.deepcopy(document)
    for _, schema in schema_nodes(copied):
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        if isinstance(schema.get("required"), list):
            schema["required"] = [name for name in schema["required"] if not (
                isinstance(properties.get(name), dict) and properties[name].get(annotation)  # beside a $ref, too
                or follow_refs(copied, properties.get(name)).get(annotation))]
    return copied
