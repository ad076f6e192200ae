"""specgen mock: the generated server for any spec, its handlers answering from the spec's examples (or values made
from the schema where there are none). Requests are validated by the generated routes exactly as in the real
server; any well-formed credential is accepted (with every scope) unless `keys` names the ones to accept."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import sys
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .cache import cache_dir
from .diagnostics import follow_refs

FORMATS = {  # a value of each string format pydantic and the validators accept
    "date-time": "2024-01-02T03:04:05Z", "date": "2024-01-02", "time": "03:04:05Z", "duration": "P1D",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "email": "user@example.com", "idn-email": "user@example.com",
    "uri": "https://example.com/", "url": "https://example.com/", "uri-reference": "/example", "iri": "https://example.com/",
    "hostname": "example.com", "idn-hostname": "example.com", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1",
    "byte": "c3BlY2dlbg==", "binary": "", "password": "secret", "regex": "^a$", "json-pointer": "/a",
}
DEPTH = 6  # deeper than this only required properties are filled, and a cycle ends at an empty value


@dataclass(frozen=True)
class MockOperation:
    method: str
    path: str
    handler: str  # `tag.method` of the generated handlers
    status: int
    source: str  # where the answer comes from: "example", "schema" (synthesised) or "no body"


@dataclass(frozen=True)
class Mock:
    app: Any
    title: str
    operations: tuple[MockOperation, ...]
    handlers: Any  # the generated package's `Handlers`, one answering object per tag
    package: str  # the generated package's import name


def synthesize(schema: Any, document: dict[str, Any], depth: int = 0, examples: bool = True) -> Any:
    """A value valid against `schema` (refs resolved in `document`): its own example or default where it has
    one (unless `examples` is off: some are written for requests), else the smallest value its keywords allow;
    every property while shallow, required ones deeper. Where no value can be valid (a oneOf whose options all
    overlap), the closest one."""
    if depth:
        return _made(schema, document, depth, examples)
    try:
        return _made(schema, document, 0, examples)
    except NoValue as none:
        return none.closest


def _made(schema: Any, document: dict[str, Any], depth: int, examples: bool) -> Any:
    schema = follow_refs(document, schema)
    if not isinstance(schema, dict) or depth > 4 * DEPTH:  # a cycle through required properties: cut
        return {}
    if "const" in schema:
        return schema["const"]
    if "default" in schema and (schema["default"] is not None or _nullable(schema, document)):
        return schema["default"]  # a null default of a type without null is no value
    if depth >= DEPTH and _nullable(schema, document):  # a recursive structure ends where it may
        return None
    listed = schema["examples"][:1] if isinstance(schema.get("examples"), list) else []
    for example in (listed or ([schema["example"]] if "example" in schema else [])) if examples else ():
        # an object's example may be written for requests: what it lacks (readOnly ids, times) is made up
        return {**_object(schema, document, depth), **example} if isinstance(example, dict) and "properties" in schema \
            else example
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if isinstance(schema.get("allOf"), list):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = synthesize(part, document, depth + 1, examples)
            if not isinstance(value, dict):
                return value
            merged |= value
        return merged | (_object(schema, document, depth, examples) if "properties" in schema else {})
    if isinstance(schema.get("oneOf"), list) and schema["oneOf"]:
        return _one_of(schema["oneOf"], document, depth, examples)
    options = [o for o in schema.get("anyOf") or [] if follow_refs(document, o).get("type") != "null"]
    if options:
        return synthesize(options[0], document, depth + 1, examples)
    kinds = schema.get("type")
    kind = next((k for k in kinds if k != "null"), "null") if isinstance(kinds, list) else kinds
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
    if kind == "object":
        return _object(schema, document, depth, examples)
    if kind == "array":
        least = int(schema.get("minItems") or 0)
        try:
            return [synthesize(schema.get("items") or {}, document, depth + 1, examples)
                    for _ in range(max(1, least) if depth < DEPTH else least)]
        except NoValue:
            if least:
                raise
            return []
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema)


def _one_of(options: list[Any], document: dict[str, Any], depth: int, examples: bool) -> Any:
    """A value valid against exactly one option, as oneOf asks: each option's value (not-null options first), then
    each one's smallest (only what it requires), until one matches no other option."""
    ordered = sorted(options, key=lambda o: follow_refs(document, o).get("type") == "null")
    closest: list[Any] = []
    for level in (depth + 1, max(depth + 1, DEPTH)):  # made one at a time: most often the first will do
        for option in ordered:
            try:
                value = synthesize(option, document, level, examples)
            except NoValue as none:
                closest.append(none.closest)
                continue
            closest.append(value)
            try:
                unique = sum(_matches(document, each, value) for each in options) == 1
            except Exception:  # noqa: BLE001 - a schema the validator cannot read (a ref it cannot resolve): unjudged
                return value
            if unique:
                return value
    raise NoValue(closest[0])


class NoValue(ValueError):
    """No value is valid against the schema (a oneOf whose options all overlap): an optional property or array
    item is left out, a required one passes it up; `closest` is what to use where nothing can be left out."""

    def __init__(self, closest: Any):
        super().__init__("no value matches exactly one of its oneOf options")
        self.closest = closest


_VALIDATORS: dict[int, tuple[dict[str, Any], Any]] = {}


def _matches(document: dict[str, Any], schema: Any, value: Any) -> bool:
    """Whether `value` is valid against `schema`, its refs resolved in `document`, as the spec's version reads it."""
    known = _VALIDATORS.get(id(document))
    if known is None or known[0] is not document:
        from openapi_schema_validator import OAS30Validator, OAS31Validator

        cls = OAS30Validator if str(document.get("openapi", "")).startswith("3.0") else OAS31Validator
        # the document is where `#/...` resolves; formats are checked, as the judges of conformance check them
        _VALIDATORS.clear()  # the last document's only: a long-lived process does not keep every one
        known = _VALIDATORS[id(document)] = (document, cls(document, format_checker=cls.FORMAT_CHECKER))
    return bool(known[1].evolve(schema=schema).is_valid(value))


def _operation(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    item = follow_refs(document, (document.get("paths") or {}).get(path) or {})
    operation = item.get(method.lower())
    return operation if isinstance(operation, dict) else {}


def _nullable(schema: dict[str, Any], document: dict[str, Any]) -> bool:
    """Whether null is a valid value (`nullable` counts in 3.0 only: 3.1 validators ignore it)."""
    kinds = schema.get("type")
    nullable = schema.get("nullable") is True and not str(document.get("openapi", "")).startswith("3.1")
    return (nullable or kinds == "null" or isinstance(kinds, list) and "null" in kinds
            or any(follow_refs(document, o).get("type") == "null" for k in ("oneOf", "anyOf") for o in schema.get(k) or []))


def _object(schema: dict[str, Any], document: dict[str, Any], depth: int, examples: bool = True) -> dict[str, Any]:
    required = set(schema.get("required") or [])
    value = {}
    for name, prop in (schema.get("properties") or {}).items():
        resolved = follow_refs(document, prop)
        if resolved.get("writeOnly") or (depth >= DEPTH and name not in required):
            continue
        try:
            value[name] = synthesize(prop, document, depth + 1, examples)
        except NoValue:
            if name in required:
                raise
    return value


def _number(schema: dict[str, Any], kind: str) -> int | float:
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(schema.get("exclusiveMinimum"), (int, float)) and not isinstance(schema["exclusiveMinimum"], bool):
        low = schema["exclusiveMinimum"] + (1 if kind == "integer" else 0.5)
    value = low if isinstance(low, (int, float)) else min(1, high) if isinstance(high, (int, float)) else 1
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step:
        value = -(-value // step) * step
    return int(value) if kind == "integer" else float(value)


def _string(schema: dict[str, Any]) -> str:
    text = FORMATS.get(str(schema.get("format")), "string")
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        text = _matching(pattern, text)
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(text) < low:
        text += "a" * (low - len(text))
    if isinstance(high, int) and len(text) > high:
        text = text[:high]
    return text


def _matching(pattern: str, preferred: str) -> str:
    """`preferred` if it matches, else the shortest string the pattern's parse spells out (ECMA-only syntax
    Python's `re` cannot read keeps `preferred`)."""
    import re

    try:
        if re.search(pattern, preferred):
            return preferred
        made = _spelled(re._parser.parse(pattern))
        return made if re.search(pattern, made) else preferred
    except (re.error, RecursionError, ValueError):
        return preferred


def _spelled(parsed: Any) -> str:
    """The shortest text matching a parsed regex: one of each literal, the first of each set and branch, each
    repeat its minimum number of times (at least once where a class is asked for)."""
    from re import _constants as c

    classes = {c.CATEGORY_DIGIT: "0", c.CATEGORY_WORD: "a", c.CATEGORY_SPACE: " ", c.CATEGORY_NOT_DIGIT: "a",
               c.CATEGORY_NOT_WORD: "-", c.CATEGORY_NOT_SPACE: "a"}
    text = []
    for op, value in parsed:
        if op is c.LITERAL:
            text.append(chr(value))
        elif op is c.ANY:
            text.append("a")
        elif op is c.IN:
            negated = any(o is c.NEGATE for o, _ in value)
            choices = [o for o in value if o[0] is not c.NEGATE]
            if negated:
                taken = {chr(v) for o, v in choices if o is c.LITERAL}
                text.append(next(ch for ch in "abz09-_ " if ch not in taken))
            elif choices:
                o, v = choices[0]
                text.append(chr(v) if o is c.LITERAL else chr(v[0]) if o is c.RANGE else classes.get(v, "a"))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, inner = value
            text.append(_spelled(inner) * low)
        elif op is c.SUBPATTERN:
            text.append(_spelled(value[-1]))
        elif op is c.BRANCH:
            text.append(_spelled(value[1][0]))
        elif op is c.CATEGORY:
            text.append(classes.get(value, "a"))
    return "".join(text)


def response_example(document: dict[str, Any], path: str, method: str, status: str) -> tuple[Any, str] | None:
    """The documented example of one response (its media type's, else its schema's), or a synthesised value."""
    entry = _media_entry(document, path, method, status)
    if entry is None:
        return None
    if "example" in entry:
        return entry["example"], "example"
    for example in (entry.get("examples") or {}).values():
        example = follow_refs(document, example)
        if "value" in example:
            return example["value"], "example"
    schema = entry.get("schema") or {}
    resolved = follow_refs(document, schema)
    if "example" in resolved or resolved.get("examples"):
        return synthesize(schema, document), "example"
    return synthesize(schema, document), "schema"


class _Anyone:
    """Accepts any non-empty credential, or only `keys`, as a principal with every scope the spec names; under a
    mutualTLS scheme (`certified`), any certificate: checking it is the TLS layer's, for which the mock stands in."""

    def __init__(self, principal: Any, keys: frozenset[str], certified: frozenset[str]):
        self.principal, self.keys, self.certified = principal, keys, certified

    async def authenticate(self, scheme: str, credential: str) -> Any:
        if scheme in self.certified:
            return self.principal
        if not credential.strip() or (self.keys and credential not in self.keys):
            return None
        return self.principal


MOCK_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nspecgen mock\n-----END CERTIFICATE-----\n"


def _certified(app: Any) -> Any:
    """The mock stands in for the TLS layer too: every request presents a client certificate (the ASGI TLS
    extension), so an operation that requires mutualTLS answers as the others do."""

    async def certified(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and "tls" not in scope.get("extensions", {}):
            tls = {"server_cert": None, "client_cert_chain": [MOCK_CERTIFICATE], "client_cert_name": "specgen mock",
                   "client_cert_error": None, "tls_version": None, "cipher_suite": None}
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": tls}}
        await app(scope, receive, send)

    return certified


def _scopes(document: dict[str, Any]) -> frozenset[str]:
    found = set()
    for requirement in _requirements(document):
        for scopes in requirement.values():
            found |= set(scopes or [])
    return frozenset(found)


def _requirements(document: dict[str, Any]) -> Iterable[dict[str, list[str]]]:
    yield from document.get("security") or []
    for item in (document.get("paths") or {}).values():
        for operation in (item or {}).values():
            if isinstance(operation, dict):
                yield from operation.get("security") or []


def _success_class(protocol: type, method: str, module: ModuleType, documents_responses: bool) -> type | None:
    """The result class the mock answers with: the lowest documented 2xx, else a 2XX range or `default`; None
    where only errors are documented; the generated catch-all where the operation documents no response at all."""
    hints = typing.get_type_hints(getattr(protocol, method), globalns=vars(module))
    results = [t for t in _flattened(hints.get("return")) if dataclasses.is_dataclass(t) and isinstance(t, type)]
    catch_all = [t for t in results if "none is documented" in (t.__doc__ or "")]
    documented = [t for t in results if t not in catch_all] if documents_responses else catch_all
    fixed: list[type] = sorted((t for t in documented if getattr(t, "status_code", None)),
                               key=lambda t: int(getattr(t, "status_code")))
    ranged = [t for t in documented if (t.__doc__ or "").split(":")[0] in ("2XX", "default")]
    success = [t for t in fixed if 200 <= int(getattr(t, "status_code")) < 300]
    chosen = success or ranged or fixed
    return chosen[0] if chosen else None


def _flattened(annotation: Any) -> list[Any]:
    found = []
    for arg in typing.get_args(annotation) or (annotation,):
        found += _flattened(arg) if typing.get_args(arg) else [arg]
    return found


def build(spec_path: str | Path, *, keys: Iterable[str] = (), out: Path | None = None) -> Mock:
    """Generate the package for `spec_path` (cached by its content, like any generation), import it, and build
    its app with answering handlers."""
    from . import pipeline

    digest = hashlib.sha256(str(Path(spec_path).resolve()).encode()).hexdigest()[:12]
    package = f"specgen_mock_{digest}"
    out = out or cache_dir("mock")
    destination = pipeline.generate(spec_path, out, package).destination
    if str(out) not in sys.path:
        sys.path.insert(0, str(out))
    server = importlib.import_module(f"{package}.server")
    handlers_module = importlib.import_module(f"{package}.server.handlers")
    interfaces = typing.get_type_hints(server.Handlers, globalns=vars(server))
    document = json.loads((destination / "openapi.json").read_text())
    manifest = json.loads((destination / ".specgen-manifest.json").read_text())["operations"]
    tags: dict[str, dict[str, Any]] = {}
    operations = []
    for operation, handler in sorted(manifest.items()):
        method, path = operation.split(" ", 1)
        tag, name = handler.split(".")
        documents_responses = bool(_operation(document, path, method).get("responses"))
        result = _success_class(interfaces[tag], name, handlers_module, documents_responses)
        answer, status, source = _answer(result, server, handlers_module, document, path, method.lower())
        tags.setdefault(tag, {})[name] = answer
        operations.append(MockOperation(method, path, handler, status, source))
    handlers = server.Handlers(**{tag: type(f"Mock{tag}", (), methods)() for tag, methods in tags.items()})
    principal = server.Principal("mock", _scopes(document), "mock")
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    certified = frozenset(name for name, scheme in schemes.items()
                          if follow_refs(document, scheme).get("type") == "mutualTLS")
    anyone = _Anyone(principal, frozenset(keys), certified)
    app = _certified(server.create_app(handlers, anyone, allow_unimplemented=True))
    return Mock(app, str((document.get("info") or {}).get("title", "")), tuple(operations), handlers, package)


def _answer(result: type | None, server: ModuleType, module: ModuleType, document: dict[str, Any], path: str,
            method: str) -> tuple[Any, int, str]:
    """The handler method for one operation: it answers the same value each time (501 where there is none)."""

    def unanswerable(why: str, status: int = 501) -> tuple[Any, int, str]:
        def refuse(self: Any, request: Any, principal: Any) -> Any:
            raise server.Problem(status, f"specgen mock: {why}")

        return refuse, status, why

    if result is None:  # only errors are documented: the lowest of them, as a problem
        responses = _operation(document, path, method).get("responses") or {}
        documented = sorted(int(s) for s in responses if str(s).isdigit() and 200 <= int(s) < 600)  # not 1xx
        return unanswerable("the spec documents no success response", documented[0] if documented else 501)
    fields = {f.name for f in dataclasses.fields(result)}
    status = int(getattr(result, "status_code", 200) or 200) if "status_code" not in fields else 200
    key = str(status) if "status_code" not in fields else (result.__doc__ or "default").split(":")[0]
    hints = typing.get_type_hints(result, globalns=vars(module))
    body_type = hints.get("body")
    extra = {"status_code": status} if "status_code" in fields else {}
    if body_type is None or body_type is type(None):
        value, source = None, "no body"
    elif body_type is Any:  # the catch-all of an operation that documents no response: any JSON will do
        value, source = {}, "no response documented"
    else:
        from pydantic import TypeAdapter

        adapter = TypeAdapter(body_type)
        try:
            found = response_example(document, path, method, key) or (None, "schema")
            value, source = adapter.validate_python(found[0]), found[1]
        except ValueError:  # the example does not match its own schema: a value made from the schema instead
            try:
                schema = (_media_entry(document, path, method, key) or {}).get("schema") or {}
                made = synthesize(schema, document, examples=False)
                value = adapter.validate_python(made)
            except ValueError as exc:
                first = " ".join(str(exc).split())[:160]
                return unanswerable(f"no valid value could be made for the {key} response: {first}")
            source = "schema"
    answer = result(**extra, body=value)

    def respond(self: Any, request: Any, principal: Any) -> Any:
        return answer

    return respond, status, source


def _media_entry(document: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any] | None:
    """The media type entry a response is answered in (a JSON one first), or None when it has no content."""
    response = follow_refs(document, (_operation(document, path, method).get("responses") or {}).get(status) or {})
    content = response.get("content") or {}
    media = next((m for m in content if "json" in m), next(iter(content), None))
    return (content[media] or {}) if media is not None else None
