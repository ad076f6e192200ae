"""What every generated route uses: OpenAPI path matching, query and body reading, rendering handler results."""

import dataclasses
import gc
import inspect
import json
import re
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Receive, Scope, Send

from ._spec import SCHEMES
from .problems import Problem, pointer_of, problem_response


@dataclass(frozen=True)
class Limits:
    """What one request may send. A body over `max_body_bytes` gets 413 (from its Content-Length, before it is
    read, or as soon as it grows past it), one slower than `body_timeout` seconds 408, JSON nested deeper than
    `max_json_depth` 400; with `reject_nul`, a NUL character in a path, query value or JSON string gets 400 (most
    databases refuse to store one). A lone UTF-16 surrogate in a JSON string, which no UTF-8 encoder can write
    back, always gets 400."""

    max_body_bytes: int = 1 << 20
    max_json_depth: int = 64
    body_timeout: float = 30.0
    reject_nul: bool = True


DEFAULT_LIMITS = Limits()


def freeze_after_startup(app: Any) -> None:
    """Once the app has started (its own lifespan, or FastAPI's startup handlers, run first), everything made to
    serve (models, routes, handlers, caches) is moved where the garbage collector does not scan it
    (`gc.freeze`), so a full collection walks only what requests made: a pause of milliseconds instead of the
    tens that made an unrelated request's p99. At shutdown the process's frozen objects (all of them: the freeze
    is process-wide) are handed back, for a process that goes on (tests) to collect."""
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(target: Any) -> AsyncIterator[Any]:
        async with started(target) as state:
            gc.collect()
            gc.freeze()
            try:
                yield state
            finally:
                gc.unfreeze()

    app.router.lifespan_context = lifespan


def limits_of(scope: Scope) -> Limits:
    """The app's `Limits` (`create_app(..., limits=)`, kept in `app.state`)."""
    limits: Limits = getattr(scope["app"].state, "limits", DEFAULT_LIMITS)
    return limits


OWN_PATHS = frozenset({"/openapi.json", "/docs"})  # the server's own pages, whatever the spec templates (`/{format}`)


class OpenAPIPathMatching:
    """ASGI middleware: a request is matched to a path as OpenAPI says (`/sources/wizard` is not `/sources/{id}`),
    and a method that path does not declare gets 405 with `Allow`, before any route can claim it. A path the spec
    writes with a trailing slash is answered without it too (no 307 redirect). A NUL in the
    path or query (`%00`) is refused here too, when the app's `Limits` say so, so no parameter can carry one."""

    def __init__(self, app: ASGIApp, allowed_methods: Callable[[str], str | None]):
        self.app = app
        self.allowed_methods = allowed_methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not (scope["path"] in OWN_PATHS or scope["path"].startswith("/docs/")):
            problem = None
            path = scope["path"]
            if not path.endswith("/") and self.allowed_methods(path) is None and self.allowed_methods(path + "/"):
                raw = scope.get("raw_path") or path.encode()
                scope = {**scope, "path": path + "/", "raw_path": raw + b"/"}  # served as written, not redirected
            methods = self.allowed_methods(scope["path"])
            if methods is not None and scope["method"] not in methods.split(", "):
                problem = Problem(405, "Method Not Allowed", headers={"Allow": methods})
            elif limits_of(scope).reject_nul and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
                where = "#path" if "\x00" in scope["path"] else "#query"
                problem = Problem(400, "The request could not be completed.", errors=[(where, "contains NUL")])
            if problem is not None:
                await problem_response(StarletteRequest(scope), problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def call_handler(operation: Callable[..., Any], *arguments: Any) -> Any:
    """Run one handler method: an `async def` on the event loop, a plain `def` in a worker thread, so a handler
    that blocks (a database driver, an outbound connection) stalls only its own request."""
    if inspect.iscoroutinefunction(operation):
        return await operation(*arguments)
    result = await run_in_threadpool(operation, *arguments)
    return await result if inspect.isawaitable(result) else result


T = TypeVar("T")


def implemented(handlers: T, allow_unimplemented: bool) -> T:
    """`handlers` (a dataclass: one implementation per tag, typed by its interface) checked for every operation
    method its interfaces declare. A missing one is an error naming them all, or, where allowed, answers 501."""
    interfaces = get_type_hints(type(handlers))
    missing: dict[str, list[str]] = {}
    extra: list[str] = []
    for tag in (field.name for field in dataclasses.fields(handlers)):  # type: ignore[arg-type]
        operations = [name for name in vars(interfaces[tag]) if not name.startswith("_")]
        implementation = getattr(handlers, tag)
        lacking = [name for name in operations if not callable(getattr(implementation, name, None))]
        if lacking:
            missing[tag] = lacking
        extra += [f"{tag}.{name}" for name in dir(type(implementation))
                  if not name.startswith("_") and name not in operations and callable(getattr(implementation, name))]
    if missing and not allow_unimplemented:
        listed = ", ".join(f"{tag}.{name}" for tag, names in missing.items() for name in names)
        unused = f"; methods no operation uses (renamed?): {', '.join(extra)}" if extra else ""
        raise TypeError(
            f"handlers do not implement: {listed}{unused} (create_app(..., allow_unimplemented=True) answers 501)"
        )
    if extra:  # most often an operation renamed in the spec, its handler method left behind
        warnings.warn(f"handlers have methods no operation uses: {', '.join(extra)}", stacklevel=3)
    if not missing:
        return handlers
    return dataclasses.replace(
        handlers,
        **{
            tag: _Unimplemented(getattr(handlers, tag), names)  # type: ignore[type-var]
            for tag, names in missing.items()
        },
    )


class _Unimplemented:
    """A tag's implementation with its missing operations answering 501 Not Implemented."""

    def __init__(self, implementation: Any, missing: list[str]):
        self._implementation = implementation
        self._missing = frozenset(missing)

    def __getattr__(self, name: str) -> Any:
        if name not in self._missing:
            return getattr(self._implementation, name)

        async def not_implemented(*_: Any) -> Any:
            raise Problem(501, f"operation {name} is not implemented")

        return not_implemented


KEYS_IN_QUERY = frozenset(name for kind, where, name, _ in SCHEMES.values() if kind == "apiKey" and where == "query")


def reject_unknown_query(request: Request, known: frozenset[str], deep_objects: frozenset[str] = frozenset()) -> None:
    """A query parameter the operation does not declare is an error (a typo such as `filter[sytem]` would
    otherwise be silently ignored); `name[key]` belongs to a deepObject parameter `name`, and an API key a security
    scheme carries in the query is no parameter but is expected."""
    known = known | KEYS_IN_QUERY
    unknown = sorted(key for key in set(request.query_params) - known if key.partition("[")[0] not in deep_objects)
    if unknown:
        raise Problem(
            400,
            "unknown query parameter",
            errors=[(f"#query/{name}", "not a parameter of this operation") for name in unknown],
        )


def object_query(
    request: Request,
    name: str,
    style: str,
    explode: bool,
    fields: tuple[str, ...],
    annotation: Any,
    rest_except: tuple[str, ...] | None = None,
) -> Any:
    """An object-valued query parameter, read as its style writes it (`deepObject`: `name[key]=value`; `form`
    exploded: the object's `fields` as parameters of their own, and, given `rest_except`, every key but those;
    `form` not exploded: `name=key,value,...`) and validated as its type, each value as its field's type; None
    when absent."""
    params = request.query_params
    if style == "deepObject":
        prefix = f"{name}["
        values = {
            key[len(prefix) : -1]: value
            for key, value in params.multi_items()
            if key.startswith(prefix) and key.endswith("]")
        }
    elif explode:
        others = () if rest_except is None else (*rest_except, *KEYS_IN_QUERY)
        values = {
            key: value
            for key, value in params.multi_items()
            if key in fields or rest_except is not None and key not in others and key.partition("[")[0] not in others
        }
    else:  # key,value pairs, or key value / key|value in the delimited styles; a last key's empty value may be cut
        text = params.get(name)
        parts = text.split(DELIMITERS.get(style, ",")) if text else []
        values = dict(zip(parts[::2], [*parts[1::2], ""]))
    if not values:  # a union's scalar member (`created=5` beside `created[gt]=5`), or nothing
        return json_value(params.get(name), annotation, name)
    where = f"#query/{name}" if style == "deepObject" or not explode else "#query"
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):  # a union with an object
        try:
            return adapter(annotation).validate_python(values)
        except ValidationError as exc:
            raise Problem(400, f"invalid query parameter {name}", errors=[(where, str(exc.errors()[0]["msg"]))]) from None
    return validate_form(values, annotation, where=where, what=f"query parameter {name}")


def invalid_parameter(name: str, exc: ValidationError, location: str = "query") -> Problem:
    """The 400 for a parameter (in the query, a header or a cookie) whose value is not its declared type, one
    error per pydantic error."""
    errors = [(f"#{location}/{name}", str(error["msg"])) for error in exc.errors()]
    return Problem(400, f"invalid value for {name}", errors=errors)


def comma_list(value: str | None, annotation: Any, name: str, location: str = "query", *,
               delimiter: str = ",") -> Any:
    """A `style: form, explode: false` array (`include=a,b`), or one in a cookie or header, parsed and validated
    as its declared type."""
    if value is None:
        return None
    try:
        return adapter(annotation).validate_python([item for item in value.split(delimiter) if item])
    except ValidationError as exc:
        raise invalid_parameter(name, exc, location) from None


DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|"}  # how the delimited styles join items; else a comma


def space_list(value: str | None, annotation: Any, name: str, location: str = "query") -> Any:
    """A `spaceDelimited` array: `ids=1%202`."""
    return comma_list(value, annotation, name, location, delimiter=DELIMITERS["spaceDelimited"])


def pipe_list(value: str | None, annotation: Any, name: str, location: str = "query") -> Any:
    """A `pipeDelimited` array: `ids=1|2`."""
    return comma_list(value, annotation, name, location, delimiter=DELIMITERS["pipeDelimited"])


def json_value(value: str | None, annotation: Any, name: str, location: str = "query") -> Any:
    """A parameter FastAPI cannot read itself (a union with an object, an array of arrays): its text as JSON (an
    array also as its items' JSON texts joined with commas, as the client writes it), or else as plain text,
    validated as the declared type; None when absent."""
    if value is None:
        return None
    is_list = any(get_origin(a) is list for a in (annotation, *get_args(annotation)))
    if not value.strip() and is_list:
        return adapter(annotation).validate_python([])  # an empty array, as RFC 6570 writes one
    for text in (value, f"[{value}]") if is_list else (value,):
        try:
            return adapter(annotation).validate_json(text)
        except ValidationError:
            pass
    try:
        return adapter(annotation).validate_strings(value)
    except ValidationError as exc:
        raise invalid_parameter(name, exc, location) from None


def path_value(raw: str, annotation: Any, name: str, style: str, explode: bool, shape: str) -> Any:
    """A path parameter as its style writes it (`simple` a,b · `label` .a.b · `matrix` ;name=a,b), for a scalar,
    an array (`shape`) or an object (`k,v` pairs, or `k=v` exploded), validated as the declared type."""
    text = raw
    if style == "label":
        text, separator = text.removeprefix("."), "." if explode else ","
    elif style == "matrix":
        parts = [part for part in text.split(";") if part]
        if shape == "object" and explode:
            text, separator = ",".join(parts), ","
        else:
            values = [part.partition("=")[2] for part in parts if part.partition("=")[0] == name]
            text, separator = ",".join(values), ","
    else:
        separator = ","
    tokens = text.split(separator) if text else []
    value: Any = text
    if shape == "array":
        value = tokens
    elif shape == "object":
        pairs = [t.partition("=")[::2] for t in tokens] if explode else list(zip(tokens[::2], tokens[1::2]))
        value = dict(pairs)
    try:
        if shape == "array":
            item = next((a for a in get_args(annotation) if a is not type(None)), str)
            return [adapter(item).validate_strings(token) for token in value]
        return adapter(annotation).validate_strings(value)
    except ValidationError as exc:
        message = "; ".join(str(error["msg"]) for error in exc.errors())
        raise Problem(400, f"invalid value for {name}", errors=[(f"#path/{name}", message)]) from None


def json_items(values: list[str] | None, annotation: Any, name: str, location: str = "query") -> Any:
    """An array of objects in the query (`name={"a":1}&name={"a":2}`): each item one JSON text, validated as
    the declared type."""
    if values is None:
        return None
    try:
        items = [json.loads(value, parse_float=json_number) for value in values]
    except ValueError as exc:
        raise Problem(400, f"invalid value for {name}", errors=[(f"#{location}/{name}", str(exc))]) from None
    try:
        return adapter(annotation).validate_python(items)
    except ValidationError as exc:
        raise invalid_parameter(name, exc, location) from None


async def raw_body(request: Request) -> bytes:
    """The request's body, read within its `Limits`: size (413) and time (408). Read here, not by FastAPI, so
    that credentials are judged first and an unauthenticated request costs no more than its headers."""
    limits = limits_of(request.scope)
    declared = request.headers.get("content-length", "")
    too_large = Problem(
        413, f"the body is larger than {limits.max_body_bytes} bytes", headers={"Connection": "close"}
    )
    if declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(limits.body_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limits.max_body_bytes:
                    raise too_large
                chunks.append(chunk)
    except TimeoutError:
        raise Problem(408, "the body did not arrive in time", headers={"Connection": "close"}) from None
    raw = b"".join(chunks)
    request._body = raw  # Starlette's own cache: a form is parsed from it, the stream being spent
    return raw


_UNSTORABLE = re.compile(r"[\ud800-\udfff]")
_UNSTORABLE_OR_NUL = re.compile(r"[\x00\ud800-\udfff]")


def unstorable(value: Any, limits: Limits) -> tuple[str, str] | None:
    """Where a parsed JSON value breaks `limits` (too deep; a lone surrogate or a NUL in a string or key) and
    why, or None. Iterative: a deep document cannot exhaust the stack here."""
    bad = _UNSTORABLE_OR_NUL if limits.reject_nul else _UNSTORABLE
    pending: list[tuple[Any, tuple[int | str, ...]]] = [(value, ())]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            if bad.search(item):
                return pointer_of(("body", *path)), "a string with a NUL or a lone surrogate cannot be stored"
        elif isinstance(item, (dict, list)):
            if len(path) >= limits.max_json_depth:
                return pointer_of(("body", *path)), f"nested deeper than {limits.max_json_depth} levels"
            entries = item.items() if isinstance(item, dict) else enumerate(item)
            for key, member in entries:
                if isinstance(key, str) and bad.search(key):
                    return pointer_of(("body", *path)), "a key with a NUL or a lone surrogate cannot be stored"
                pending.append((member, (*path, key)))
    return None


def json_number(text: str) -> int | float:
    """JSON has one number type: to JSON Schema `2942.0` is the integer 2942, so it is read as one (the models'
    StrictInt refuses a float; their StrictFloat takes an int)."""
    value = float(text)
    return int(value) if value.is_integer() else value


def media_type(request: Request) -> str:
    """The request's Content-Type without parameters, lower case; "" when none was sent."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_json(request: Request, annotation: Any, required: bool) -> Any:
    """A JSON body, read within the request's `Limits`, checked for what cannot be stored, and validated as its
    declared type; errors are 400 (413, 408, 415) problems with a pointer into the body."""
    raw = await raw_body(request)
    if not raw.strip():
        if required:
            raise Problem(400, "request body is required", errors=[("#body", "missing")])
        return None
    sent = media_type(request)
    if sent and not (sent == "application/json" or sent.endswith("+json")):
        raise Problem(415, "send the body as application/json", errors=[("#header/content-type", f"got {sent}")])
    try:
        value = json.loads(raw, parse_float=json_number)
    except (ValueError, RecursionError):  # undecodable bytes are a ValueError too
        raise Problem(400, "the body is not valid JSON", errors=[("#body", "invalid JSON")]) from None
    return validated_body(value, annotation, limits_of(request.scope))


def validated_body(value: Any, annotation: Any, limits: Limits) -> Any:
    """A parsed body (JSON, or XML read as its JSON) checked for what cannot be stored and validated as its declared
    type; each error a 400 with a pointer into the body."""
    problem = unstorable(value, limits)
    if problem is not None:
        raise Problem(400, "The request could not be completed.", errors=[problem])
    try:
        return adapter(annotation).validate_python(value)
    except ValidationError as exc:
        errors = [(pointer_of(("body", *in_value(value, error["loc"]))), str(error["msg"])) for error in exc.errors()]
        raise Problem(400, "The request could not be completed.", errors=errors) from None


def in_value(value: Any, location: tuple[int | str, ...]) -> list[int | str]:
    """pydantic's error location as a path into the JSON that was sent: a segment that is no key or index of it (a
    union member's tag such as `API_KEY`, `function-after[...]`) is left out, unless it is the last, which names
    a missing field."""
    path: list[int | str] = []
    node = value
    for position, part in enumerate(location):
        if isinstance(node, dict) and str(part) in node:
            node = node[str(part)]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif position < len(location) - 1:
            continue
        path.append(part)
    return path


async def read_body(request: Request, encoding: str, content_type: str, annotation: Any, required: bool) -> Any:
    """A body that is not JSON (a form, multipart, text or raw bytes), read and validated as its declared type."""
    raw = await raw_body(request)
    if not raw:
        if required:
            raise Problem(400, "request body is required", errors=[("#body", "missing")])
        return None
    sent = media_type(request)
    if (
        encoding in ("form", "multipart")
        and sent != content_type
        or encoding == "text"
        and not sent.startswith("text/")
    ):
        raise Problem(
            415, f"send the body as {content_type}", errors=[("#header/content-type", f"got {sent or 'none'}")]
        )
    if encoding == "binary":
        return raw
    if encoding == "text":
        try:
            return raw.decode(request.headers.get("content-type", "").partition("charset=")[2].strip() or "utf-8")
        except (UnicodeDecodeError, LookupError):
            raise Problem(
                400, "the body is not text in its declared charset", errors=[("#body", "undecodable")]
            ) from None
    form = await request.form()
    fields: dict[str, Any] = {}
    for key in dict.fromkeys(form.keys()):
        values = [await v.read() if isinstance(v, UploadFile) else v for v in form.getlist(key)]
        fields[key] = values if len(values) > 1 else values[0]
    return validate_form(fields, annotation)


async def read_media(
    request: Request, annotation: Any, required: bool, media: tuple[tuple[str, str, str], ...]
) -> Any:
    """A body the operation takes in more than one media type (`(content type, encoding, schema pointer)`, the
    client's first): read as the one the request's Content-Type names, the first when it names none; 415 lists
    them all for any other."""
    sent = media_type(request)
    exact = next((m for m in media if m[0] == sent), None)
    chosen = exact or next((m for m in media if _names(sent, m[0], m[1])), None if sent else media[0])
    if chosen is None:
        raise Problem(
            415,
            "send the body as one of " + ", ".join(m[0] for m in media),
            errors=[("#header/content-type", f"got {sent}")],
        )
    content_type, encoding, schema_pointer = chosen
    if encoding == "json":
        return await read_json(request, annotation, required)
    if encoding == "xml":
        return await read_xml(request, annotation, required, schema_pointer)
    return await read_body(request, encoding, content_type, annotation, required)


def _names(sent: str, content_type: str, encoding: str) -> bool:
    if encoding == "json":
        return sent == content_type or sent == "application/json" or sent.endswith("+json")
    if encoding == "text":
        return sent.startswith("text/")
    return sent == content_type


async def read_xml(request: Request, annotation: Any, required: bool, schema_pointer: str) -> Any:
    """An XML body, read by its schema's `xml` names (elements, attributes, wrapped arrays) into the value its JSON
    spelling would be, then validated as the declared type. No DTD is accepted: entities could expand it past
    every limit."""
    from xml.etree import ElementTree

    raw = await raw_body(request)
    if not raw.strip():
        if required:
            raise Problem(400, "request body is required", errors=[("#body", "missing")])
        return None
    invalid = Problem(400, "the body is not valid XML", errors=[("#body", "invalid XML")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid from None
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise Problem(400, "the body declares a DTD, which is not accepted", errors=[("#body", "DTD")])
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        raise invalid from None
    document = request.app.openapi()
    value = xml_value(root, schema_at(document, schema_pointer), document, limits_of(request.scope).max_json_depth)
    return validated_body(value, annotation, limits_of(request.scope))


def schema_at(document: dict[str, Any], pointer: str, seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The node at a JSON pointer, following each `$ref` on the way and at the end."""
    node: Any = document
    for token in pointer.split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(key)] if key.isdigit() and int(key) < len(node) else {}
        else:
            node = resolved(document, node, seen).get(key, {})
    return resolved(document, node, seen)


def resolved(document: dict[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A schema with its `$ref`s followed; {} (any value) for one into another file or in a cycle."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#"):
            return {}
        seen = seen | {ref}
        node = schema_at(document, ref.partition("#")[2], seen)
    found: dict[str, Any] = node if isinstance(node, dict) else {}
    return found


def merged(document: dict[str, Any], node: Any, seen: frozenset[int] = frozenset()) -> dict[str, Any]:
    """A schema resolved, with what its allOf members say merged in (its own keywords first): the one schema an
    XML element is read by."""
    schema = resolved(document, node)
    if not isinstance(schema.get("allOf"), list) or id(schema) in seen:
        return schema
    result = {key: value for key, value in schema.items() if key != "allOf"}
    properties = dict(schema.get("properties") or {})
    for member in schema["allOf"]:
        part = merged(document, member, seen | {id(schema)})
        properties = {**(part.get("properties") or {}), **properties}
        for key, value in part.items():
            result.setdefault(key, value)
    if properties:
        result["properties"] = properties
    return result


def xml_value(element: Any, schema: Any, document: dict[str, Any], depth: int) -> Any:
    """An element as the JSON its schema describes (a scalar's text read as its type, where it is one): an
    object's properties by their `xml` names, as child elements or attributes, and other children as further
    properties where the schema admits them; an array's items in their wrapper or repeated. Namespaces are not
    compared. Past `depth` levels, a 400."""
    if depth <= 0:
        raise Problem(400, "The request could not be completed.", errors=[("#body", "nested too deep")])
    schema = merged(document, schema)
    kind = _kind(schema)
    if kind == "array":  # the element wraps the items
        return [xml_value(member, schema.get("items") or {}, document, depth - 1) for member in element]
    if kind == "scalar" and not len(element):
        return xml_scalar(element.text or "", schema)
    properties = schema.get("properties") or {}
    value: dict[str, Any] = {}
    claimed: set[str] = set()
    for name, raw in properties.items():
        child_schema = merged(document, raw)
        options = child_schema.get("xml") or {}
        tag = options.get("name", name)
        if options.get("attribute"):
            found = next((v for k, v in element.attrib.items() if _local(k) == tag), None)
            if found is not None:
                value[name] = xml_scalar(found, child_schema)
        elif _kind(child_schema) == "array":
            items = merged(document, child_schema.get("items"))
            if options.get("wrapped"):
                wrapper = next((c for c in element if _local(c.tag) == tag), None)
                members = list(wrapper) if wrapper is not None else None
                claimed.add(tag)
            else:
                item_tag = (items.get("xml") or {}).get("name", tag)
                members = [c for c in element if _local(c.tag) == item_tag] or None
                claimed.add(item_tag)
            if members is not None:
                value[name] = [xml_value(member, items, document, depth - 1) for member in members]
        else:
            claimed.add(tag)
            child = next((c for c in element if _local(c.tag) == tag), None)
            if child is not None:
                value[name] = xml_value(child, child_schema, document, depth - 1)
    extra = schema.get("additionalProperties", True)
    if extra is not False:  # children no property names are properties of their own, read by its schema
        for child in element:
            if _local(child.tag) not in claimed and _local(child.tag) not in value:
                value[_local(child.tag)] = xml_value(child, extra if isinstance(extra, dict) else {}, document,
                                                     depth - 1)
    return value


def xml_scalar(text: str, schema: dict[str, Any]) -> Any:
    """Text as the scalar its schema's type says (`3` an integer, `true` a boolean, `null` where null is allowed);
    text that is none of them stays text, for the model to refuse."""
    declared = schema.get("type")
    types = set(declared) if isinstance(declared, list) else {declared}
    if text == "null" and ("null" in types or schema.get("nullable") is True) and "string" not in types:
        return None
    if types & {"integer", "number"} and re.fullmatch(r"-?(0|[1-9][0-9]*)", text):
        return int(text)  # exactly: through a float, an int64 would lose its last digits
    if types & {"integer", "number"} and re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?", text):
        return json_number(text)
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    return text


def _kind(schema: dict[str, Any]) -> str:
    """array | object | scalar, for a merged schema."""
    declared = schema.get("type")
    types = declared if isinstance(declared, list) else [declared]
    if "array" in types or "items" in schema:
        return "array"
    if "object" in types or "properties" in schema or "additionalProperties" in schema:
        return "object"
    return "scalar"


def _local(tag: str) -> str:
    """An element's name without its namespace (`{urn:x}pet` → `pet`)."""
    return tag.rpartition("}")[2]


def validate_form(fields: dict[str, Any], annotation: Any, where: str = "#body", what: str = "form body") -> Any:
    """Form values are strings: each is read as its field's type (`"3"` as 3), one field at a time. Of a union,
    the model that admits them and knows most of them (a discriminated union: of the options its tag allows)."""
    found = form_models(annotation, fields)
    if found is None:
        return fields
    options, tag = found
    if not options:
        told = f"{fields[tag]!r} names no option" if tag in fields else "missing"
        raise Problem(400, f"invalid {what}", errors=[(f"{where}/{tag}", f"discriminator {tag}: {told}")])
    problems: list[Problem] = []
    for option in options:
        try:
            return _validate_form_model(fields, option, where, what)
        except Problem as problem:
            problems.append(problem)
    raise problems[0]


def form_models(annotation: Any, fields: dict[str, Any]) -> tuple[list[type[BaseModel]], str] | None:
    """The models a form (or an object query parameter) of type `annotation` may be read as, best first (those
    that know the most of its fields), and the discriminator's property ("" for none): the model, a union's
    models, or those a discriminated union's tag in `fields` allows; None when it names no model."""
    value = _unaliased(annotation)
    members = [m for m in get_args(value) if m is not type(None)] if get_origin(value) in (Union, UnionType) else []
    if len(members) == 1:  # `X | None`: a body that may be left out is read as X
        value = _unaliased(members[0])
    chooser = next((m for m in get_args(value)[1:] if hasattr(m, "options_for")), None) \
        if get_origin(value) is Annotated else None
    union = get_args(value)[0] if get_origin(value) is Annotated else value
    options = get_args(union) if get_origin(union) in (Union, UnionType) else (union,)
    models = [o for o in options if isinstance(o, type) and issubclass(o, BaseModel)]
    if not models:
        return None
    allowed = [o for o in chooser.options_for(options, fields) if o in models] if chooser else models

    return sorted(allowed, key=lambda model: len(set(fields) - _wire_names(model))), chooser.property if chooser else ""


def _unaliased(annotation: Any) -> Any:
    return getattr(annotation, "__value__", annotation)  # a type alias: what it names


def _wire_names(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _validate_form_model(fields: dict[str, Any], annotation: type[BaseModel], where: str, what: str) -> Any:
    known = _wire_names(annotation)
    typed: dict[str, Any] = {key: value for key, value in fields.items() if key not in known}  # the model judges extras
    errors: list[tuple[str, str]] = []
    for name, field in annotation.model_fields.items():
        key = field.alias or name
        if key not in fields:
            continue
        value = fields[key]
        is_list = get_origin(field.annotation) is list or any(get_origin(a) is list for a in get_args(field.annotation))
        items = value if isinstance(value, list) else [value]
        try:
            typed[key] = (
                [form_value(item, field.annotation, True) for item in items]
                if is_list
                else form_value(items[-1], field.annotation, False)
            )
        except ValidationError as exc:
            errors.extend((f"{where}/{key}", str(error["msg"])) for error in exc.errors())
    if not errors:
        try:
            return annotation.model_validate(typed)
        except ValidationError as exc:
            errors = [
                (f"{where}/" + "/".join(str(p) for p in error["loc"]), str(error["msg"])) for error in exc.errors()
            ]
    raise Problem(400, f"invalid {what}", errors=errors)


def form_value(value: Any, annotation: Any, item: bool) -> Any:
    if isinstance(value, bytes):  # an uploaded file
        return value
    if item:  # the field is `list[X]` (or `list[X] | None`): read one X
        lists = [a for a in (annotation, *get_args(annotation)) if get_origin(a) is list]
        annotation = (get_args(lists[0]) or (Any,))[0]
    if value[:1] in ("{", "["):  # an object or array field sent as JSON text, or a string that starts so
        try:
            return adapter(annotation).validate_json(value)
        except ValidationError:
            pass
    return adapter(annotation).validate_strings(value)


def adapter(annotation: Any) -> TypeAdapter[Any]:
    """TypeAdapters are costly to build: one per type, kept (a type that cannot be hashed gets a fresh one)."""
    try:
        hash(annotation)
    except TypeError:
        return TypeAdapter(annotation)
    return cached_adapter(annotation)


@cache
def cached_adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def respond(result: Any, documented: dict[int | str, str | None]) -> Response:
    """Render a handler's result; a status the operation does not document (as itself, its range such as `2XX`,
    or `default`) is a server bug, not a success."""
    status = int(result.status_code)
    key = next((key for key in (status, f"{status // 100}XX", "default") if key in documented), None)
    if key is None:
        raise Problem(500, f"handler answered undocumented status {status}")
    media_type = documented[key]
    if result.body is None or media_type is None:
        return Response(status_code=status)
    if not media_type.endswith("json"):  # text or bytes, sent as they are
        return Response(result.body, status_code=status, media_type=media_type)
    return JSONResponse(dump(result.body, body_type(type(result))), status_code=status, media_type=media_type)


_BODY_TYPES: dict[type, Any] = {}


def body_type(result: type) -> Any:
    """The declared type of a result class's body (read once), or None where it cannot be read."""
    if result not in _BODY_TYPES:
        try:
            _BODY_TYPES[result] = get_type_hints(result).get("body")
        except Exception:  # noqa: BLE001 - a name the result's module cannot resolve: dumped by value instead
            _BODY_TYPES[result] = None
    return _BODY_TYPES[result]


def dump(value: Any, annotation: Any = None) -> Any:
    """JSON of a response value: models with only the fields that were set (absent stays absent, not null); as
    its declared type (`annotation`) where given, so that an option of a discriminated union carries its tag."""
    if annotation is not None:
        return cached_adapter(annotation).dump_python(value, mode="json", by_alias=True, exclude_unset=True,
                                                      warnings=False)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, (list, tuple)):
        return [dump(item) for item in value]
    if isinstance(value, dict):
        return {key: dump(item) for key, item in value.items()}
    return to_jsonable_python(value)
