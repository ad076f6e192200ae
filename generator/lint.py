"""Validate a loaded spec (openapi-spec-validator) and apply the house rules. Returns diagnostics, raises nothing."""

from __future__ import annotations

import abc
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from .cache import cache_dir, installed_version, store
from .config import Settings
from .diagnostics import DATA_KEYWORDS, Diagnostic, Level, join_pointer, pointer_of, schema_nodes, split_pointer, walk
from .load import COMPONENT_KINDS, LoadedSpec

VALIDATOR_RULES = frozenset({"openapi-version", "openapi-schema", "validator-failed"})  # the rest are house rules
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
SECRET_WORDS = {"password", "passphrase", "secret", "token", "key", "apikey", "privatekey"}


def spec_version(document: dict[str, Any]) -> str:
    version = str(document.get("openapi", ""))
    if version.startswith("3.1"):
        return "3.1"
    if version.startswith("3.0"):
        return "3.0"
    return version or "unknown"


def validate(spec: LoadedSpec) -> list[Diagnostic]:
    """openapi-spec-validator's verdict, each error placed at its file and line where the path allows."""
    version = spec_version(spec.document)
    if version not in ("3.0", "3.1"):
        return [spec.diagnostic("/openapi", "openapi-version", f"unsupported OpenAPI version {version!r} (3.0 or 3.1)")]
    found = []
    seen = set()
    with _verdicts(version) as verdicts:
        whole = "document:" + _digest(_without_prose(spec.document))
        if whole in verdicts.known:  # valid before, but for its prose: the validator need not even be imported
            return []
        verdicts.passed.add(whole)
        validator = _spec_validator(version, verdicts, spec.document)(spec.document)
        try:
            for error in validator.iter_errors():
                pointer = getattr(error, PLACED, None) or pointer_of(getattr(error, "absolute_path", error.path))
                message = getattr(error, "message", str(error)).splitlines()[0]
                if (pointer, message) in seen:
                    continue
                seen.add((pointer, message))
                found.append(spec.diagnostic(pointer, "openapi-schema", message))
        except Exception as exc:  # openapi-spec-validator itself failed on this document: say so, keep what it found
            found.append(spec.diagnostic("", "validator-failed", f"openapi-spec-validator could not check the whole "
                                         f"document ({type(exc).__name__}: {exc})"))
        verdicts.run_passed = not found
    return found


PROSE = ("summary", "description")  # free text: any string is valid there


def _without_prose(node: Any) -> Any:
    """`node` with every summary and description string emptied (outside data values): what a document's
    validity depends on, so that an edit to documentation text alone is known valid."""
    if isinstance(node, list):
        return [_without_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: "" if key in PROSE and isinstance(value, str) else value if key in DATA_KEYWORDS else _without_prose(value)
            for key, value in node.items()}


PLACED = "specgen_pointer"  # where in the document a validator error belongs, set by the keyword validators below


def _placed(errors: Iterator[Any], where: Any) -> Iterator[Any]:
    """The errors a keyword validator yields for the node at `where` (a SchemaPath), each given the absolute
    pointer of what it is about: the node's, and the error's own path below it. The innermost validator wins.
    Errors are made the library's own type here, as its wrapper would later (losing the pointer)."""
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    for error in errors:
        if not isinstance(error, OpenAPIValidationError):
            error = OpenAPIValidationError.create_from(error)
        if getattr(error, PLACED, None) is None:
            setattr(error, PLACED, pointer_of(where.parts) + pointer_of(getattr(error, "path", ())))
        yield error


class _IdSet(set[int]):
    """The validator dedupes the schemas it visits with `list.append` and `in`: quadratic on a large spec."""

    append = set.add


@dataclass
class _Verdicts:
    """What passed validation before, by digest, so that an edit to one operation re-checks only what it changed:
    schemas that passed the meta-schema check (a pure function of the schema), and path items and components that
    passed in a run with no error at all (in a run with errors, a schema's error is reported where it is first
    reached, so a part that looked clean then may not be)."""

    known: set[str]
    passed: set[str] = field(default_factory=set)  # this run's parts, remembered only if the run passed
    run_passed: bool = False


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@contextmanager
def _verdicts(version: str) -> Iterator[_Verdicts]:
    path = cache_dir("validation") / f"{installed_version('openapi_spec_validator')}-{version}.json"
    try:
        known = set(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        known = set()
    verdicts = _Verdicts(set(known))
    yield verdicts
    if verdicts.run_passed:
        verdicts.known |= verdicts.passed
    if verdicts.known != known:
        store(path, json.dumps(sorted(verdicts.known)))


OAS31_DIALECT = "https://spec.openapis.org/oas/3.1/dialect/base"


def _fast_meta_check(version: str) -> Callable[[Any], bool]:
    """Whether a schema is valid against its version's meta-schema, by jsonschema-rs (some 500× faster than the
    stock check, which then runs only on what this refuses, to word the error)."""
    import jsonschema_rs
    from openapi_schema_validator import OAS30Validator, OAS31Validator
    from openapi_schema_validator.validators import OPENAPI_SPECIFICATIONS

    meta = (OAS31Validator if version == "3.1" else OAS30Validator).META_SCHEMA
    registry = jsonschema_rs.Registry([(uri, OPENAPI_SPECIFICATIONS.contents(uri)) for uri in OPENAPI_SPECIFICATIONS])
    validator = jsonschema_rs.validator_for(meta, registry=registry, validate_formats=True)
    return validator.is_valid  # type: ignore[no-any-return]


def _spec_validator(version: str, verdicts: _Verdicts, document: dict[str, Any]) -> Any:
    """openapi-spec-validator's validator for `version`, with set-based dedupe and the verdicts of earlier runs
    (its internals, pinned in pyproject.toml: tests/test_lint.py holds the verdicts to the stock validator's)."""
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    _subscriptable_checked_per_type()
    base = OpenAPIV31SpecValidator if version == "3.1" else OpenAPIV30SpecValidator
    stock: dict[str, Any] = dict(base.keyword_validators)
    meta_valid = _fast_meta_check(version) if document.get("jsonSchemaDialect") in (None, OAS31_DIALECT) else None
    rest = _digest({key: value for key, value in document.items() if key != "paths"})  # what a path item may use

    schema_base, paths_base, components_base = stock["schema"], stock["paths"], stock["components"]

    class SchemaValidator(schema_base):  # type: ignore[misc, valid-type]
        def __init__(self, registry: Any):
            super().__init__(registry)
            self.visited_schema_ids = _IdSet()
            self.meta_checked_schema_ids = _IdSet()

        def __call__(self, schema: Any, require_properties: bool = True, meta_checked: bool = False) -> Iterator[Any]:
            yield from _placed(super().__call__(schema, require_properties, meta_checked), schema)

        def _validate_schema_meta(self, schema: Any, schema_value: Any) -> Any:
            digest = "schema:" + _digest(schema_value)
            if digest in verdicts.known:
                return None
            if meta_valid is not None and not (isinstance(schema_value, dict) and "$schema" in schema_value) \
                    and meta_valid(schema_value):
                verdicts.known.add(digest)
                return None
            error = super()._validate_schema_meta(schema, schema_value)  # the stock check words the error
            if error is None:
                verdicts.known.add(digest)
            return error

    class PathsValidator(paths_base):  # type: ignore[misc, valid-type]
        def __call__(self, paths: Any) -> Iterator[Any]:
            operation_ids = self.path_validator.operation_validator.operation_ids_registry
            for url, path_item in paths.items():
                item = path_item.read_value()
                digest = "path:" + _digest(rest, url, item)
                if digest in verdicts.known:  # passed before: only its operationIds matter to the others
                    operation_ids.extend(op["operationId"] for op in item.values()
                                         if isinstance(op, dict) and isinstance(op.get("operationId"), str))
                    continue
                verdicts.passed.add(digest)
                yield from _placed(self.path_validator(url, path_item), path_item)

    class ComponentsValidator(components_base):  # type: ignore[misc, valid-type]
        def __call__(self, components: Any) -> Iterator[Any]:
            digest = "components:" + rest
            if digest not in verdicts.known:
                verdicts.passed.add(digest)
                yield from _placed(super().__call__(components), components)

    keyword_validators = {**stock, "schema": SchemaValidator, "paths": PathsValidator, "components": ComponentsValidator}
    return type(base.__name__, (base,), {"keyword_validators": keyword_validators})


SUBSCRIPTABLE_MEMBERS = ("__contains__", "__getitem__", "__len__")  # pathable.protocols.Subscriptable's


def _subscriptable_checked_per_type() -> None:
    """pathable, through which the validator reads the document, asks of every node it steps into whether it is
    `Subscriptable`: a runtime-checkable Protocol, which looks up its members on each call (30% of validating
    GitHub's spec). An ABC that asks the same of the node's type, once per type, answers alike, for less."""
    import pathable.accessors
    import pathable.protocols

    if pathable.accessors.Subscriptable is not pathable.protocols.Subscriptable:
        return  # done already, or a pathable that no longer reads it from there (pinned in pyproject.toml)

    class Subscriptable(abc.ABC):
        def __class_getitem__(cls, _: object) -> type:  # written `Subscriptable[K, V]` in pathable's annotations
            return cls

        @classmethod
        def __subclasshook__(cls, other: type) -> bool:  # a member set to None is absent, as for the Protocol
            found = [next((vars(kind)[m] for kind in other.__mro__ if m in vars(kind)), None)
                     for m in SUBSCRIPTABLE_MEMBERS]
            return all(member is not None for member in found)

    pathable.accessors.Subscriptable = Subscriptable  # type: ignore[misc, assignment]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(pointer, path, method, operation) in document order."""
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield join_pointer(join_pointer("/paths", path), method), path, method, operation


def _rule_operations(spec: LoadedSpec) -> Iterator[Diagnostic]:
    document = spec.document
    declared_tags = {t.get("name") for t in document.get("tags") or [] if isinstance(t, dict)}
    for pointer, path, method, op in operations(document):
        op_id = op.get("operationId")  # uniqueness is the validator's check
        label = f"{method.upper()} {path}"
        if not op_id:
            yield spec.diagnostic(pointer, "operation-id", f"{label} has no operationId")
        elif not SNAKE_CASE.match(op_id):
            yield spec.diagnostic(join_pointer(pointer, "operationId"), "operation-id", f"operationId {op_id!r} is not snake_case")
        tags = op.get("tags") or []
        if not tags:
            yield spec.diagnostic(pointer, "operation-tag", f"{label} has no tag")
        for tag in tags:
            if tag not in declared_tags:
                yield spec.diagnostic(join_pointer(pointer, "tags"), "operation-tag", f"{label} uses undeclared tag {tag!r}")
        if not op.get("summary"):
            yield spec.diagnostic(pointer, "operation-summary", f"{label} has no summary")
        security = op.get("security", document.get("security"))
        if not security or all(not requirement for requirement in security):
            yield spec.diagnostic(pointer, "operation-security", f"{label} has no security requirement")
        codes = [str(code).upper() for code in (op.get("responses") or {})]
        responses = join_pointer(pointer, "responses")
        if not any(code.startswith("2") for code in codes) and "DEFAULT" not in codes:
            yield spec.diagnostic(responses, "operation-2xx", f"{label} documents no success (2xx or default) response")
        if not {"400", "4XX", "DEFAULT"} & set(codes):
            yield spec.diagnostic(responses, "operation-400",
                                  f"{label} does not document 400, which the generated server answers to invalid "
                                  "input (an unknown query parameter, a malformed body) on every operation")


def _rule_links(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """A link must name an operation that exists: by operationId, or by a local operationRef."""
    document = spec.document
    ids = {op.get("operationId") for _, _, _, op in operations(document)}
    places = [(f"{pointer}/responses/{join_pointer('', str(code))[1:]}", response)
              for pointer, _, _, op in operations(document)
              for code, response in (op.get("responses") or {}).items()]
    places += [(join_pointer("/components/responses", name), response)
               for name, response in ((document.get("components") or {}).get("responses") or {}).items()]
    links = [(join_pointer(join_pointer(where, "links"), name), link)
             for where, response in places if isinstance(response, dict)
             for name, link in (response.get("links") or {}).items()]
    links += [(join_pointer("/components/links", name), link)
              for name, link in ((document.get("components") or {}).get("links") or {}).items()]
    for pointer, link in links:
        if not isinstance(link, dict) or "$ref" in link:
            continue
        if "operationId" in link and link["operationId"] not in ids:
            yield spec.diagnostic(join_pointer(pointer, "operationId"), "link-operation",
                                  f"link names operationId {link['operationId']!r}, which no operation has")
        reference = link.get("operationRef")
        if isinstance(reference, str) and reference.startswith("#"):
            tokens = split_pointer(reference[1:])
            node: Any = document
            for token in tokens:
                node = node.get(token) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                yield spec.diagnostic(join_pointer(pointer, "operationRef"), "link-operation",
                                      f"link's operationRef {reference!r} names no operation")


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[\s_\-.]+", spaced) if w]


def is_secret_name(name: str) -> bool:
    """`clientSecret`, `api_key`, `accessToken` are secrets; `tokenEndpoint`, `secrets` (a list of names) are not."""
    words = _words(name)
    return bool(words) and (words[-1] in SECRET_WORDS or "".join(words[-2:]) in SECRET_WORDS)


def _rule_secrets(spec: LoadedSpec) -> Iterator[Diagnostic]:
    for pointer, schema in schema_nodes(spec.document):
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            continue
        for name, prop in properties.items():
            if not isinstance(prop, dict) or not is_secret_name(name):
                continue
            types = prop.get("type")
            if types == "boolean" or types == ["boolean"] or prop.get("x-not-secret"):
                continue
            if not prop.get("writeOnly"):
                yield spec.diagnostic(
                    join_pointer(join_pointer(pointer, "properties"), name),
                    "secret-write-only",
                    f"secret-like property {name!r} must be writeOnly (or say why not with x-not-secret)",
                )


def _response_components(document: dict[str, Any]) -> set[str]:
    """Names of component schemas a response body can contain, following $refs transitively."""
    found: set[str] = set()
    pending = [node for pointer, node in walk(document.get("paths") or {}, "/paths") if "/responses/" in pointer]
    pending += list(((document.get("components") or {}).get("responses") or {}).values())
    while pending:
        node = pending.pop()
        for _, child in walk(node):
            if isinstance(child, dict) and isinstance(child.get("$ref"), str):
                tokens = split_pointer(child["$ref"])
                if tokens[:2] == ["components", "responses"] and len(tokens) == 3:
                    pending.append(((document.get("components") or {}).get("responses") or {}).get(tokens[2]))
                if tokens[:2] == ["components", "schemas"] and len(tokens) == 3 and tokens[2] not in found:
                    found.add(tokens[2])
                    pending.append(((document.get("components") or {}).get("schemas") or {}).get(tokens[2]))
    return found


def _rule_write_only_required(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """OpenAPI 3.0 said `required` on a writeOnly property applies to requests only; 3.1 dropped that, so such a
    property makes every response that (rightly) omits it invalid. Say it with `x-required-on-write` instead."""
    if spec_version(spec.document) != "3.1":
        return
    in_responses = _response_components(spec.document)
    for pointer, schema in schema_nodes(spec.document):
        tokens = split_pointer(pointer)
        if tokens[:2] == ["components", "schemas"] and tokens[2] not in in_responses:
            continue  # never part of a response: writeOnly + required is harmless there
        if tokens[:1] == ["paths"] and "responses" not in tokens:
            continue
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        for name in schema.get("required") or []:
            prop = properties.get(name)
            if isinstance(prop, dict) and prop.get("writeOnly"):
                yield spec.diagnostic(
                    join_pointer(pointer, "required"),
                    "write-only-required",
                    f"writeOnly property {name!r} is required, so no response can be valid; list it in x-required-on-write",
                )


def _rule_required_cycles(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """A component that requires itself through required properties that are references all the way round (a
    TreeNode whose `parent` is required): no finite value is valid, so no request or response can be either."""
    for name in required_cycles(spec.document):
        yield spec.diagnostic(join_pointer("/components/schemas", name), "required-cycle",
                              f"schema {name!r} requires itself through required references: no finite "
                              "value is valid (make one of them optional or nullable)")


def required_cycles(document: dict[str, Any]) -> list[str]:
    """The component schemas that require themselves through required properties that are references all the
    way round: no finite value is valid. Only objects count (a value of another type ends the chain), and null
    or an alternative (oneOf, anyOf) ends it."""
    schemas = (document.get("components") or {}).get("schemas") or {}
    prefix = "#/components/schemas/"

    def edges(name: str) -> list[tuple[str, bool]]:
        """The components a value of `name` must also be, each with whether a required property leads there (the
        others: allOf, or a 3.1 `$ref` beside other keywords)."""
        schema = schemas.get(name)
        if not isinstance(schema, dict) or schema.get("nullable") is True or "oneOf" in schema or "anyOf" in schema:
            return []
        types = schema.get("type")
        if types != "object" and not (isinstance(types, list) and types == ["object"]) and "allOf" not in schema:
            return []
        parts = [schema, *(p for p in schema.get("allOf") or [] if isinstance(p, dict))]
        found = []
        for part in parts:
            if isinstance(part.get("$ref"), str) and part["$ref"].startswith(prefix):
                found.append((part["$ref"][len(prefix):], False))
            properties = {key: value for p in parts if isinstance(p.get("properties"), dict)
                          for key, value in p["properties"].items()}  # required names may be another part's
            for key in part.get("required") or []:
                target = properties.get(key)
                if isinstance(target, dict) and set(target) == {"$ref"} and str(target["$ref"]).startswith(prefix):
                    found.append((target["$ref"][len(prefix):], True))
        return found

    found = []
    for name in schemas:
        pending = [(target, by_property) for target, by_property in edges(name)]
        seen: set[tuple[str, bool]] = set()
        while pending:  # does `name` reach itself, through at least one required property?
            current, by_property = pending.pop()
            if current == name and by_property:
                found.append(name)
                break
            if (current, by_property) not in seen:
                seen.add((current, by_property))
                pending.extend((target, by_property or step) for target, step in edges(current))
    return found


def _rule_nullable_31(spec: LoadedSpec) -> Iterator[Diagnostic]:
    """`nullable` left over from 3.0: in 3.1 it is no keyword, so validators (and conformance) refuse the null that
    generated models, which read it as 3.0 did, accept."""
    if spec_version(spec.document) != "3.1":
        return
    for pointer, schema in schema_nodes(spec.document):
        if schema.get("nullable") is True:
            yield spec.diagnostic(
                join_pointer(pointer, "nullable"),
                "nullable-31",
                "`nullable` is no keyword in OpenAPI 3.1: validators ignore it, so null is invalid here, while the "
                "generated models accept it; write the type as [<type>, 'null']",
            )


def _rule_object_type_implied(spec: LoadedSpec) -> Iterator[Diagnostic]:
    for pointer in implied_objects(spec.document):
        yield spec.diagnostic(pointer, "object-type-implied",
                              "`properties` without `type: object`: any value that is not an object is valid here "
                              "too, but the generated model takes only an object; write `type: object`")


NAMED_SUBSCHEMAS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "schemas")


def implied_objects(document: dict[str, Any]) -> list[str]:
    """Pointers of the schemas with `properties` but no `type` (nor a composition or `$ref` to give one): JSON
    Schema admits any value that is not an object there, while the generated model, like every peer's, takes only an
    object, and so does conformance. A part of a composition is an object where the schema holding it says `type:
    object`, or, in allOf, where another part says so or is a `$ref`."""
    nodes = dict(schema_nodes(document))
    found = []
    for pointer, schema in nodes.items():
        if not isinstance(schema.get("properties"), dict) or not schema["properties"] or "type" in schema or any(
                key in schema for key in ("allOf", "oneOf", "anyOf", "$ref", "not", "enum", "const")):
            continue
        tokens = split_pointer(pointer)
        if any(token == "not" and tokens[i - 1] not in NAMED_SUBSCHEMAS for i, token in enumerate(tokens) if i):
            continue  # under `not`: what a value must not be, of which no model is made
        *holder, keyword, _ = tokens
        parent = nodes.get(pointer_of(holder), {}) if keyword in ("allOf", "oneOf", "anyOf") else {}
        siblings = parent.get(keyword) if keyword == "allOf" else []
        if _is_object_type(parent.get("type")) or any(isinstance(part, dict) and (
                _is_object_type(part.get("type")) or "$ref" in part) for part in siblings or []):
            continue
        found.append(pointer)
    return found


def _is_object_type(declared: Any) -> bool:
    """`type: object`, or a 3.1 list of types holding it (`[object, "null"]`)."""
    return declared == "object" or isinstance(declared, list) and "object" in declared


def _example_validator(spec: LoadedSpec) -> Callable[[str, Any, str | None], list[str]]:
    """Validate a value against the schema at a pointer, with refs resolved against the whole document, as a request
    (a required readOnly property may be absent) or a response (a required writeOnly one may), or as either when the
    example's direction is unknown (a component schema's own example)."""
    from jsonschema import validators
    from jsonschema.exceptions import best_match
    from openapi_schema_validator import OAS30Validator, OAS31Validator, oas30_format_checker, oas31_format_checker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    v31 = spec_version(spec.document) == "3.1"
    base, checker = (OAS31Validator, oas31_format_checker) if v31 else (OAS30Validator, oas30_format_checker)
    classes = {
        direction: validators.extend(base, {"pattern": ecma_pattern, "required": _required_unless(absent)})
        for direction, absent in (("request", "readOnly"), ("response", "writeOnly"))
    }
    registry: Registry[Any] = Registry().with_resource(
        "urn:spec", Resource.from_contents(spec.document, default_specification=DRAFT202012)
    )

    def check(schema_pointer: str, value: Any, direction: str | None) -> list[str]:
        messages: list[str] = []
        for cls in [classes[direction]] if direction else classes.values():
            validator = cls({"$ref": "urn:spec#" + schema_pointer}, registry=registry, format_checker=checker)
            error = best_match(validator.iter_errors(value))
            if error is None:
                return []
            messages.append(error.message)
        return messages[-1:]

    return check


def _required_unless(absent: str) -> Callable[..., Iterator[Any]]:
    """`required`, except for properties marked `absent` (readOnly in a request, writeOnly in a response), which
    OpenAPI says are required only in the other direction."""
    from jsonschema.exceptions import ValidationError

    def required(validator: Any, names: list[str], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
        if not validator.is_type(instance, "object"):
            return
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        for name in names:
            marked = properties.get(name)
            if name not in instance and not (isinstance(marked, dict) and marked.get(absent)):
                yield ValidationError(f"{name!r} is a required property")

    return required


def ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    """JSON Schema patterns are ECMA-262 with unicode semantics (`\\p{L}`), which Python's `re` lacks."""
    from jsonschema.exceptions import ValidationError
    from regress import Regex

    if isinstance(instance, str) and Regex(pattern, flags="u").find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _rule_examples(spec: LoadedSpec) -> Iterator[Diagnostic]:
    check = _example_validator(spec)
    for pointer, schema in schema_nodes(spec.document):
        candidates = [(join_pointer(join_pointer(pointer, "examples"), i), v) for i, v in enumerate(schema.get("examples") or [])]
        if "example" in schema:
            candidates.append((join_pointer(pointer, "example"), schema["example"]))
        for example_pointer, value in candidates:
            for message in check(pointer, value, _direction(pointer)):
                yield spec.diagnostic(example_pointer, "example-valid", f"example does not match its schema: {message}")
    for pointer, node in walk(spec.document.get("paths") or {}, "/paths"):
        if not isinstance(node, dict) or not isinstance(node.get("schema"), dict):
            continue
        values = [(join_pointer(pointer, "example"), node["example"])] if "example" in node else []
        for name, ex in (node.get("examples") or {}).items() if isinstance(node.get("examples"), dict) else ():
            if isinstance(ex, dict) and "value" in ex:
                values.append((join_pointer(join_pointer(join_pointer(pointer, "examples"), name), "value"), ex["value"]))
        for example_pointer, value in values:
            for message in check(join_pointer(pointer, "schema"), value, _direction(pointer)):
                yield spec.diagnostic(example_pointer, "example-valid", f"example does not match its schema: {message}")


def _direction(pointer: str) -> str | None:
    """Whether a value under this pointer is sent in a request or a response; None for a component's own."""
    tokens = split_pointer(pointer)
    if tokens[:1] != ["paths"]:
        return None
    return "response" if tokens[3:4] == ["responses"] else "request"  # /paths/{path}/{method}/responses/...


def _rule_refs_and_unused(spec: LoadedSpec) -> Iterator[Diagnostic]:
    document = spec.document
    used: set[str] = set()
    for pointer, node in walk(document):
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#"):
                continue
            used.add(ref)
            target: Any = document
            try:
                for token in split_pointer(ref):
                    target = target[int(token)] if isinstance(target, list) else target[token]
            except (KeyError, IndexError, ValueError, TypeError):
                yield spec.diagnostic(pointer, "ref-resolves", f"$ref {ref!r} does not resolve")
        if isinstance(node, dict) and isinstance(node.get("discriminator"), dict):
            used.update(v for v in (node["discriminator"].get("mapping") or {}).values() if isinstance(v, str))
    for _, _, _, op in operations(document):
        for requirement in op.get("security", []) or []:
            used.update(f"#/components/securitySchemes/{name}" for name in requirement)
    for requirement in document.get("security") or []:
        used.update(f"#/components/securitySchemes/{name}" for name in requirement)
    for kind in COMPONENT_KINDS:
        for name in (document.get("components") or {}).get(kind) or {}:
            ref = f"#/components/{kind}/{name}"
            if ref not in used:
                yield spec.diagnostic(ref[1:], "no-unused-component", f"component {kind}/{name} is never used")


HOUSE_RULES: tuple[Callable[[LoadedSpec], Iterator[Diagnostic]], ...] = (
    _rule_operations,
    _rule_links,
    _rule_secrets,
    _rule_write_only_required,
    _rule_nullable_31,
    _rule_required_cycles,
    _rule_object_type_implied,
    _rule_examples,
    _rule_refs_and_unused,
)


def lint(spec: LoadedSpec, settings: Settings | None = None, *, house_rules: bool = True) -> list[Diagnostic]:
    """Validator findings (errors unless configured otherwise); house rules only run on a valid document, at the
    level `settings` give them (a warning by default). A rule configured "off" reports nothing."""
    settings = settings or Settings()
    found = _leveled(validate(spec), settings, Level.ERROR)
    if errors(found) or not house_rules:
        return sorted(found)
    for rule in HOUSE_RULES:
        found.extend(_leveled(list(rule(spec)), settings, settings.house_rules))
    return sorted(found)


def _leveled(found: list[Diagnostic], settings: Settings, default: Level | None) -> list[Diagnostic]:
    leveled = []
    for diagnostic in found:
        level = settings.level(diagnostic.rule, default)
        if level is not None:
            leveled.append(diagnostic if diagnostic.level is level else replace(diagnostic, level=level))
    return leveled


def errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.level is Level.ERROR]
