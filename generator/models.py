"""Pydantic v2 models from the bundled document, by datamodel-code-generator (pinned in pyproject.toml).

datamodel-code-generator writes one module; it is cut into a `models` package with one module per model (models
that refer to each other in a cycle share one), and `models/__init__.py` imports each on first use: a client
that calls three operations of a 2,000-model API builds only the models those operations need.

Also returns, for every component schema, the class that represents it in a request and in a response: where
readOnly/writeOnly make the two differ, datamodel-code-generator emits `FooRequest` (no readOnly fields) and
`FooResponse` (no writeOnly fields), and the IR builder must point at the right one.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import heapq
import json
import math
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import cache, partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .cache import cache_dir, installed_version, store, toolchain_digest
from .diagnostics import (DATA_KEYWORDS, SUBSCHEMA_MAPS, Diagnostic, Finding, SpecError, escape_pointer_token,
                          follow_refs, join_pointer, not_required, pointer_of, schema_nodes, split_pointer,
                          unescape_pointer_token, walk)
from .forking import between_runs, uncollected
from .naming import class_name, numbered, snake_name, status_suffix, unique


@dataclass(frozen=True)
class ModelsModule:
    files: dict[str, str]  # path in the generated package → source, one module per model (or cycle of models)
    modules: dict[str, str]  # class or alias name → the module of `models` that defines it
    request_class: dict[str, str]  # component schema name → class used in request bodies
    response_class: dict[str, str]  # component schema name → class used in responses
    warnings: list[Finding]  # components datamodel-code-generator had to rename, formats it does not know
    subtypes: dict[str, str] = field(default_factory=dict)  # an allOf parent with a discriminator → its union


def inline_schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Request and response schemas written inline in operations that need a class of their own (objects,
    compositions, arrays of them), under the component name they are modelled as: `<Operation>Body`,
    `<Operation><Status>Response` (numbered where a component has the name). The IR finds them by identity."""
    from .lint import HTTP_METHODS

    taken = set((document.get("components") or {}).get("schemas") or {})
    taken |= {class_name(name) for name in taken}
    names: dict[int, str] = {}
    found: dict[str, dict[str, Any]] = {}
    for path, path_item in (document.get("paths") or {}).items():
        path_item = follow_refs(document, path_item)
        for method in HTTP_METHODS:
            operation = path_item.get(method)
            if not isinstance(operation, dict):
                continue
            prefix = class_name(operation.get("operationId") or f"{method}_{path}")
            sites = [("Body", follow_refs(document, operation.get("requestBody")))]
            sites += [(f"{status_suffix(status)}Response", follow_refs(document, response))
                      for status, response in (operation.get("responses") or {}).items()]
            for suffix, site in sites:
                for media in (site.get("content") or {}).values():
                    schema = media.get("schema") if isinstance(media, dict) else None
                    if isinstance(schema, dict) and _needs_model(schema) and id(schema) not in names:
                        name = next(c for c in numbered(prefix + suffix) if c not in taken)
                        taken.add(name)
                        names[id(schema)] = name
                        found[name] = schema
    return found


def _needs_model(schema: Any) -> bool:
    """An inline schema the IR cannot type without a class: an object with properties, a composition, or an
    array of those (scalars, enums and `$ref`s it types itself; a bare `type: object` stays a free-form dict)."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return False
    if schema.get("properties") or schema.get("patternProperties") or isinstance(schema.get("additionalProperties"), dict):
        return True
    for key in ("oneOf", "anyOf", "allOf"):
        parts = schema.get(key)
        if isinstance(parts, list) and (key != "allOf" and len(parts) > 1 or any(_needs_model(p) for p in parts)):
            return True
    return _needs_model(schema.get("items")) if schema.get("type") == "array" else False


def emit_models(document: dict[str, Any], source_file: str,
                inline: dict[str, dict[str, Any]] | None = None, shards: int | None = None) -> ModelsModule:
    """Models of the component schemas, and of the inline schemas that `inline_schemas` named. datamodel-code-
    generator runs on `shards` parts of the schemas at once (by default as many as their size calls for)."""
    components = dict((document.get("components") or {}).get("schemas") or {})
    hoisted = inline or {}
    if not components and not hoisted:
        return ModelsModule({}, {}, {}, {}, [])
    # Only components (and inline schemas) are modelled, so an edit to operations alone reuses the last run's models.
    rest = {key: value for key, value in document.items() if key not in ("paths", "webhooks")}
    rest["components"] = {**(rest.get("components") or {}), "schemas": {**components, **hoisted}}
    # what is modelled, before the rewrites below (which of the schemas were hoisted from operations changes them)
    shards = shards or shard_count(rest["components"]["schemas"])
    dotless = _dotless_names(rest["components"]["schemas"])
    original = {modelled_name: name for name, modelled_name in dotless.items()}

    @cache
    def located() -> dict[str, str]:  # hoisted name → where its operation writes it, found when first needed
        return _hoisted_pointers(document, hoisted)

    def shown(tokens: list[str]) -> str:
        """The pointer in the document of a modelled schema's tokens: a dotted name as written, a hoisted inline
        schema where its operation writes it."""
        if len(tokens) < 3:
            return pointer_of(tokens)
        name = original.get(tokens[2], tokens[2])
        if name in hoisted and name in located():
            return located()[name] + pointer_of(tokens[3:])
        return pointer_of([*tokens[:2], name, *tokens[3:]])

    # The warnings are cached as pointers into the modelled schemas (which is all the cache is keyed by): where
    # the document writes them (the path of an inline schema's operation) is found on each run.
    cached = cache_dir("models") / f"{_digest(json.dumps([rest, sorted(hoisted), shards]))}.json"
    try:
        fields = json.loads(cached.read_text(encoding="utf-8"))
        return _placed(ModelsModule(**{**fields, "warnings": [Finding(**w) for w in fields["warnings"]]}), shown)
    except (OSError, ValueError, TypeError, KeyError):
        pass
    if dotless:  # datamodel-code-generator makes `media.v1.thing` a module path; we want one package of models
        rest = _renamed_refs(rest, dotless)
        rest["components"]["schemas"] = {dotless.get(n, n): v for n, v in rest["components"]["schemas"].items()}
    nodes = list(schema_nodes(rest))  # walked once: the rewrites below keep every schema where it was
    rest, unions, tagging = _subtype_unions(rest, nodes, set(hoisted))
    rest, discriminators = _untied_discriminators(rest, unions, tagging)
    unsupported = _unsupported_patterns(rest)
    untyped = _invalid_types(nodes)
    if unsupported or untyped:
        rest = _without(rest, [(tokens, "pattern") for tokens, _, _ in unsupported] + [(t, "type") for t in untyped])
    unchecked = [Finding(pointer_of([*tokens, "pattern"]), "pattern-unsupported",
                         f"pattern {pattern!r} cannot be compiled by pydantic ({why}); values are not checked against it")
                 for tokens, pattern, why in unsupported]
    unchecked += [Finding(pointer_of([*tokens, "type"]), "type-invalid", "`type` is neither a type name nor a list of "
                          "them: the schema is modelled as if it had none") for tokens in untyped]
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        source, emitted, parsed, fallbacks = _modelled(rest, source_file, shown, shards)
    if not isinstance(source, str):
        raise SpecError([Diagnostic(source_file, 0, "/components/schemas", "models", "no single models module")])
    parsed, read = _discriminated(parsed or _units(source), discriminators, emitted, rest, original)
    if left := _fields_left(discriminators, parsed[0]):  # a shape not read there
        raise SpecError([Diagnostic(source_file, 0, shown(list(left[0].owner)), "models", "datamodel-code-generator "
                                    "wrote this discriminator in a form specgen does not read")])
    for model in emitted:  # bound under the names the document uses
        path = model.get("source_path") or []
        if len(path) == 3 and path[2] in original:
            model["source_path"] = [*path[:2], original[path[2]]]
    models = _module(parsed, emitted)
    models.subtypes.update({parent: union for union, parent in unions.items()})
    ignored = [Finding(pointer_of([*told.owner[:2], told.parent] if told.parent else list(told.owner)) + "/discriminator",
                       "discriminator-ignored", f"datamodel-code-generator wrote this union in a form specgen does "
                       f"not tag: a value is whichever option admits it, whatever its {told.property!r} says")
               for number, told in enumerate(discriminators) if number not in read]
    formats = _unknown_formats(nodes, [str(w.message) for w in said])
    models.warnings.extend(fallbacks + unchecked + ignored + formats)
    store(cached, json.dumps(asdict(models)))
    return _placed(models, shown)


def _placed(models: ModelsModule, shown: Callable[[list[str]], str]) -> ModelsModule:
    """`models` with each warning's pointer where the document writes it, as it names it (`shown`)."""
    return replace(models, warnings=[replace(f, pointer=shown(split_pointer(f.pointer))) for f in models.warnings])


MESSAGE_LENGTH = 300
FALLBACKS = 3  # schemas datamodel-code-generator cannot model that are typed as any value before generation stops


def _modelled(rest: dict[str, Any], source_file: str, shown: Callable[[list[str]], str],
              shards: int) -> tuple[Any, list[dict[str, Any]], Parsed | None, list[Finding]]:
    """datamodel-code-generator's module, metadata and (of merged runs) units for `rest`, and the fallbacks it took,
    each a warning: where it cannot split readOnly models into request and response variants (and the spec has no
    writeOnly property), one model per schema; where it fails on a schema it names that holds no writeOnly property,
    that schema is any value, and it is tried again. Any other failure is the error of the schema it names, where
    `shown` places it in the document (a warning stays at the modelled schema's pointer: see `_placed`)."""
    fallbacks: list[Finding] = []
    split, failed = True, 0
    while True:
        try:
            return (*_generated_in_shards(rest, split, shards), fallbacks)
        except Exception as exc:  # datamodel-code-generator raises many kinds; all mean "cannot model this"
            error = exc
        message = _said(error)
        named = re.search(r"#(/components/schemas/[^'\s#]+)", message)  # the first schema it names, if any
        tokens = split_pointer(named.group(1)) if named else []
        if split and "can not resolve classes" in message and '"writeOnly": true' not in json.dumps(rest):
            split, rest = False, not_required(rest, "readOnly")
            fallbacks.append(Finding("/components/schemas", "models-unsplit",
                                     "datamodel-code-generator could not split the models with readOnly properties "
                                     f"into request and response variants ({message[:120]}…): one model per "
                                     "schema, in which readOnly properties are optional, so requests may carry them "
                                     "and responses may lack them"))
        elif tokens and failed < FALLBACKS and (lighter := _replaced(rest, tokens)) is not None:
            rest, failed = lighter, failed + 1
            fallbacks.append(Finding(pointer_of(tokens), "model-failed", f"datamodel-code-generator cannot model "
                                                                         f"this schema ({message}): it is typed as any value"))
        else:
            raise SpecError([Diagnostic(source_file, 0, shown(tokens) if tokens else "/components/schemas", "models",
                                        message)]) from error


def _said(error: Exception) -> str:
    """The first line of a datamodel-code-generator error, without the set of classes it could not resolve (its
    order changes from run to run), and not too long to read."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    message = re.sub(r" references: frozenset\(.*", " references: … (-v shows them)", message)
    return message[:MESSAGE_LENGTH] + "… (-v shows all of it)" if len(message) > MESSAGE_LENGTH else message


def _replaced(document: dict[str, Any], tokens: list[str]) -> dict[str, Any] | None:
    """A copy of `document` with the schema at `tokens` made any value ({}), or None where there is none, or where
    it holds a writeOnly property (any value would let one reach a response)."""
    node: Any = document
    for token in tokens:
        node = node.get(token) if isinstance(node, dict) else None
    if not isinstance(node, dict) or node == {} or _holds_write_only(document, node):
        return None
    return _set(document, tokens, {})


def _holds_write_only(document: dict[str, Any], schema: Any) -> bool:
    """Whether a schema, or one it refers to, has a writeOnly property."""
    pending, seen = [schema], set()
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("writeOnly") is True:
                return True
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#") and ref not in seen:
                seen.add(ref)
                pending.append(follow_refs(document, {"$ref": ref}))
            pending.extend(value for key, value in node.items() if key not in DATA_KEYWORDS)
        elif isinstance(node, list):
            pending.extend(node)
    return False


def _hoisted_pointers(document: dict[str, Any], hoisted: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Where each inline schema `inline_schemas` named is written (`/paths/~1a/get/responses/200/content/...`)."""
    names = {id(schema): name for name, schema in hoisted.items()}
    return {names[id(node)]: pointer for pointer, node in walk(document.get("paths") or {}, "/paths")
            if isinstance(node, dict) and id(node) in names}


def _dotless_names(schemas: dict[str, Any]) -> dict[str, str]:
    """Component names with dots (`media.v1.thing`) → a name without (`media_v1_thing`), clear of the others."""
    taken = set(schemas)
    renamed = {}
    for name in schemas:
        if "." in name:
            candidate = base = name.replace(".", "_")
            n = 2
            while candidate in taken:
                candidate, n = f"{base}_{n}", n + 1
            taken.add(candidate)
            renamed[name] = candidate
    return renamed


def _renamed_refs(node: Any, renamed: dict[str, str]) -> Any:
    """A copy of `node` whose references to renamed component schemas (`$ref`s, discriminator mappings) use the
    new names."""
    prefix = "#/components/schemas/"

    def rename(ref: str) -> str:
        name = ref[len(prefix):] if ref.startswith(prefix) else None
        return prefix + renamed[name] if name in renamed else ref

    if isinstance(node, list):
        return [_renamed_refs(item, renamed) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _renamed_refs(value, renamed) for key, value in node.items()}
    if isinstance(copy.get("$ref"), str):
        copy["$ref"] = rename(copy["$ref"])
    if isinstance(copy.get("mapping"), dict):
        copy["mapping"] = {key: renamed.get(value, rename(value)) if isinstance(value, str) else value
                           for key, value in copy["mapping"].items()}  # a bare name too (`x.Kitten`)
    return copy


def pattern_problem(pattern: str) -> str | None:
    """Why pydantic (its default regex engine, Rust's) cannot compile `pattern`, or None when it can."""
    return pattern_problems([pattern])[pattern]


def pattern_problems(patterns: list[str]) -> dict[str, str | None]:
    """`pattern_problem` of each, remembered between runs: a warm run need not import pydantic_core."""
    path, known = _pattern_verdicts()
    if new := [pattern for pattern in dict.fromkeys(patterns) if pattern not in known]:
        from pydantic_core import SchemaError, SchemaValidator, core_schema

        for pattern in new:
            try:
                SchemaValidator(core_schema.str_schema(pattern=pattern))
                known[pattern] = None
            except SchemaError as exc:
                said = str(exc).strip().splitlines()[-1].strip()
                known[pattern] = re.sub(r"^(SchemaError: |error: )+", "", said).rstrip(".")
        store(path, json.dumps(known, sort_keys=True))
    return {pattern: known[pattern] for pattern in patterns}


@cache
def _pattern_verdicts() -> tuple[Path, dict[str, str | None]]:
    path = cache_dir("patterns") / f"pydantic_core-{installed_version('pydantic_core')}.json"
    try:
        return path, json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return path, {}


def _unsupported_patterns(document: dict[str, Any]) -> list[tuple[list[str], str, str]]:
    """(path of tokens, pattern, why) for each schema pattern under components that pydantic cannot compile:
    with it, the models module would not import."""
    found = []

    def visit(node: Any, tokens: list[str]) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.append((tokens, node["pattern"]))
            for key, value in node.items():
                if key not in DATA_KEYWORDS:
                    visit(value, [*tokens, key])
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, [*tokens, str(index)])

    visit(document.get("components") or {}, ["components"])
    problems = pattern_problems([pattern for _, pattern in found])
    return [(tokens, pattern, why) for tokens, pattern in found if (why := problems[pattern])]


def _invalid_types(nodes: list[tuple[str, dict[str, Any]]]) -> list[list[str]]:
    """The path of tokens of each schema (of `schema_nodes`) whose `type` is neither a type name nor a list of them
    (an object written where its parent was meant): datamodel-code-generator cannot read the schema at all."""
    return [split_pointer(pointer) for pointer in dict.fromkeys(  # a node reached twice is one
        pointer for pointer, schema in nodes
        if "type" in schema and not isinstance(schema["type"], str)
        and not (isinstance(schema["type"], list) and all(isinstance(t, str) for t in schema["type"])))]


def _without(document: dict[str, Any], keywords: list[tuple[list[str], str]]) -> dict[str, Any]:
    """A copy of `document` without those keywords (a path of tokens to a schema, and the keyword)."""
    document = copy.deepcopy(document)
    for tokens, keyword in keywords:
        node: Any = document
        for token in tokens:
            node = node[int(token)] if isinstance(node, list) else node[token]
        node.pop(keyword)
    return document


def _unknown_formats(nodes: list[tuple[str, dict[str, Any]]], said: list[str]) -> list[Finding]:
    """datamodel-code-generator's warnings about formats it does not know (`format of 'url' not understood`),
    each placed at the first schema object of `nodes` with that format."""
    formats = dict.fromkeys(m.group(1) for text in said if (m := re.search(r"format of '([^']*)' not understood", text)))
    found: dict[str, str] = {}
    if formats:
        for pointer, node in nodes:
            if isinstance(node.get("format"), str) and node["format"] in formats:
                found.setdefault(node["format"], pointer)
    return [Finding(found.get(name, "/components/schemas"), "unknown-format",
                    f"format {name!r} is not one the models know; the value is typed by its type alone")
            for name in formats]


INTERNAL_TAG = "#-datamodel-code-generator-#"  # in the tags it gives an inline option: no tag of the document
RUNTIME_MODULE = "_discriminated"  # generator/runtime/models/_discriminated.py, in every models package
SCHEMAS = "#/components/schemas/"


@dataclass(frozen=True)
class _Discriminator:
    property: str  # the property the document names
    field: str  # the property datamodel-code-generator is told of instead, which no schema has
    owner: tuple[str, ...]  # the tokens of the schema that holds it, beside its oneOf/anyOf
    parent: str | None  # for the union `_subtype_unions` made of an allOf parent and its subtypes, the parent


def _subtype_unions(document: dict[str, Any], nodes: list[tuple[str, dict[str, Any]]], hoisted: set[str]) -> tuple[
        dict[str, Any], dict[str, str], list[tuple[str, dict[str, Any]]]]:
    """`document` with each allOf parent that has a discriminator used through a oneOf of it and its subtypes
    (`AnyPet`, a component of its own that holds the discriminator), and each such union → its parent.
    datamodel-code-generator writes the parent's uses as a discriminated union only in properties: in array items,
    additionalProperties and a body alone it wrote the parent, or one subtype (every pet in a list a Cat). The
    subtypes are the components that extend the parent with allOf, theirs in turn, and what the mapping names (an
    operation's inline schema that extends it is no subtype). Every `$ref` to the parent but those a component's
    allOf extends, and those a discriminated oneOf/anyOf lists, now names the union; a discriminator beside no
    oneOf/anyOf then dispatches nothing and is taken out. Also returns each discriminator left, where it is
    (`nodes` are the document's schemas)."""
    schemas = (document.get("components") or {}).get("schemas") or {}

    def discriminated(schema: Any) -> bool:
        return isinstance(schema, dict) and isinstance(schema.get("discriminator"), dict) and not any(
            isinstance(schema.get(key), list) for key in ("oneOf", "anyOf"))

    extended: dict[str, list[str]] = {}  # parent → the components whose allOf extends it, in the document's order
    for name, schema in schemas.items():
        for part in schema.get("allOf") or [] if isinstance(schema, dict) and name not in hoisted else []:
            parent = _schema_name(part.get("$ref")) if isinstance(part, dict) else None
            if parent is not None and name not in extended.setdefault(parent, []):
                extended[parent].append(name)
    options: dict[str, list[str]] = {}
    for parent, schema in schemas.items():
        if not discriminated(schema):
            continue
        found = [parent]
        for name in found:  # breadth first: subtypes, then theirs
            found += [child for child in extended.get(name, []) if child not in found]
        for target in (schema["discriminator"].get("mapping") or {}).values():
            name = _schema_name(target) if isinstance(target, str) and target.startswith("#") else target
            if isinstance(name, str) and name in schemas and name not in found:
                found.append(name)
        options[parent] = found
    def variants(name: str) -> set[str]:  # the classes a schema may become
        return {variant for base in (name, class_name(name)) for variant in (base, f"{base}Request", f"{base}Response")}

    taken = set().union(*map(variants, schemas))
    unions = {}
    for parent, found in options.items():
        if len(found) > 1:
            unions[parent] = next(n for n in numbered(f"Any{parent[:1].upper()}{parent[1:]}") if not variants(n) & taken)
            taken |= variants(unions[parent])

    def redirected(node: Any, kept: tuple[str, ...] = ()) -> Any:
        """`node` with its `$ref`s to a parent naming its union, except the direct parts of `kept` keywords (and
        of oneOf/anyOf beside a discriminator)."""
        if isinstance(node, list):
            return [redirected(item) for item in node]
        if not isinstance(node, dict):
            return node
        target = _schema_name(node.get("$ref"))
        if target in unions:
            return {**node, "$ref": SCHEMAS + escape_pointer_token(unions[target])}
        kept = (*kept, "oneOf", "anyOf") if "discriminator" in node else kept
        return {key: value if key in DATA_KEYWORDS else [part if isinstance(part, dict) and "$ref" in part
                                                         else redirected(part) for part in value]
                if key in kept and isinstance(value, list) else redirected(value) for key, value in node.items()}

    tagging = list({pointer: schema["discriminator"] for pointer, schema in nodes if isinstance(  # once each
        schema.get("discriminator"), dict) and not discriminated(schema)}.items())
    for pointer, schema in nodes:  # parents before their subschemas
        if discriminated(schema):
            document = _set(document, split_pointer(pointer), {k: v for k, v in schema.items() if k != "discriminator"})
    if not unions:
        return document, {}, tagging
    document = {key: redirected(value) if key != "components" else {  # a component's own allOf parts kept
        kind: redirected(found) if kind != "schemas" else {name: redirected(schema, ("allOf",))
                                                           for name, schema in found.items()}
        for kind, found in value.items()} for key, value in document.items()}
    for parent, union in unions.items():
        document["components"]["schemas"][union] = {
            "oneOf": [{"$ref": SCHEMAS + escape_pointer_token(name)} for name in options[parent]],
            "discriminator": schemas[parent]["discriminator"]}
        tagging.append((join_pointer("/components/schemas", union), schemas[parent]["discriminator"]))
    return document, {union: parent for parent, union in unions.items()}, tagging


def _untied_discriminators(document: dict[str, Any], unions: dict[str, str],
                           tagging: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], list[_Discriminator]]:
    """`document` with each discriminator naming a property of its own that no schema has (`specgen_tag_<n>`),
    and what each named. datamodel-code-generator narrows the tag property of every option of a discriminated
    union to that union's tags, in the option's own model: an option in two unions, or used alone, then refuses
    what the document admits. Told of a property nobody has, it narrows that, and `_discriminated` takes it out
    again. `tagging`: each discriminator, and where it is."""
    found = [(pointer, told) for pointer, told in tagging if isinstance(told.get("propertyName"), str)]
    if not found:
        return document, []
    written = json.dumps(document)
    prefix = next(p for p in (f"specgen_tag{'_' * n}" for n in range(1, 99)) if p not in written)
    told = []
    for index, (pointer, discriminator) in enumerate(found):
        tokens, field = split_pointer(pointer), f"{prefix}{index}"
        parent = unions.get(tokens[2]) if len(tokens) == 3 and tokens[:2] == ["components", "schemas"] else None
        told.append(_Discriminator(discriminator["propertyName"], field, tuple(tokens), parent))
        document = _set(document, [*tokens, "discriminator"], {**discriminator, "propertyName": field})
    return document, told


def _fields_left(discriminators: list[_Discriminator], units: list[_Unit]) -> list[_Discriminator]:
    """The discriminators whose stand-in property a unit still names: one search of each unit for all of them
    (the stand-ins share a prefix and differ in a number), not one per discriminator."""
    if not discriminators:
        return []
    prefixes = "|".join(sorted({re.escape(d.field.rstrip("0123456789")) for d in discriminators}))
    named = re.compile(rf"\b(?:{prefixes})\d+\b")
    written = {field for unit in units for field in named.findall(unit.text)}
    return [d for d in discriminators if d.field in written]


def _set(node: Any, tokens: list[str], value: Any) -> Any:
    """A copy of `node` with `value` at `tokens`, sharing every part it does not change."""
    if not tokens:
        return value
    if isinstance(node, list):
        index = int(tokens[0])
        return [*node[:index], _set(node[index], tokens[1:], value), *node[index + 1:]]
    return {**node, tokens[0]: _set(node[tokens[0]], tokens[1:], value)}


def _discriminated(parsed: Parsed, discriminators: list[_Discriminator], emitted: list[dict[str, Any]],
                   document: dict[str, Any], original: dict[str, str]) -> tuple[Parsed, set[int]]:
    """datamodel-code-generator's module (its units) with each union it tagged by a `specgen_tag_<n>` property
    validated by `Discriminated` on the property the document names, and the `specgen_tag_<n>` fields it added to
    the options taken out. Each option's tags are the document's: its mapping, the schema names of the options (as
    the document writes them) and the values an option fixes its tag to; where an option is no schema of its own,
    none. A union of allOf subtypes also admits their parent, as the document does (a value whose tag names no
    subtype). `document` is the one modelled (dotless names), `original` its dotless names → the document's. Also
    returns the discriminators read: those of a union datamodel-code-generator wrote as one. Only the models that
    name a tag, and the classes their options are or extend, are parsed (a big API's module takes seconds)."""
    units, imports = parsed
    if not discriminators:
        return parsed, set()
    read: set[int] = set()
    by_field = {d.field: i for i, d in enumerate(discriminators)}
    named = re.compile("|".join(rf"\b{re.escape(name)}\b" for name in by_field))
    unit_of = {unit.name: unit for unit in units}

    @cache
    def class_of(name: str) -> ast.ClassDef | None:
        node = ast.parse(unit_of[name].text).body[0] if name in unit_of else None
        return node if isinstance(node, ast.ClassDef) else None

    tagging = {unit.name: class_of(unit.name) or ast.parse(unit.text).body[0] for unit in units
               if named.search(unit.text)}
    given: dict[int, dict[str, list[str]]] = {}  # discriminator → option class → the tags it was given
    classes: dict[tuple[str, ...], list[str]] = {}
    for model in emitted:
        classes.setdefault(tuple(model.get("source_path") or ()), []).append(model["class_name"])
    schema_of = {model["class_name"]: name for model in emitted
                 if (name := _option_schema(document, model.get("source_path") or []))}
    required = {model["class_name"]: {f.get("original_name"): bool(f.get("required")) for f in model.get("fields") or []}
                for model in emitted}
    document_tags = [_document_tags(document, told, original) for told in discriminators]

    def ancestors(name: str) -> set[str]:
        found, work = set(), [name]
        while work:
            node = class_of(work.pop())
            for base in [b.id for b in node.bases if isinstance(b, ast.Name)] if node else []:
                if base not in found:
                    found.add(base)
                    work.append(base)
        return found

    python_names = {model["class_name"]: {f.get("original_name"): f.get("name") for f in model.get("fields") or []}
                    for model in emitted}

    def own_tags(name: str, prop: str) -> list[str]:
        """The values an option class (or a class it extends) fixes its tag property to (`const: cat`)."""
        for owner in (name, *sorted(ancestors(name))):
            field = python_names.get(owner, {}).get(prop)
            for statement in node.body if field and (node := class_of(owner)) else []:
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) \
                        and statement.target.id == field:
                    enums = [enum for n in ast.walk(statement.annotation) if isinstance(n, ast.Name)
                             and (enum := class_of(n.id)) and any(_option_name(b).endswith("Enum") for b in enum.bases)]
                    return _literals(statement) + [member.value.value for enum in enums for member in enum.body
                                                   if isinstance(member, ast.Assign)
                                                   and isinstance(member.value, ast.Constant)
                                                   and isinstance(member.value.value, str)]
        return []

    def tags_of(number: int, name: str) -> list[str]:
        """The tags that name option class `name` in a discriminator's union: the document's, then the values the
        option fixes its tag property to."""
        schema = schema_of.get(name)
        documented = [t for t, s in document_tags[number].items() if s == schema]
        fixed = [t for t in own_tags(name, discriminators[number].property) if t not in documented]
        return documented + fixed or given.get(number, {}).get(name, [])

    edits: dict[str, list[tuple[ast.AST, str]]] = {name: [] for name in tagging}  # model → its edits
    for name, node in tagging.items():
        removed: list[ast.stmt] = []
        for index, statement in enumerate(node.body if isinstance(node, ast.ClassDef) else []):
            target = statement.target if isinstance(statement, ast.AnnAssign) else None
            if isinstance(target, ast.Name) and target.id in by_field:
                assert isinstance(statement, ast.AnnAssign)
                number = by_field[target.id]
                given.setdefault(number, {})[node.name] = [t for t in _literals(statement) if INTERNAL_TAG not in t]
                removed.append(statement)
                following = node.body[index + 1] if index + 1 < len(node.body) else None
                if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                    removed.append(following)  # its docstring
        every = removed and len(removed) == len(node.body)
        edits[name] += [(statement, "pass" if every and i == 0 else "") for i, statement in enumerate(removed)]

    def rewritten(annotated: ast.Subscript, number: int, field: ast.Call) -> ast.expr:
        """`Annotated[A | B | MISSING, Field(discriminator=...)]` → `Annotated[A | B, _Discriminated(...)] | MISSING`."""
        assert isinstance(annotated.slice, ast.Tuple)
        union, *metadata = annotated.slice.elts
        members = _union_members(union)
        absent = [m for m in members if isinstance(m, ast.Name) and m.id == "MISSING"
                  or isinstance(m, ast.Constant) and m.value is None]
        options = [m for m in members if m not in absent]
        names = [_option_name(m) for m in options]
        told = discriminators[number]
        read.add(number)
        parents = classes.get(("components", "schemas", told.parent), []) if told.parent else []
        parent = next((n for n in names if n in parents), None)  # of allOf subtypes: a value may be just that

        def named(option: ast.expr) -> ast.expr:
            name = _option_name(option)
            return ast.Constant(name) if isinstance(option, ast.Constant) else ast.Name(name)

        mapping: dict[str, ast.expr] = {}
        for option in options:
            for tag in tags_of(number, _option_name(option)):
                mapping.setdefault(tag, named(option))
        tagless = [named(o) for o in options if (parent is None or _option_name(o) == parent) and not any(
            required.get(c, {}).get(told.property) for c in (_option_name(o), *ancestors(_option_name(o))))]
        unnamed = [named(o) for o in options if _option_name(o) == parent or not tags_of(number, _option_name(o))]
        by_tag = ast.Call(ast.Name("_Discriminated"), [ast.Constant(told.property), ast.Dict(
            [ast.Constant(tag) for tag in mapping], list(mapping.values()))],
            [ast.keyword(word, ast.Tuple(chosen)) for word, chosen in (("tagless", tagless), ("unnamed", unnamed))
             if chosen])
        kept = [k for k in field.keywords if k.arg != "discriminator"]
        metadata = [m for m in metadata if m is not field] + ([ast.Call(field.func, field.args, kept)]
                                                              if field.args or kept else [])
        if not absent:
            return ast.Subscript(ast.Name("Annotated"), ast.Tuple([_union(options, union), by_tag, *metadata]))
        validated = ast.Subscript(ast.Name("Annotated"), ast.Tuple([_union(options, union), by_tag]))
        whole = _union([validated, *absent], union)
        return ast.Subscript(ast.Name("Annotated"), ast.Tuple([whole, *metadata])) if metadata else whole

    class Retag(ast.NodeTransformer):
        """Each `Annotated[..., Field(discriminator="specgen_tag_<n>")]` rewritten; `changed` once one is."""

        def __init__(self) -> None:
            self.changed = False

        def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
            self.generic_visit(node)
            if isinstance(node.value, ast.Name) and node.value.id == "Annotated" and isinstance(node.slice, ast.Tuple):
                for part in node.slice.elts[1:]:
                    if isinstance(part, ast.Call) and isinstance(part.func, ast.Name) and part.func.id == "Field":
                        for keyword in part.keywords:
                            if keyword.arg == "discriminator" and isinstance(keyword.value, ast.Constant) \
                                    and keyword.value.value in by_field:
                                self.changed = True
                                return rewritten(node, by_field[keyword.value.value], part)
            return node

    for name, node in tagging.items():
        marked = {number for number, line in enumerate(unit_of[name].text.splitlines(), 1) if named.search(line)}
        statements = [s for s in node.body if isinstance(s, ast.AnnAssign)] if isinstance(node, ast.ClassDef) else [node]
        for statement in statements:
            expression = statement.annotation if isinstance(statement, ast.AnnAssign) else getattr(statement, "value", None)
            if expression is None or marked.isdisjoint(range(expression.lineno, (expression.end_lineno or 0) + 1)):
                continue
            retag = Retag()
            changed = retag.visit(copy.deepcopy(expression))
            if retag.changed:
                edits[name].append((expression, ast.unparse(changed)))
    edited = {name: replace(_units(_edited(unit_of[name].text, found))[0][0], rebuild=unit_of[name].rebuild)
              for name, found in edits.items() if found}
    kept = " ".join(text for found in edits.values() for _, text in found)
    used = {"_Discriminated": (f".{RUNTIME_MODULE}", "Discriminated as _Discriminated")} if edited else {}
    used |= {name: ("pydantic", name) for name in ("Field", "MISSING") if name in kept}
    used |= {"Annotated": ("typing", "Annotated")} if "Annotated[" in kept else {}
    # the names the rewritten lines use (`_package` imports in each module only those it uses)
    return ([edited.get(unit.name, unit) for unit in units], {**used, **imports}), read


def _document_tags(document: dict[str, Any], told: _Discriminator, original: dict[str, str]) -> dict[str, str]:
    """Each tag the document gives a discriminator → the (modelled) name of the schema it names: the explicit
    mapping, then the schema name (as the document writes it) of each option."""
    owner: Any = document
    for token in told.owner:
        owner = owner[int(token)] if isinstance(owner, list) else owner[token]
    options = [o.get("$ref") for key in ("oneOf", "anyOf") for o in owner.get(key) or [] if isinstance(o, dict)]
    implicit = [_schema_name(ref) for ref in options if isinstance(ref, str)]
    explicit = {}
    for tag, target in (owner["discriminator"].get("mapping") or {}).items():
        name = _schema_name(target) if isinstance(target, str) and target.startswith("#") else target
        if isinstance(name, str):
            explicit[str(tag)] = next((m for m, o in original.items() if o == name), name)  # a bare name as written
    # a mapped schema's name is a tag of it too (schemathesis sends it; OpenAPI 3.0 is unclear): the mapping's first
    return {**explicit, **{tag: name for name in implicit if name and (tag := original.get(name, name)) not in explicit}}


def _option_schema(document: dict[str, Any], path: list[str]) -> str | None:
    """The (modelled) name of the component schema a class was made from: the schema itself, or the `$ref` that is
    the option of a oneOf/anyOf it was made for."""
    if len(path) == 3 and path[:2] == ["components", "schemas"]:
        return path[2]
    if len(path) > 3 and path[-2] in ("oneOf", "anyOf"):
        node: Any = document
        for token in path:
            node = (node[int(token)] if int(token) < len(node) else None) if isinstance(node, list) else (
                node.get(token) if isinstance(node, dict) else None)
        return _schema_name(node.get("$ref")) if isinstance(node, dict) else None
    return None


def _schema_name(ref: Any) -> str | None:
    return unescape_pointer_token(ref[len(SCHEMAS):]) if isinstance(ref, str) and ref.startswith(SCHEMAS) else None


def _option_name(option: ast.expr) -> str:
    """A union member's class name: `Leaf`, or a forward reference `"Branch"`."""
    return option.id if isinstance(option, ast.Name) else str(option.value) if isinstance(option, ast.Constant) else ""


def _literals(field: ast.AnnAssign) -> list[str]:
    """The strings of the `Literal[...]` in a field's annotation."""
    return [value.value for sub in ast.walk(field.annotation) if isinstance(sub, ast.Subscript)
            and isinstance(sub.value, ast.Name) and sub.value.id == "Literal"
            for value in ast.walk(sub.slice) if isinstance(value, ast.Constant) and isinstance(value.value, str)]


def _union_members(node: ast.expr) -> list[ast.expr]:
    """`A | B | None`, or `Union[A, "B"]`, as its members."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return [*_union_members(node.left), *_union_members(node.right)]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Union":
        return [m for part in (node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice])
                for m in _union_members(part)]
    return [node]


def _union(members: list[ast.expr], like: ast.expr) -> ast.expr:
    """A union of `members`, written as `like` is: `Union[...]` (it may hold forward references, which `|` cannot
    join), else `A | B`."""
    if len(members) == 1:
        return members[0]
    if isinstance(like, ast.Subscript):
        return ast.Subscript(ast.Name("Union"), ast.Tuple(members))
    union = members[0]
    for member in members[1:]:
        union = ast.BinOp(union, ast.BitOr(), member)
    return union


def _edited(source: str, edits: list[tuple[ast.AST, str]]) -> str:
    """`source` with the text of each node replaced (an empty replacement takes its lines out). AST offsets count
    UTF-8 bytes, so the edit is made on bytes."""
    lines = [line.encode() for line in source.splitlines(keepends=True)]
    for node, text in sorted(edits, key=lambda edit: (edit[0].lineno, edit[0].col_offset), reverse=True):
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        start, end = node.col_offset, node.end_col_offset or 0
        if not text:
            del lines[first:last + 1]
            continue
        lines[first:last + 1] = [lines[first][:start] + text.encode() + lines[last][end:]]
    return b"".join(lines).decode()


def _generate(modelled: str, metadata: Path, split: bool = True) -> Any:
    """datamodel-code-generator's module for the document, and its metadata (which class came from which schema);
    with `split`, a schema with readOnly or writeOnly properties is a Request and a Response model."""
    from datamodel_code_generator import DataModelType, InputFileType, PythonVersion, generate

    _variant_paths_name_no_file()
    _compact_model_metadata()

    return generate(
        modelled,
        input_file_type=InputFileType.OpenAPI,
        output_model_type=DataModelType.PydanticV2BaseModel,
        target_python_version=PythonVersion.PY_311,
        read_only_write_only_model_type="request-response" if split else None,
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
        emit_model_metadata=metadata,
        aliases={"Config": "Config_"},  # a field named Config is pydantic's old config class (AWS names fields so)
    )


def _variant_paths_name_no_file() -> None:
    """datamodel-code-generator 0.89 asks whether a readOnly/writeOnly variant of a model made from an inline
    property (`links`) exists as a schema of its own at a path it reads as a file (`links#/...`): the answer is
    no, where it raised "$ref file not found" (influxdata's and twinehealth's specs)."""
    from datamodel_code_generator import Error
    from datamodel_code_generator.parser.jsonschema import JsonSchemaParser

    exists = JsonSchemaParser._ref_schema_exists
    if getattr(exists, "names_no_file", False):
        return

    def variant_exists(self: Any, resolved_ref: str) -> bool:
        try:
            return bool(exists(self, resolved_ref))
        except Error:
            if not resolved_ref.partition("#")[0]:  # in the document itself: a real error
                raise
            return False  # in a file: the document is bundled, so no such file is meant

    variant_exists.names_no_file = True  # type: ignore[attr-defined]
    JsonSchemaParser._ref_schema_exists = variant_exists  # type: ignore[method-assign]


def _compact_model_metadata() -> None:
    """datamodel-code-generator writes its model metadata indented, which Python's JSON encoder does in Python
    (0.2 s of each of GitHub's runs); `_generated` alone reads it, and needs no indent."""
    from datamodel_code_generator import model_metadata

    if getattr(model_metadata.dump_model_metadata, "compact", False):
        return

    def compact(metadata: Any) -> str:
        return json.dumps(metadata if metadata is not None else model_metadata.model_metadata_payload([]),
                          ensure_ascii=False)

    compact.compact = True  # type: ignore[attr-defined]
    model_metadata.dump_model_metadata = compact  # type: ignore[assignment]


SHARD_BYTES = 3_000_000  # of schemas (as JSON) per run of datamodel-code-generator, whose time grows faster
UNSHARDED_BYTES = 40_000  # below this one run: a second costs more than it saves
MAX_SHARDS = 8


def shard_count(schemas: dict[str, Any]) -> int:
    """How many runs of datamodel-code-generator share the schemas out: decided by their size alone, never by
    the machine's cores, so that every machine writes the same models. Its time grows faster than the schemas
    (GitHub's 3.3 MB take 38 s in one run, 9.5 s and 9.2 s in two)."""
    size = len(json.dumps(schemas))
    return 1 if size < UNSHARDED_BYTES else min(max(math.ceil(size / SHARD_BYTES), 2), MAX_SHARDS)


def _generated_in_shards(rest: dict[str, Any], split: bool,
                         count: int) -> tuple[str, list[dict[str, Any]], Parsed | None]:
    """datamodel-code-generator's module for `rest` and its model metadata: of `count` runs at once (on as many
    cores as there are), merged by `_merged`, where the schemas can be shared out; else of one run. Its warnings
    are warned here, in the order of the runs. Merged runs also give the module's units (which one run leaves
    to `_module` to read)."""
    schemas = rest["components"]["schemas"]
    shares = _shares(schemas, count) if count > 1 else None
    if shares is None:
        return (*_said_again(_generated(json.dumps(rest), split)), None)
    import datamodel_code_generator.model.pydantic_v2  # imported before the workers fork: each needs them, and
    import datamodel_code_generator.parser.openapi  # noqa: F401  importing them takes a second

    _variant_paths_name_no_file()
    outside = {key: value for key, value in rest.items() if key != "components"}
    documents = [json.dumps({**outside, "components": {"schemas": {n: s for n, s in schemas.items() if n in seen}}})
                 for _, seen in shares]
    workers = min(len(documents), len(os.sched_getaffinity(0)))
    with get_context("fork").Pool(workers, initializer=uncollected) as pool:
        runs = pool.map(partial(_generated_or_error, split=split), documents, chunksize=1)
    if failed := next((run for run in runs if isinstance(run, str)), None):
        raise ModelsFailed(failed)  # the first run's error that has one: the schema it names is dealt with
    for run in runs:
        _said_again(run[:3])
    try:
        return _merged([(records, parsed) for _, records, _, parsed in runs], [owned for owned, _ in shares])
    except _Unmergeable:
        return (*_said_again(_generated(json.dumps(rest), split)), None)


class ModelsFailed(Exception):
    """datamodel-code-generator's error in a worker process, as it said it."""


class _Unmergeable(Exception):
    """The runs' modules do not fit together as `_merged` expects: one run over all the schemas decides."""


def _generated(modelled: str, split: bool) -> tuple[Any, list[dict[str, Any]], list[str]]:
    """datamodel-code-generator's module, its model metadata and what it warned."""
    with tempfile.TemporaryDirectory(prefix="specgen-models-") as tmp, warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        source = _generate(modelled, Path(tmp) / "models.json", split)
        records = json.loads((Path(tmp) / "models.json").read_text(encoding="utf-8"))["models"]
    return source, records, [str(w.message) for w in said]


def _generated_or_error(modelled: str,
                        split: bool) -> tuple[Any, list[dict[str, Any]], list[str], Parsed | None] | str:
    """`_generated` in a worker, and its module read into units there, on that core; its error is sent back as
    what it said."""
    between_runs()
    try:
        source, records, said = _generated(modelled, split)
    except Exception as exc:  # datamodel-code-generator raises many kinds; all mean "cannot model this"
        return str(exc) or type(exc).__name__
    return source, records, said, _units(source) if isinstance(source, str) else None


def _said_again(run: tuple[Any, list[dict[str, Any]], list[str]]) -> tuple[Any, list[dict[str, Any]]]:
    for message in run[2]:
        warnings.warn(message, stacklevel=2)
    return run[0], run[1]


def _shares(schemas: dict[str, Any], count: int) -> list[tuple[list[str], set[str]]] | None:
    """For each of up to `count` runs, the schemas it owns (each schema has one owner) and the schemas its
    document holds: those and the schemas they refer to. None where a schema refers outside
    `#/components/schemas`, or all of them go to one run. Largest first, a schema goes with the schemas it refers
    to (those no run owns yet) to the run whose document it adds least to while that stays near an even share.
    A schema's size is the number of schema objects it holds, which datamodel-code-generator's time follows."""
    needs: dict[str, set[str]] = {}
    size: dict[str, int] = {}
    for name, schema in schemas.items():
        read = _referred_and_counted(schema)
        if read is None:
            return None
        needs[name], size[name] = read
    closure = {name: _closure(name, needs) for name in schemas}
    weight = {name: sum(size[n] for n in closure[name]) for name in schemas}
    share = sum(size.values()) * 1.05 / count
    documents: list[set[str]] = [set() for _ in range(count)]
    owned: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    owner: dict[str, int] = {}
    for name in sorted(schemas, key=lambda n: (-weight[n], n)):
        if name in owner:
            continue
        added = [sum(size[n] for n in closure[name] - document) for document in documents]
        fitting = [i for i in range(count) if loads[i] + added[i] <= share]
        best = min(fitting, key=lambda i: (added[i], loads[i], i)) if fitting else min(
            range(count), key=lambda i: (loads[i] + added[i], i))
        for taken in sorted(closure[name] - owner.keys()):
            owner[taken] = best
            owned[best].append(taken)
        documents[best] |= closure[name]
        loads[best] += added[best]
    shares = [(names, document) for names, document in zip(owned, documents) if names]
    return shares if len(shares) > 1 else None


def _referred_and_counted(schema: Any) -> tuple[set[str], int] | None:
    """The component schemas a schema refers to (by `$ref` or a discriminator's mapping), and how many schema
    objects it holds; None where it refers to anything else (another component, a file, an anchor). Examples,
    defaults and enums are data: a `$ref` in them is a value, not a reference. datamodel-code-generator's time
    follows the count of objects (GitHub's shares: 0.68-0.75 ms each) better than the JSON's size (8-11 s/MB)."""
    found: set[str] = set()
    counted = 0
    pending: list[tuple[Any, bool]] = [(schema, False)]  # (node, whether its keys are names rather than keywords)
    while pending:
        node, named = pending.pop()
        if isinstance(node, list):
            pending.extend((item, False) for item in node)
        if not isinstance(node, dict):
            continue
        if named:
            pending.extend((value, False) for value in node.values())
            continue
        if any(isinstance(node.get(key), str) for key in ("$id", "$anchor", "$dynamicRef", "$recursiveRef")):
            return None
        targets = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        mapping = node.get("discriminator", {}).get("mapping") if isinstance(node.get("discriminator"), dict) else None
        targets += [t if "#" in t or "/" in t else SCHEMAS + escape_pointer_token(t)  # a bare name is a schema's
                    for t in (mapping.values() if isinstance(mapping, dict) else []) if isinstance(t, str)]
        for target in targets:
            if not target.startswith(SCHEMAS):
                return None
            found.add(unescape_pointer_token(target[len(SCHEMAS):].split("/")[0]))
        counted += 1
        pending.extend((value, key in SUBSCHEMA_MAPS) for key, value in node.items() if key not in DATA_KEYWORDS)
    return found, counted


def _closure(name: str, needs: dict[str, set[str]]) -> set[str]:
    seen, work = set(), [name]
    while work:
        current = work.pop()
        if current not in seen:
            seen.add(current)
            work.extend(needs.get(current, ()))
    return seen


def _merged(runs: list[tuple[list[dict[str, Any]], Parsed | None]],
            owned: list[list[str]]) -> tuple[str, list[dict[str, Any]], Parsed]:
    """One module, its units and metadata of the runs' (their metadata and units), as one run over all the schemas
    writes them but for the names of inline models that two runs both named alike (numbered in run order, component
    models first). Each run keeps the models of the schemas it owns (and of inline schemas only it made a model of);
    where it made a model of a schema another run owns, that model is left out and its uses name the owner's: the
    same (source, occurrence) in the metadata, checked by its fields."""
    owner = {name: run for run, names in enumerate(owned) for name in names}
    read = []
    theirs: list[dict[tuple[str, int], dict[str, Any]]] = []  # per run: the records of schemas it owns, by key
    for number, (records, parsed) in enumerate(runs):
        if parsed is None:  # no module
            raise _Unmergeable
        units, imports = parsed
        occurrences: dict[str, int] = {}
        keyed = []
        for record in records:
            ref = record.get("source_ref") or ""
            occurrences[ref] = occurrences.get(ref, -1) + 1
            keyed.append(((ref, occurrences[ref]), record, _component(record)))
        theirs.append({key: record for key, record, component in keyed if owner.get(component or "") == number})
        read.append((units, imports, keyed))
    kept: list[list[_Unit]] = []
    records_kept: list[list[dict[str, Any]]] = []
    dropped: list[dict[str, tuple[int, str]]] = []  # per run: a model left out → (owner run, the owner's model)
    components: list[set[str]] = []  # per run: the models of a component it owns
    for number, (units, _, keyed) in enumerate(read):
        by_class: dict[str, list[tuple[tuple[str, int], dict[str, Any], str | None]]] = {}
        for entry in keyed:
            by_class.setdefault(entry[1]["class_name"], []).append(entry)
        foreign: set[tuple[str, int]] = set()  # the keys of records another run's models stand for
        dropped.append({})
        for unit in units:
            found = by_class.get(unit.name, [])
            if not found or any(owner.get(component or "") in (None, number) for _, _, component in found):
                continue
            twins = [theirs[owner[component or ""]].get(key) for key, _, component in found]
            if any(twin is None for twin in twins):
                if any(len(record.get("source_path") or []) == 3 for _, record, _ in found):
                    raise _Unmergeable  # a component's model its owner did not make
                continue  # an inline model only this run made: its own copy
            if any(_fields(twin) != _fields(record) for twin, (_, record, _) in zip(twins, found)) or len(
                    {(owner[component or ""], twin["class_name"]) for twin, (_, _, component) in zip(twins, found)}) > 1:
                raise _Unmergeable
            foreign |= {key for key, _, _ in found}
            dropped[-1][unit.name] = (owner[found[0][2] or ""], twins[0]["class_name"])
        kept.append([unit for unit in units if unit.name not in dropped[-1]])
        records_kept.append([record for key, record, _ in keyed if key not in foreign])
        components.append({record["class_name"] for _, record, component in keyed if owner.get(component or "") == number
                           and len(record.get("source_path") or []) == 3})
    taken = set().union(*(imports.keys() for _, imports, _ in read))
    final: list[dict[str, str]] = [{} for _ in runs]
    for component_models in (True, False):  # components keep the names one run gives them
        for number, units in enumerate(kept):
            for unit in units:
                if unit.name not in final[number] and (unit.name in components[number]) == component_models:
                    final[number][unit.name] = next(n for n in numbered(unit.name) if n not in taken)
                    taken.add(final[number][unit.name])
    merged: list[_Unit] = []
    emitted: list[dict[str, Any]] = []
    imports: dict[str, tuple[str, str]] = {}
    for number, units in enumerate(kept):
        try:
            names = {**final[number], **{name: final[run][model] for name, (run, model) in dropped[number].items()}}
        except KeyError:
            raise _Unmergeable from None  # the owner's model is not in its module
        changed = {old: new for old, new in names.items() if old != new}
        merged += [_Unit(names[u.name], _line_ended(_renamed(u.text, changed)), {changed.get(n, n) for n in u.uses},
                         u.rebuild and _line_ended(_renamed(u.rebuild, changed)), {changed.get(n, n) for n in u.eager})
                   for u in units]
        emitted += [{**r, "class_name": names.get(r["class_name"], r["class_name"]),
                     "name": names.get(r["name"], r["name"]) if r.get("name") == r["class_name"] else r.get("name")}
                    for r in records_kept[number]]
        for name, source in read[number][1].items():
            if imports.setdefault(name, source) != source:
                raise _Unmergeable  # one name imported from two places
    ordered = _in_definition_order(merged)
    head = ["from __future__ import annotations", ""] + [f"from {module} import {what}"
                                                         for module, what in sorted(imports.values())]
    return ("\n".join(head) + "\n\n\n" + "".join(u.text for u in ordered) + "".join(u.rebuild for u in ordered),
            emitted, (ordered, imports))


def _component(record: dict[str, Any]) -> str | None:
    """The component schema a model of datamodel-code-generator's metadata was made of, or of part of."""
    path = record.get("source_path") or []
    return str(path[2]) if len(path) >= 3 and path[:2] == ["components", "schemas"] else None


def _fields(record: dict[str, Any]) -> list[tuple[Any, Any, Any]]:
    return [(f.get("name"), f.get("original_name"), f.get("required")) for f in record.get("fields") or []]


def _line_ended(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _renamed(text: str, names: dict[str, str]) -> str:
    """Python source with the models in `names` renamed where it names them: names, class names, the types
    written as strings (`list["Pet"]`) and a type alias's own name; never a string that is data (a tag)."""
    if not names or names.keys().isdisjoint(IDENTIFIER.findall(text)):
        return text
    lines = [line.encode() for line in text.splitlines(keepends=True)]
    edits: list[tuple[ast.AST, str]] = []
    tree = ast.parse(text)
    for node in _descendants(tree):
        if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):  # not a field's
            edits.append((node, names[node.id]))
        elif isinstance(node, ast.ClassDef) and node.name in names:
            start = lines[node.lineno - 1].index(b"class ", node.col_offset) + len(b"class ")
            edits.append((ast.Name(node.name, lineno=node.lineno, col_offset=start, end_lineno=node.lineno,
                                   end_col_offset=start + len(node.name.encode())), names[node.name]))
    for statement in tree.body:
        if isinstance(statement, ast.Assign):  # an alias
            edits += [(target, names[target.id]) for target in statement.targets
                      if isinstance(target, ast.Name) and target.id in names]
        constants = _type_string_nodes(statement)
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call) and statement.value.args:
            constants += [a for a in statement.value.args[:1] if isinstance(a, ast.Constant)]  # TypeAliasType("X", …)
        for constant in constants:
            if constant.lineno == constant.end_lineno:
                written = lines[constant.lineno - 1][constant.col_offset:constant.end_col_offset].decode()
                renamed = IDENTIFIER.sub(lambda m: names.get(m.group(), m.group()), written)
                if renamed != written:
                    edits.append((constant, renamed))
    return _edited(text, edits)


def _in_definition_order(units: list[_Unit]) -> list[_Unit]:
    """`units` in their order, but each after the models its definition runs (its bases, defaults, an alias's
    value): two runs' modules ordered each theirs, not one for the other."""
    index = {unit.name: i for i, unit in enumerate(units)}
    needs = [{index[n] for n in unit.eager if n in index} - {i} for i, unit in enumerate(units)]
    users: list[list[int]] = [[] for _ in units]
    for i, needed in enumerate(needs):
        for n in needed:
            users[n].append(i)
    waiting = [len(needed) for needed in needs]
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    ordered = []
    while ready:
        i = heapq.heappop(ready)
        ordered.append(units[i])
        for user in users[i]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    if len(ordered) < len(units):
        raise _Unmergeable  # models whose definitions need each other
    return ordered


def _digest(modelled: str) -> str:
    """The models of `modelled` depend on it, on the rewrites and options here, and on datamodel-code-generator's
    version: all in the toolchain's digest."""
    h = hashlib.sha256(toolchain_digest().encode())
    h.update(modelled.encode())
    return h.hexdigest()


def _module(parsed: Parsed, emitted: list[dict[str, Any]]) -> ModelsModule:
    """The models package of a module's units, and the classes datamodel-code-generator emitted for each
    component schema, read from its model metadata by source reference: a component it renamed (`Vault` →
    `Vault3Request`, because an inline object took the name `Vault`) is bound to what it became, never to a
    namesake."""
    units, imports = parsed
    classes: dict[str, list[str]] = {}
    for model in emitted:
        path = model.get("source_path") or []
        if len(path) == 3 and path[:2] == ["components", "schemas"]:
            classes.setdefault(path[2], []).append(model["class_name"])
    request_class = {name: next((c for c in found if c.endswith("Request")), found[0]) for name, found in classes.items()}
    response_class = {name: next((c for c in found if c.endswith("Response")), found[-1]) for name, found in classes.items()}
    source_of = {model["class_name"]: model.get("source_ref", "") for model in emitted}
    renamed: list[Finding] = []
    for name, found in classes.items():
        wanted = class_name(name) if name not in found and f"{name}Request" not in found else name
        if not set(found) <= {wanted, f"{wanted}Request", f"{wanted}Response"}:
            taken = next((source_of[c] for c in (wanted, f"{wanted}Request") if c in source_of), "")
            renamed.append(Finding(join_pointer("/components/schemas", name), "model-renamed",
                                    f"schema {name!r} is modelled as {' / '.join(found)}"
                                    + (f": {wanted} is the model of {taken}" if taken else "")))
    files, modules = _package(units, imports)
    return ModelsModule(files, modules, request_class, response_class, renamed)


@dataclass
class _Unit:
    """One model: its definition, the docstring and `model_rebuild()` lines that belong to it, what it uses."""

    name: str
    text: str
    uses: set[str]  # names of other models and of imported names
    rebuild: str = ""
    eager: set[str] = field(default_factory=set)  # the names its definition runs (bases, defaults, an alias's value)


Parsed = tuple[list[_Unit], dict[str, tuple[str, str]]]  # a module's models in order, and its imported names


def _units(source: str) -> Parsed:
    """The module's models in order, and each imported name → (module, what `import` names: `x` or `x as y`)."""
    lines = source.splitlines(keepends=True)
    body = ast.parse(source).body
    imports: dict[str, tuple[str, str]] = {}
    units: list[_Unit] = []
    by_name: dict[str, _Unit] = {}
    ends = [node.lineno - 1 for node in body[1:]] + [len(lines)]
    for node, end in zip(body, ends):
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        text = "".join(lines[start:end])
        names = _names_used(node)
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            for alias in node.names:
                imports[alias.asname or alias.name] = ("." * node.level + node.module, alias.name + (f" as {alias.asname}" if alias.asname else ""))
        elif isinstance(node, ast.ClassDef):
            units.append(by_name.setdefault(node.name, _Unit(node.name, text, names - {node.name}, "",
                                                             _eager_names(node) - {node.name})))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            units.append(by_name.setdefault(name, _Unit(name, text, names - {name}, "", _eager_names(node) - {name})))
        elif (rebuilt := _rebuilt(node)) is not None and rebuilt in by_name:  # `Foo.model_rebuild()`: runs after
            by_name[rebuilt].rebuild += text  # every model of Foo's module exists
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and units:
            units[-1].text += text  # the docstring of the alias above
        elif not isinstance(node, ast.ImportFrom) or node.module != "__future__":
            raise ValueError(f"unexpected statement in datamodel-code-generator output, line {node.lineno}")
    return units, imports


TYPE_TEXT = re.compile(r"[A-Za-z_][\w.]*(\[[\w\[\]., |]*\])?( \| [\w\[\]., |]+)*")  # what a quoted type looks like


def _names_used(node: ast.stmt) -> set[str]:
    """The names a statement uses, forward references written as strings in its types included (`list["Predicate"]`
    in a type alias, a quoted annotation); a string elsewhere (an enum's value, a tag, a Field argument) is data,
    and so is a name it assigns (a field named `Location` uses no model `Location`)."""
    names = {child.id for child in _descendants(node)
             if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}
    for text in _type_strings(node):
        try:
            names |= {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}
        except SyntaxError:
            pass
    return names


def _eager_names(node: ast.stmt) -> set[str]:
    """The names a model's definition runs when it is defined: all but its field annotations (postponed by
    `from __future__ import annotations`) and its quoted types."""
    if isinstance(node, ast.ClassDef):
        parts: list[ast.AST] = [*node.bases, *node.keywords, *node.decorator_list]
        parts += [s.value for s in node.body if isinstance(s, ast.AnnAssign) and s.value is not None]
        parts += [s for s in node.body if not isinstance(s, ast.AnnAssign)]
    else:
        parts = [node.value] if isinstance(node, ast.Assign) else []
    return {child.id for part in parts for child in _descendants(part) if isinstance(child, ast.Name)}


def _descendants(node: ast.AST) -> list[ast.AST]:
    """`node` and every node under it, in `ast.walk`'s order, in half its time (it runs over every model a big
    API has, several times)."""
    found = [node]
    for child in found:  # grows while it is read
        for name in child._fields:
            value = getattr(child, name, None)
            if isinstance(value, list):
                found.extend(item for item in value if isinstance(item, ast.AST))
            elif isinstance(value, ast.AST):
                found.append(value)
    return found


def _type_strings(node: ast.stmt) -> list[str]:
    """The strings written where a type goes (see `_type_string_nodes`)."""
    return [str(constant.value) for constant in _type_string_nodes(node)]


def _type_string_nodes(node: ast.stmt) -> list[ast.Constant]:
    """The strings written where a type goes (base classes, field annotations, the value of a type alias), outside
    calls (`Field(...)`) and `Literal[...]`."""
    if isinstance(node, ast.ClassDef):
        types = [*node.bases, *(s.annotation for s in node.body if isinstance(s, ast.AnnAssign))]
    elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and len(node.value.args) == 2:
        types = [node.value.args[1]]  # X = TypeAliasType("X", <type>)
    elif isinstance(node, ast.Assign):
        types = [node.value]
    else:
        types = []
    found: list[ast.Constant] = []
    work = types
    while work:
        child = work.pop()
        if isinstance(child, ast.Call) or isinstance(child, ast.Subscript) and isinstance(
                child.value, ast.Name) and child.value.id == "Literal":
            continue
        if isinstance(child, ast.Constant) and isinstance(child.value, str) and TYPE_TEXT.fullmatch(child.value):
            found.append(child)
        work.extend(ast.iter_child_nodes(child))
    return found


def _rebuilt(node: ast.stmt) -> str | None:
    """`Foo` for the statement `Foo.model_rebuild()`."""
    if isinstance(node, ast.Expr) and isinstance(call := node.value, ast.Call) and isinstance(call.func, ast.Attribute):
        if call.func.attr == "model_rebuild" and isinstance(call.func.value, ast.Name):
            return call.func.value.id
    return None


def _package(units: list[_Unit], imports: dict[str, tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """One module per group of models that refer to each other in a cycle, named after its first model."""
    index = {unit.name: i for i, unit in enumerate(units)}
    groups = _cycles([sorted(index[n] for n in unit.uses if n in index) for unit in units])
    modules = unique([RUNTIME_MODULE] + [f"_{snake_name(units[group[0]].name).rstrip('_')}" for group in groups])[1:]
    module_of = {units[i].name: module for group, module in zip(groups, modules) for i in group}
    files = {}
    for group, module in zip(groups, modules):
        members = [units[i] for i in group]
        used = set().union(*(unit.uses for unit in members))
        own = {unit.name for unit in members}
        imported: dict[str, list[str]] = {}
        for name in sorted(used & imports.keys()):
            imported.setdefault(imports[name][0], []).append(imports[name][1])
        for name in sorted((used - own) & module_of.keys()):  # never `module_of.keys() - own`: all names, per module
            imported.setdefault(f".{module_of[name]}", []).append(name)
        sections = [["from __future__ import annotations"]] + [
            [f"from {source} import {', '.join(names)}" for source, names in sorted(imported.items())
             if source.startswith(".") == local] for local in (False, True)]
        text = "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n\n" + "".join(u.text for u in members)
        text += "".join(unit.rebuild for unit in members)
        files[f"models/{module}.py"] = text
    return files, module_of


def _cycles(edges: list[list[int]]) -> list[list[int]]:
    """Strongly connected components (Tarjan, without recursion), each sorted, in order of their first member."""
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    found: list[list[int]] = []
    for root in range(len(edges)):
        if root in order:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                order[node] = low[node] = len(order)
                stack.append(node)
                on_stack.add(node)
            if child < len(edges[node]):
                work.append((node, child + 1))
                target = edges[node][child]
                if target not in order:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], order[target])
                continue
            for target in edges[node]:
                if target in on_stack:
                    low[node] = min(low[node], low[target])
            if low[node] == order[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(sorted(component))
    return sorted(found)
