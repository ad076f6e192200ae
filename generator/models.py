"""Pydantic v2 models from the bundled document, by datamodel-code-generator (pinned in pyproject.toml).

Returns the module source and, for every component schema, the class that represents it in a request and in a
response: where readOnly/writeOnly make the two differ, datamodel-code-generator emits `FooRequest` (no readOnly
fields) and `FooResponse` (no writeOnly fields), and the IR builder must point at the right one.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import cache_dir, store
from .diagnostics import Diagnostic, SpecError
from .naming import class_name


@dataclass(frozen=True)
class ModelsModule:
    source: str
    class_names: frozenset[str]
    request_class: dict[str, str]  # component schema name → class used in request bodies
    response_class: dict[str, str]  # component schema name → class used in responses


def emit_models(document: dict[str, Any], source_file: str) -> ModelsModule:
    from datamodel_code_generator import DataModelType, InputFileType, PythonVersion, generate

    schemas = (document.get("components") or {}).get("schemas") or {}
    if not schemas:
        return ModelsModule('"""No component schemas in this API."""\n', frozenset(), {}, {})
    # Only components are modelled, so an edit to operations alone reuses the last run's models.
    modelled = json.dumps({key: value for key, value in document.items() if key not in ("paths", "webhooks")})
    cached = cache_dir("models") / f"{_digest(modelled)}.py"
    if cached.is_file():
        return _module(cached.read_text(encoding="utf-8"), schemas)
    try:
        source = generate(
            modelled,
            input_file_type=InputFileType.OpenAPI,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_311,
            read_only_write_only_model_type="request-response",
            use_annotated=True,
            field_constraints=True,
            use_standard_collections=True,
            use_union_operator=True,
            use_schema_description=True,
            use_field_description=True,
            capitalise_enum_members=True,
            keep_model_order=False,
            allow_population_by_field_name=True,
            disable_timestamp=True,
            deserialize_default_values=["enum"],
            use_type_alias=True,
            use_missing_sentinel=True,  # optional ≠ nullable: an absent field is MISSING, an explicit null is refused
            target_pydantic_version="2.14",
            strict_types=["bool", "int", "float"],  # JSON Schema does not coerce "1" or 0 into numbers or booleans
            formatters=[],
        )
    except Exception as exc:  # datamodel-code-generator raises many kinds; all mean "cannot model this"
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError([Diagnostic(source_file, 0, "/components/schemas", "models", message)]) from exc
    if not isinstance(source, str):
        raise SpecError([Diagnostic(source_file, 0, "/components/schemas", "models", "no single models module")])
    store(cached, source)
    return _module(source, schemas)


def _digest(modelled: str) -> str:
    from importlib.metadata import version

    h = hashlib.sha256(f"datamodel-code-generator=={version('datamodel-code-generator')}\n".encode())
    h.update(Path(__file__).read_bytes())  # the options above
    h.update(modelled.encode())
    return h.hexdigest()


def _module(source: str, schemas: dict[str, Any]) -> ModelsModule:
    """The class names datamodel-code-generator chose for each component schema."""
    tree = ast.parse(source)
    defined = frozenset(
        node.targets[0].id if isinstance(node, ast.Assign) else node.name  # type: ignore[union-attr]
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        or isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id[:1].isupper()
    )
    request_class: dict[str, str] = {}
    response_class: dict[str, str] = {}
    for name in schemas:
        for candidate in dict.fromkeys((name, class_name(name))):
            if candidate in defined:
                request_class[name] = response_class[name] = candidate
                break
            if f"{candidate}Request" in defined and f"{candidate}Response" in defined:
                request_class[name] = f"{candidate}Request"
                response_class[name] = f"{candidate}Response"
                break
    return ModelsModule(source, defined, request_class, response_class)
