"""Bundled document + models → Api. Every naming and typing decision is made here."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from . import ir
from .diagnostics import Finding, join_pointer, split_pointer
from .lint import HTTP_METHODS, spec_version
from .models import ModelsModule, pattern_problem
from .naming import avoiding, class_name, numbered, py_literal, snake_name, status_suffix, unique

JSON_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
STRING_FORMATS = {"uuid": "UUID", "date-time": "datetime", "date": "date"}  # imported by every template
CONSTRAINTS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
}
RETRY_SAFE_METHODS = {"get", "head", "options", "put", "delete"}
LIST_READERS = {"spaceDelimited": "space_list", "pipeDelimited": "pipe_list"}  # else comma_list
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})  # OpenAPI: such header parameters are ignored
ITEM_FIELDS = ("results", "data", "items", "records")  # preferred homes of a page's items
TOTAL_FIELDS = ("count", "total", "totalSize", "total_count", "totalCount", "total_size", "totalResults")
# Names the generated functions use besides their parameters and underscored locals: `body` (the request body's
# argument and field) and the module-level names their bodies call (templates/server/routes.py.jinja,
# templates/client/resources.py.jinja). A parameter never takes one of them.
GENERATED_LOCALS = frozenset({
    "self", "body", "models", "h", "handlers", "authenticator", "router", "respond", "comma_list", "read_body",
    "reject_unknown_query", "object_query", "json_items", "read_json", "call_handler", "json_value", "space_list",
    "pipe_list", "read_media", "path_value",
})
# Attributes of the generated client besides its resources (templates/client/_base.py.jinja): no tag takes one.
CLIENT_ATTRIBUTES = frozenset({
    "base_url", "timeout", "max_retries", "backoff", "max_retry_after", "headers", "cookies", "auth_query", "http",
    "auth", "request", "close", "aclose", "arguments", "next_delay", "settled", "responses",
})
# Names the server's handlers module and the client's resources module define or import besides the ones the IR
# names: no generated class takes one of them.
MODULE_NAMES = frozenset({
    "Any", "Awaitable", "ClassVar", "Literal", "Protocol", "UUID", "dataclass", "date", "datetime", "models", "Principal",
    "AsyncIterator", "Iterator", "AsyncBase", "SyncBase", "DEFAULT_BASE_URL", "Client", "AsyncClient", "Unpack",
    "httpx",
})


class _Builder:
    def __init__(self, document: dict[str, Any], models: ModelsModule, package: str,
                 inline: dict[str, dict[str, Any]]):
        self.document = document
        self.models = models
        self.inline = {id(schema): name for name, schema in inline.items()}
        self.package = package
        self.unmapped: set[str] = set()  # component schemas with no generated class: typed as Any, and reported
        self.literals: dict[str, str] = {}  # `Literal[...]` → its alias name in `models`
        self.warnings: list[Finding] = []
        self.security_sets: dict[tuple[ir.SecurityRequirement, ...], int] = {}

    def deref(self, node: Any) -> Any:
        """Follow `$ref`s to a non-reference object (parameters, bodies, responses)."""
        seen = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
            ref = node["$ref"]
            if ref in seen:
                return {}
            seen.add(ref)
            target: Any = self.document
            for token in split_pointer(ref):
                target = target[int(token)] if isinstance(target, list) else target.get(token, {})
            node = target
        return node if isinstance(node, dict) else {}

    # -- types ---------------------------------------------------------------------------------------------------

    def annotation(self, schema: Any, direction: str, name: str) -> str:
        """The type of `schema`; `name` is what an enum found in it is called (see `literal`)."""
        if not isinstance(schema, dict) or not schema:
            return "Any"
        if id(schema) in self.inline:  # an operation's inline schema, modelled under a name of its own
            return self.model(self.inline[id(schema)], direction)
        ref = schema.get("$ref")
        if isinstance(ref, str):
            tokens = split_pointer(ref)
            if len(tokens) == 3 and tokens[:2] == ["components", "schemas"]:
                return self.model(tokens[2], direction)
            return self.annotation(self.deref(schema), direction, name)
        nullable = schema.get("nullable") is True
        if "const" in schema:
            return self.literal([schema["const"]], nullable, name)
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.literal(schema["enum"], nullable, name)
        for key in ("oneOf", "anyOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                return _union([self.annotation(s, direction, name) for s in schema[key]] + (["None"] if nullable else []))
        if isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
            return _union([self.annotation(schema["allOf"][0], direction, name)] + (["None"] if nullable else []))
        types = schema.get("type")
        type_list = types if isinstance(types, list) else [types] if isinstance(types, str) else []
        parts = [self._single_type(t, schema, direction, name) for t in type_list] or ["Any"]
        if nullable:
            parts.append("None")
        return _union(parts)

    def model(self, component: str, direction: str) -> str:
        """The class of a (modelled) component schema as requests or responses use it; for an allOf parent with
        a discriminator, the union of it and its subtypes, except in a parameter (read field by field, from the
        parent's fields)."""
        component = self.models.subtypes.get(component, component) if direction != "parameter" else component
        table = self.models.response_class if direction == "response" else self.models.request_class
        if component not in table:
            self.unmapped.add(component)
            return "Any"
        return f"models.{table[component]}"

    def literal(self, values: list[Any], nullable: bool, name: str) -> str:
        """`models.<name>`, an alias of `Literal[...values]`; the first use of a set of values names it."""
        literals = [py_literal(v) for v in values if v is not None and isinstance(v, (str, int, bool))]
        parts = []
        if literals:
            value = f"Literal[{', '.join(literals)}]"
            if value not in self.literals:
                self.literals[value] = _claim(numbered(name), lambda c: [c],
                                              set(self.models.modules) | set(self.literals.values()))
            parts.append(f"models.{self.literals[value]}")
        if nullable or None in values:
            parts.append("None")
        return _union(parts or ["Any"])

    def _single_type(self, json_type: str, schema: dict[str, Any], direction: str, name: str) -> str:
        if json_type == "array":
            return f"list[{self.annotation(schema.get('items'), direction, name)}]"
        if json_type == "object":
            return "dict[str, Any]"
        if json_type == "string" and schema.get("format") in STRING_FORMATS:
            return STRING_FORMATS[schema["format"]]
        return JSON_TYPES.get(json_type, "Any")

    # -- operations ----------------------------------------------------------------------------------------------

    def parameters(self, path_item: dict[str, Any], operation: dict[str, Any], prefix: str,
                   pointer: str) -> tuple[ir.Parameter, ...]:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in list(path_item.get("parameters") or []) + list(operation.get("parameters") or []):
            param = self.deref(raw)
            if param.get("in") == "header" and str(param.get("name")).lower() in IGNORED_HEADERS:
                self.warnings.append(Finding(join_pointer(pointer, "parameters"), "header-parameter-ignored",
                                             f"header parameter {param['name']!r} is ignored, as OpenAPI says: "
                                             "media types and security schemes decide that header"))
                continue
            if param.get("name") and param.get("in") in ("path", "query", "header", "cookie"):
                merged[(param["name"], param["in"])] = param
        ordered = sorted(merged.values(), key=lambda p: (0 if p["in"] == "path" else 1 if p.get("required") else 2))
        names = unique([avoiding(snake_name(p["name"]), GENERATED_LOCALS) for p in ordered])
        result: list[ir.Parameter] = []
        free_form: set[int] = set()
        for param, py_name in zip(ordered, names):
            schema = param.get("schema") if isinstance(param.get("schema"), dict) else {}
            resolved = self.deref(schema)
            is_array = resolved.get("type") == "array" or "array" in (resolved.get("type") or [])
            default = resolved.get("default")
            # A parameter's value is a scalar or a list on the wire: a $ref to a primitive component is inlined,
            # so frameworks see `str`/`Literal[...]`, not a model class.
            annotation = self.annotation(resolved if _is_scalar_schema(resolved) else schema, "parameter",
                                         prefix + class_name(param["name"]))
            primitive = annotation in ("str", "int", "float", "bool")  # constraints only fit these
            style = param.get("style", "form" if param["in"] in ("query", "cookie") else "simple")
            explode = bool(param.get("explode", style == "form"))
            required = bool(param.get("required")) or param["in"] == "path"
            py_annotation = annotation if required or default is not None else _optional(annotation)
            reader = wire_reader(param, self.deref)
            deep = reader == "object_query" and style == "deepObject"
            comma_list = reader in ("comma_list", *LIST_READERS.values())
            json_items, json_value, in_text = reader == "json_items", reader == "json_value", reader == "path_value"
            if (json_value or json_items) and is_array:
                self.warnings.append(Finding(join_pointer(pointer, "parameters"), "parameter-serialization-undefined",
                                             f"{param['in']} parameter {param['name']!r} is an array of objects or "
                                             "arrays, which no OpenAPI style writes: the generated client sends each "
                                             "item as JSON text, " + ("the name repeated" if json_items else
                                                                      "joined with commas") +
                                             ", and the server reads that" + ("" if json_items else
                                                                             " or one JSON array")))
            result.append(
                ir.Parameter(
                    name=param["name"],
                    py_name=py_name,
                    location=param["in"],
                    required=required,
                    annotation=annotation,
                    py_annotation=py_annotation,
                    wire_annotation="str" if in_text else ("str" if required else "str | None") if comma_list or json_value else
                    ("list[str]" if required else "list[str] | None") if json_items else py_annotation,
                    wire_reader=reader if reader != "object_query" else "",
                    default=py_literal(default) if default is not None and not is_array else None,
                    constraints=self.constraints(resolved, pointer, param["name"]) if primitive and not in_text else (),
                    explode=explode,
                    is_array=is_array,
                    style=style,
                    object_fields=None if in_text else tuple(_object_properties(self, resolved)) if _is_object(resolved) else
                    tuple(name for part in resolved.get("anyOf") or resolved.get("oneOf") or []
                          for name in _object_properties(self, self.deref(part))) if deep else None,
                    description=_one_line(param.get("description", "")),
                    shape="array" if is_array else "object" if _is_object(resolved) else "scalar",
                )
            )
            if _is_object(resolved) and explode and style == "form" and param["in"] == "query" and \
                    resolved.get("additionalProperties") is not False:
                free_form.add(len(result) - 1)
        # an exploded object that admits more properties than it names takes every key no other parameter does
        for index in free_form:
            others = [name for other in result if other is not result[index] and other.location == "query"
                      for name in (other.name, *(other.object_fields or () if other.explode and other.style == "form"
                                                 else ()))]
            result[index] = dataclasses.replace(result[index], takes_other_keys=tuple(dict.fromkeys(others)))
            self.warnings.append(Finding(join_pointer(pointer, "parameters"), "query-object-open",
                                         f"query parameter {result[index].name!r} is an exploded object that admits "
                                         "properties it does not name, so every query key no parameter names is one "
                                         "of them: unknown query parameters are not refused (additionalProperties: "
                                         "false keeps them refused)"))
        return tuple(result)

    def constraints(self, schema: dict[str, Any], pointer: str, name: str) -> tuple[ir.Constraint, ...]:
        """A parameter's validation keywords as FastAPI takes them; a pattern pydantic cannot compile (it would
        stop the server from starting) is left out, with a warning."""
        found = []
        for key, keyword in CONSTRAINTS.items():
            value = schema.get(key)
            if value is None or isinstance(value, bool):
                continue
            if key == "pattern" and (why := pattern_problem(str(value))):
                self.warnings.append(Finding(join_pointer(pointer, "parameters"), "pattern-unsupported",
                                             f"parameter {name!r}: pattern {value!r} cannot be compiled by pydantic "
                                             f"({why}); the parameter is not checked against it"))
                continue
            found.append(ir.Constraint(keyword, py_literal(value)))
        return tuple(found)

    def request_body(self, operation: dict[str, Any], prefix: str, pointer: str) -> ir.RequestBody | None:
        body = self.deref(operation.get("requestBody"))
        content = body.get("content") or {}
        content_type = _pick_media_type(content) or _pick_other_media_type(content)
        if content_type is None:
            return None
        encoding = _encoding(content_type)
        schema = (content[content_type] or {}).get("schema")
        annotation = {"binary": "bytes", "text": "str"}.get(encoding) or self.annotation(
            schema, "request", f"{prefix}Body")
        required = bool(body.get("required"))
        return ir.RequestBody(
            annotation=annotation,
            py_annotation=annotation if required else _optional(annotation),
            required=required,
            content_type=_concrete(content_type),
            encoding=encoding,
            description=_one_line(body.get("description", "")),
            media=self.body_media(content, content_type, join_pointer(pointer, "requestBody")),
        )

    def body_media(self, content: dict[str, Any], first: str, pointer: str) -> tuple[ir.BodyMedia, ...]:
        """The media types the server reads a body in: the client's, then each other one with the same schema
        that can carry it (XML, a form, JSON of another name; text or bytes only for a string); a warning names
        each other one, which is answered 415."""
        schema = (content[first] or {}).get("schema")
        resolved = self.deref(schema)
        is_object = resolved.get("type") == "object" or "properties" in resolved or "allOf" in resolved
        is_string = schema is None or resolved.get("type") == "string"
        structured = _encoding(first) in ("json", "form", "multipart")  # the handler takes a value, not str or bytes
        media = [ir.BodyMedia(_concrete(first), _encoding(first), "")]
        for content_type, entry in content.items():
            if content_type == first:
                continue
            encoding = "xml" if _is_xml(content_type) else _encoding(content_type)
            readable = structured and {"json": True, "xml": True, "form": is_object, "multipart": is_object}.get(
                encoding, is_string)
            where = join_pointer(join_pointer(pointer, "content"), content_type)
            if (entry or {}).get("schema") == schema and readable and "*" not in content_type:
                media.append(ir.BodyMedia(content_type, encoding, join_pointer(where, "schema")))
                continue
            why = f"its schema is not {first}'s" if (entry or {}).get("schema") != schema else "it cannot carry the schema"
            self.warnings.append(Finding(where, "request-media-unread",
                                         f"request body in {content_type}: {why}, so the server answers it with 415 "
                                         f"(it reads {first}, which the client sends)"))
        return tuple(media)

    def responses(self, operation: dict[str, Any], prefix: str, pointer: str) -> tuple[ir.Response, ...]:
        """The documented responses. `default` is a success where no 2xx is documented; where neither is, the
        handler may answer any status with any JSON (and a warning says so)."""
        documented = {str(status): raw for status, raw in (operation.get("responses") or {}).items()}
        has_success = any(status.startswith("2") for status in documented)
        result = []
        for status, raw in documented.items():
            response = self.deref(raw)
            content = response.get("content") or {}
            content_type = _pick_media_type(content) or _pick_other_media_type(content)
            schema = (content.get(content_type) or {}).get("schema") if content_type else None
            code = int(status) if status.isdigit() else 0
            kind = _encoding(content_type) if content_type else "json"
            raw_kind = {"json": None, "text": "str"}.get(kind, "bytes")  # anything else not JSON is sent as bytes
            upper = status.upper()
            result.append(
                ir.Response(
                    status=status,
                    status_code=code,
                    description=_one_line(response.get("description", "")),
                    annotation=raw_kind or (self.annotation(schema, "response", f"{prefix}{status_suffix(status)}Response")
                                            if content_type else None),
                    content_type=_concrete(content_type) if content_type else None,
                    is_error=code >= 400 or upper in ("4XX", "5XX") or upper == "DEFAULT" and has_success,
                    class_name=prefix + status_suffix(status),
                    documented_key=str(code) if code else py_literal("default" if upper == "DEFAULT" else upper),
                )
            )
        if not has_success and "default" not in {status.lower() for status in documented}:
            self.warnings.append(Finding(join_pointer(pointer, "responses"), "no-success-response",
                                         f"operation {operation.get('operationId') or prefix!r} documents no 2xx or "
                                         "default response: its handler may answer any status with any JSON body"))
            result.append(ir.Response("default", 0, "any status (none is documented)", "Any", "application/json",
                                      False, f"{prefix}Default", '"default"'))
        return tuple(sorted(result, key=lambda r: (r.status_code == 0, r.status_code, r.status)))

    def security(self, operation: dict[str, Any], pointer: str) -> tuple[ir.SecurityRequirement, ...]:
        requirements = operation.get("security", self.document.get("security")) or []
        defined = (self.document.get("components") or {}).get("securitySchemes") or {}
        where = join_pointer(pointer, "security") if "security" in operation else "/security"  # inherited: once
        found = []
        for name in sorted({n for r in requirements if isinstance(r, dict) for n in r} - set(defined)):
            found.append(Finding(where, "security-scheme-undefined",
                                 f"security names the scheme {name!r}, which components.securitySchemes does not "
                                 "define: no request can meet that requirement (401)"))
        for index, requirement in enumerate(requirements):
            if clash := authorization_clash(requirement, lambda name: self.deref(defined.get(name))):
                found.append(Finding(join_pointer(where, index), "security-unmeetable",
                                     f"one requirement asks for {', '.join(clash)} together, and each is "
                                     "sent in the Authorization header, which carries one credential: no request "
                                     "can meet it (401)"))
        self.warnings.extend(f for f in found if f not in self.warnings)
        return tuple(
            ir.SecurityRequirement(tuple((name, tuple(scopes or ())) for name, scopes in requirement.items()))
            for requirement in requirements
            if isinstance(requirement, dict)
        )

    def pagination(self, method: str, params: tuple[ir.Parameter, ...], responses: tuple[ir.Response, ...],
                   operation: dict[str, Any], prefix: str) -> ir.Pagination | None:
        if method != "get":
            return None
        names = {p.py_name for p in params if p.location == "query"}
        ok = next((r for r in responses if 200 <= r.status_code < 300 and r.content_type), None)
        if ok is None:
            return None
        raw = self.deref((self.deref((operation.get("responses") or {}).get(ok.status)).get("content") or {})
                         .get(ok.content_type, {}).get("schema"))
        properties = _object_properties(self, raw)
        found = self.items(properties)
        if found is None:
            return None
        items_path, items_schema = found
        items_annotation = self.annotation(items_schema.get("items"), "response", f"{prefix}Item")
        total = next(((n,) for n in TOTAL_FIELDS if self.deref(properties.get(n)).get("type") == "integer"), ())
        if {"offset", "limit"} <= names:
            return ir.Pagination("offset", items_path, items_annotation, "offset", "limit", (), total, (), "")
        if "page" in names:
            meta = _object_properties(self, self.deref(properties.get("meta")))
            last = ("meta", "last_page") if "last_page" in meta else ("last_page",) if "last_page" in properties else ()
            size = next((n for n in ("per_page", "page_size", "limit", "size") if n in names), "")
            return ir.Pagination("page", items_path, items_annotation, "page", size, (), (), last, "")
        if "after" in names and "next" in properties:
            return ir.Pagination("cursor", items_path, items_annotation, "after", "first" if "first" in names else "",
                                 ("next",), (), (), "")
        return None

    def items(self, properties: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, Any]] | None:
        """Where a page keeps its items, and the array's schema: a top-level array, or one inside a HAL-style
        container (`_embedded.externalServices`); `results`, `data`, `items` or `records` first."""
        arrays: list[tuple[tuple[str, ...], dict[str, Any]]] = [
            ((name,), self.deref(prop)) for name, prop in properties.items() if self.deref(prop).get("type") == "array"]
        if not arrays:
            arrays = [((name, inner), self.deref(sub)) for name, prop in properties.items() if name.startswith("_")
                      for inner, sub in _object_properties(self, self.deref(prop)).items()
                      if self.deref(sub).get("type") == "array"]
        return next((a for a in arrays if a[0][-1] in ITEM_FIELDS), arrays[0] if arrays else None)

    def unknown_query(self, path_item: dict[str, Any], operation: dict[str, Any]) -> str:
        """`x-unknown-query-parameters` (reject, the default, or ignore) of the operation, else of its path, else
        of its first tag (an API of its own, as a vendor's), else of the document."""
        tags = {t.get("name"): t for t in self.document.get("tags") or [] if isinstance(t, dict)}
        first_tag = tags.get((operation.get("tags") or [None])[0]) or {}
        for node in (operation, path_item, first_tag, self.document):
            value = node.get("x-unknown-query-parameters")
            if value in ("reject", "ignore"):
                return str(value)
        return "reject"

    def operation(self, path: str, method: str, path_item: dict[str, Any], operation: dict[str, Any]) -> ir.Operation:
        op_id = operation.get("operationId") or f"{method}_{path}"
        py_name = snake_name(op_id)
        prefix = class_name(op_id)
        pointer = join_pointer(join_pointer("/paths", path), method)
        params = self.parameters(path_item, operation, prefix, pointer)
        responses = self.responses(operation, prefix, pointer)
        security = self.security(operation, pointer)
        routed = path.split("?", 1)[0]  # `/search?query={query}`: the query is the parameters' business
        if routed != path:
            self.warnings.append(Finding(pointer, "path-query", f"path {path!r} carries a query string; it is "
                                         f"routed as {routed!r}, its parameters read as they are declared"))
        redirects = tuple(r.status_code or r.status.upper() for r in responses if r.status.upper().startswith("3"))
        py_path = routed
        for param in params:
            if param.location == "path":
                py_path = py_path.replace("{" + param.name + "}", "{" + param.py_name + "}")
        return ir.Operation(
            operation_id=op_id,
            py_name=py_name,
            route_function=f"add_{py_name}",  # made unique across tags in api()
            success_status=next((r.status_code for r in responses if not r.is_error and r.status_code), 200),
            request_class=f"{prefix}Request",  # class names are made unique in the API in api()
            result_class=f"{prefix}Result",
            method=method,
            path=path,
            route_path=_route_path(routed),
            py_path=py_path,
            summary=_one_line(operation.get("summary", "")),
            description=_one_line(operation.get("description", "")),
            deprecated=bool(operation.get("deprecated")),
            parameters=params,
            request_body=self.request_body(operation, prefix, pointer),
            responses=responses,
            security=security,
            security_set=self.security_sets.setdefault(security, len(self.security_sets)),
            pagination=self.pagination(method, params, responses, operation, prefix),
            idempotent=method in RETRY_SAFE_METHODS or operation.get("x-retry-safe") is True,
            rejects_unknown_query=self.unknown_query(path_item, operation) == "reject"
            and all(p.takes_other_keys is None for p in params),
            client_returns=_client_returns(responses, redirects),
            client_reads=_client_reads(responses),
            redirects=redirects,
        )

    def api(self) -> ir.Api:
        declared = [t for t in self.document.get("tags") or [] if isinstance(t, dict) and t.get("name")]
        order = {t["name"]: i for i, t in enumerate(declared)}
        descriptions = {t["name"]: t.get("description", "") for t in declared}
        grouped: dict[str, list[ir.Operation]] = {}
        for path, path_item in (self.document.get("paths") or {}).items():
            path_item = self.deref(path_item)
            for method in HTTP_METHODS:
                if isinstance(path_item.get(method), dict):
                    op = path_item[method]
                    tag = (op.get("tags") or ["default"])[0]
                    grouped.setdefault(tag, []).append(self.operation(path, method, path_item, op))
        tag_names = sorted(grouped, key=lambda t: (order.get(t, len(order)), t))
        py_names = unique([avoiding(snake_name(t), CLIENT_ATTRIBUTES) for t in tag_names])
        # One namespace for every class name the handlers and resources modules define, and the models' names:
        # no name means two things in the generated package.
        taken = set(MODULE_NAMES) | set(self.models.modules) | set(self.literals.values())
        tags = []
        for tag, py_name in zip(tag_names, py_names):
            tag_class = _claim(numbered(class_name(py_name)), lambda c: [c, f"Async{c}", f"{c}Handlers"], taken)
            # Concrete paths before templated ones (`/sources/wizard` before `/sources/{id}`), as OpenAPI
            # matches them; frameworks try routes in order. The sort is stable, so document order breaks ties.
            ops = sorted(grouped[tag], key=_route_specificity)
            op_names = unique([o.py_name for o in ops])
            tags.append(ir.Tag(tag, py_name, tag_class, _one_line(descriptions.get(tag, "")),
                               tuple(self.named(o, n, set(op_names), tag_class, taken) for o, n in zip(ops, op_names))))
        routers = [f"{tag.py_name}_router" for tag in tags]  # the routes module's other per-tag names
        route_functions = iter(unique(routers + [f"add_{op.py_name}" for tag in tags for op in tag.operations])[len(routers):])
        tags = [replace(tag, operations=tuple(replace(op, route_function=next(route_functions)) for op in tag.operations))
                for tag in tags]
        info = self.document.get("info") or {}
        literals_module = unique(sorted(set(self.models.modules.values())) + ["_literals"])[-1]
        return ir.Api(
            title=str(info.get("title") or self.package),  # FastAPI refuses an empty title
            version=str(info.get("version", "")),
            description=_one_line(info.get("description", "")),
            package=self.package,
            openapi_version=spec_version(self.document),
            server_url=_server_url(self.document),
            tags=tuple(tags),
            security_schemes=self.security_schemes(),
            security_sets=tuple(self.security_sets),
            path_methods=tuple(
                (path, tuple(sorted({op.method.upper() for tag in tags for op in tag.operations if op.route_path == path})))
                for path in sorted({op.route_path for tag in tags for op in tag.operations}, key=_path_specificity)
            ),
            models=tuple(sorted({**self.models.modules, **dict.fromkeys(self.literals.values(), literals_module)}.items(),
                                key=lambda item: item[0].lower())),
            literals_module=literals_module,
            literals=tuple(ir.LiteralAlias(name, value) for value, name in self.literals.items()),
            distribution=self.distribution(str(info.get("version", "")), tags),
        )

    def distribution(self, version: str, tags: list[ir.Tag]) -> ir.Distribution:
        emails = any("EmailStr" in source for source in self.models.files.values())
        forms = any(op.request_body and op.request_body.encoding in ("form", "multipart")
                    for tag in tags for op in tag.operations)
        return ir.Distribution(
            name=self.package.replace("_", "-"),
            version=version if re.fullmatch(r"\d+(\.\d+)*", version) else "0.0.0",
            requires=("httpx>=0.27,<1", f"pydantic{'[email]' if emails else ''}>=2.12,<3", "typing-extensions>=4.12"),
            server_requires=("fastapi>=0.115", "swagger-ui-bundle-v2>=5.31")
            + (("python-multipart>=0.0.18",) if forms else ()),
            contents=("__init__.py", "py.typed", "openapi.json", "client", "models", "server"),
        )

    def named(self, op: ir.Operation, py_name: str, methods: set[str], tag_class: str, taken: set[str]) -> ir.Operation:
        """`op` with its final method name and class names: `GetPetRequest`, `GetPet200`, `GetPetResult`; where
        one of those is taken (by a model or another operation) `GetPetOp…`, then `<Tag>GetPet…`. An operation
        whose name ends in Request takes its input as `…RequestInput`, not `…RequestRequest`."""
        base = op.request_class.removesuffix("Request")
        inputs = "Input" if base.endswith("Request") else "Request"
        successes = [r for r in op.responses if not r.is_error]
        candidates = itertools.chain([base, f"{base}Op"], numbered(f"{tag_class}{base}"))
        prefix = _claim(candidates, lambda p: [p + inputs, f"{p}Result", *(p + status_suffix(r.status) for r in successes)],
                        taken)
        if prefix != base:
            self.warnings.append(Finding(
                join_pointer(join_pointer("/paths", op.path), op.method), "name-collision",
                f"operation {op.operation_id!r}: its handler classes are named {prefix}… because {base}{inputs}, "
                f"{base}Result or a status class is another name in the package"))
        responses = tuple(replace(r, class_name=prefix + status_suffix(r.status)) for r in op.responses)
        pagination = op.pagination and replace(op.pagination, method=avoiding(f"iter_{py_name}", methods))
        return replace(op, py_name=py_name, request_class=prefix + inputs, result_class=f"{prefix}Result",
                       responses=responses, pagination=pagination)

    def security_schemes(self) -> tuple[ir.SecurityScheme, ...]:
        result = []
        for name, raw in ((self.document.get("components") or {}).get("securitySchemes") or {}).items():
            scheme = self.deref(raw)
            kind = scheme.get("type", "")
            if kind == "apiKey":
                result.append(ir.SecurityScheme(name, kind, scheme.get("in", "header"), scheme.get("name", ""), "",
                                                _one_line(scheme.get("description", ""))))
            elif kind == "http":
                result.append(ir.SecurityScheme(name, kind, "header", "Authorization",
                                                str(scheme.get("scheme", "bearer")).lower(),
                                                _one_line(scheme.get("description", ""))))
            elif kind in ("oauth2", "openIdConnect"):
                result.append(ir.SecurityScheme(name, kind, "header", "Authorization", "bearer",
                                                _one_line(scheme.get("description", ""))))
            elif kind == "mutualTLS":  # the certificate is the TLS layer's: the server reads what its ASGI server says
                result.append(ir.SecurityScheme(name, kind, "tls", "", "", _one_line(scheme.get("description", ""))))
                self.warnings.append(Finding(join_pointer("/components/securitySchemes", name), "security-unsupported",
                                             f"security scheme {name!r} (mutualTLS) is met only where the ASGI server "
                                             "hands the application the client's verified certificate (the ASGI TLS "
                                             "extension; uvicorn does not, so behind it a requirement that needs it is "
                                             "never met: 401); the client presents its transport's certificate"))
            else:
                self.warnings.append(Finding(join_pointer("/components/securitySchemes", name), "security-unsupported",
                                             f"security scheme {name!r} of type {kind!r} is no type OpenAPI defines: "
                                             "a requirement that needs it is never met (401)"))
        return tuple(result)


def _claim(candidates: Iterable[str], derive: Callable[[str], list[str]], taken: set[str]) -> str:
    """The first candidate whose derived names are all free (and distinct); from then on they are taken."""
    for candidate in candidates:
        names = derive(candidate)
        if len(set(names)) == len(names) and taken.isdisjoint(names):
            taken.update(names)
            return candidate
    raise AssertionError("candidates ran out")


def _object_properties(builder: _Builder, schema: dict[str, Any]) -> dict[str, Any]:
    properties = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:
        properties.update(_object_properties(builder, builder.deref(part)))
    return properties


def _path_specificity(path: str) -> tuple[list[int], str]:
    """Concrete segments sort before templated ones at the first place two paths differ, as OpenAPI matches."""
    return [1 if segment.startswith("{") else 0 for segment in path.split("/")], path


def _route_path(path: str) -> str:
    """Routers refuse a path naming a variable twice (`/a/{id}/b/{id}`); the second one gets a name of its own."""
    seen: dict[str, int] = {}

    def rename(match: re.Match[str]) -> str:
        name = match.group(1)
        seen[name] = seen.get(name, 0) + 1
        return "{" + name + (f"__{seen[name]}" if seen[name] > 1 else "") + "}"

    return re.sub(r"\{([^{}]+)\}", rename, path)


def _route_specificity(operation: ir.Operation) -> list[int]:
    return _path_specificity(operation.path)[0]


def wire_reader(param: dict[str, Any], deref: Callable[[Any], dict[str, Any]]) -> str:
    """The route helper that reads a parameter from the wire ("" where FastAPI does it). FastAPI reads scalars and
    arrays of scalars itself; anything else (a union with an object, an array of arrays) is read by a helper:
    deepObject pairs, one JSON text per item, or one JSON text. A path parameter that is no plain scalar, or is
    written with a prefix (label, matrix), is read from its text: FastAPI takes only scalars in a path."""
    resolved = deref(param.get("schema") if isinstance(param.get("schema"), dict) else {})
    is_array = resolved.get("type") == "array" or "array" in (resolved.get("type") or [])
    style = param.get("style", "form" if param["in"] in ("query", "cookie") else "simple")
    explode = bool(param.get("explode", style == "form"))
    if param["in"] == "path" and (is_array or _is_object(resolved) or style in ("label", "matrix")):
        return "path_value"
    plain = _fastapi_reads(deref, resolved)
    if is_array and plain and (not explode or param["in"] in ("cookie", "header")):  # a header cannot repeat
        return LIST_READERS.get(style, "comma_list")
    if is_array and explode and (_is_object(deref(resolved.get("items"))) or not plain):
        return "json_items"
    if not plain and not (style == "deepObject" and param["in"] == "query") and not _is_object(resolved):
        return "json_value"
    return "object_query" if _is_object(resolved) or not plain else ""


def _fastapi_reads(deref: Callable[[Any], dict[str, Any]], schema: dict[str, Any], depth: int = 0) -> bool:
    """Whether FastAPI can read a parameter of this schema on its own: a scalar, a union of scalars, or (at the
    top) an array of those."""
    schema = deref(schema)
    if "enum" in schema or "const" in schema:
        return True
    parts = schema.get("anyOf") or schema.get("oneOf")
    if parts:
        return all(_fastapi_reads(deref, part, 1) for part in parts)
    if _is_object(schema):
        return False
    types = schema.get("type")
    if "array" in (types if isinstance(types, list) else [types]):
        return depth == 0 and _fastapi_reads(deref, schema.get("items") or {}, 1)
    return True


def _is_object(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    return "object" in (types if isinstance(types, list) else [types]) or "properties" in schema or "allOf" in schema


def _is_scalar_schema(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    type_list = types if isinstance(types, list) else [types]
    return "enum" in schema or "const" in schema or any(t in JSON_TYPES or t == "array" for t in type_list if t)


def _server_url(document: dict[str, Any]) -> str:
    servers = [s for s in document.get("servers") or [] if isinstance(s, dict) and isinstance(s.get("url"), str)]
    url = servers[0]["url"] if servers else "http://127.0.0.1:8000"
    return url if "{" not in url else "http://127.0.0.1:8000"


def _optional(annotation: str) -> str:
    return annotation if annotation == "Any" or "None" in annotation.split(" | ") else f"{annotation} | None"


def _union(parts: list[str]) -> str:
    unique_parts = list(dict.fromkeys(parts))
    if "Any" in unique_parts:
        return "Any"
    return " | ".join(unique_parts)


def _pick_media_type(content: dict[str, Any]) -> str | None:
    for candidate in ("application/json", "application/problem+json"):
        if candidate in content:
            return candidate
    json_like = sorted(t for t in content if t.endswith("+json") or t.endswith("/json"))
    return json_like[0] if json_like else None


def _pick_other_media_type(content: dict[str, Any]) -> str | None:
    """No JSON: forms first (they carry fields), then text, then any other type as raw bytes."""
    for candidate in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if candidate in content:
            return candidate
    text = sorted(t for t in content if t.startswith("text/"))
    return text[0] if text else min(content, default=None)


def _concrete(content_type: str) -> str:
    """What goes in a Content-Type header: a range such as `image/*` or `*/*` is sent as plain bytes."""
    return "application/octet-stream" if "*" in content_type else content_type


def _encoding(content_type: str) -> str:
    if content_type == "application/x-www-form-urlencoded":
        return "form"
    if content_type.startswith("multipart/"):
        return "multipart"
    if content_type.startswith("text/"):
        return "text"
    return "json" if content_type.endswith("json") else "binary"


def authorization_clash(requirement: Any, scheme: Callable[[str], dict[str, Any]]) -> list[str]:
    """The schemes of a security requirement (`scheme` finds each) that send their credentials in the Authorization
    header, where there are two or more: one header carries one credential, so no request meets it."""
    found = sorted(name for name in requirement if _in_authorization(scheme(name))) if isinstance(requirement, dict) else []
    return found if len(found) > 1 else []


def _in_authorization(scheme: dict[str, Any]) -> bool:
    """Whether a security scheme's credential travels in the Authorization header."""
    kind = scheme.get("type")
    return kind in ("http", "oauth2", "openIdConnect") or kind == "apiKey" and scheme.get("in", "header") == "header" \
        and str(scheme.get("name", "")).lower() == "authorization"


def _successes(responses: tuple[ir.Response, ...]) -> list[ir.Response]:
    """The successes whose body the client reads (it reads no redirect's)."""
    return [r for r in responses if not r.is_error and not r.status.upper().startswith("3")]


def _client_returns(responses: tuple[ir.Response, ...], redirects: tuple[int | str, ...]) -> str:
    """Any success's body type; None where a success is documented without a body or a redirect is answered."""
    successes = _successes(responses)
    bodies = [r.annotation for r in successes if r.annotation is not None]
    if not bodies:
        return "None"
    returns = _union(bodies)
    return _optional(returns) if redirects or len(bodies) < len(successes) else returns


def _client_reads(responses: tuple[ir.Response, ...]) -> str:
    """The body type `_base.parse` reads: the successes' one type, or a dict of status → type where they differ
    (`{"200": models.User, "202": bytes, "204": None}`), so that each status is read as its own."""
    successes = _successes(responses)
    kinds = {r.annotation for r in successes}
    if len(kinds) <= 1:
        return next(iter(kinds), None) or "None"
    keys = ["default" if r.status.lower() == "default" else r.status.upper() for r in successes]
    return "{" + ", ".join(f"{py_literal(key)}: {r.annotation or 'None'}" for key, r in zip(keys, successes)) + "}"


def _is_xml(content_type: str) -> bool:
    return content_type in ("application/xml", "text/xml") or content_type.endswith("+xml")


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def build_api(document: dict[str, Any], models: ModelsModule, package: str,
              inline: dict[str, dict[str, Any]] | None = None) -> tuple[ir.Api, list[Finding]]:
    """The Api, and warnings: renamed classes, operations without a success, schemas typed as Any."""
    builder = _Builder(document, models, package, inline or {})
    api = builder.api()
    return api, builder.warnings + [Finding(join_pointer("/components/schemas", name), "typed-any",
                                            f"schema {name!r} has no generated model; typed as Any")
                                    for name in sorted(builder.unmapped)]
