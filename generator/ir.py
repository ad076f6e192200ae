"""The intermediate representation: plain frozen data, complete before any template runs.

Templates see only these objects. Every name is already a valid Python identifier and every annotation
already a Python type expression, so templates hold layout and no decisions.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Constraint:
    """A validation keyword for a parameter, as FastAPI's Query/Path/Header take it (`ge=1`)."""

    keyword: str
    value: str  # a Python literal


@dataclass(frozen=True)
class Parameter:
    name: str  # on the wire: `filter[system]`
    py_name: str  # in Python: `filter_system`
    location: str  # path | query | header | cookie
    required: bool
    annotation: str  # the value's type
    py_annotation: str  # in signatures: the type, `| None` when optional without a default
    wire_annotation: str  # what the server reads off the wire (`str | None` for a comma-separated list)
    wire_reader: str  # the route helper that turns the wire value into `annotation`: "" | comma_list | json_items |
    # json_value
    default: str | None  # a Python literal, or None when there is none
    constraints: tuple[Constraint, ...]
    explode: bool  # arrays: repeated `a=1&a=2` (True) or one comma list `a=1,2` (False)
    is_array: bool
    style: str  # form | simple | deepObject | ...: how the value is written on the wire
    object_fields: tuple[str, ...] | None  # an object's properties (wire names), None when the value is no object
    description: str
    shape: str = "scalar"  # scalar | array | object: what the value is, for a reader that splits its text
    takes_other_keys: tuple[str, ...] | None = None  # an exploded object free to have more properties than it
    # names: every query key but these (the other parameters') is one of them


@dataclass(frozen=True)
class BodyMedia:
    """One media type the server reads a request body in."""

    content_type: str
    encoding: str  # json | form | multipart | text | binary | xml
    schema_pointer: str  # where its schema is in the bundled document: an XML reader follows its `xml` names


@dataclass(frozen=True)
class RequestBody:
    annotation: str  # the request model
    py_annotation: str  # in signatures: `| None` added when the body is optional
    required: bool
    content_type: str  # what the client sends
    encoding: str  # how it travels: json | form (urlencoded) | multipart | text | binary
    description: str
    media: tuple[BodyMedia, ...]  # what the server reads: the client's first, then others of the same schema


@dataclass(frozen=True)
class Response:
    status: str  # "200", "4XX", "default"
    status_code: int  # 0 for ranges and default
    description: str
    annotation: str | None  # the response model, or None for no body
    content_type: str | None
    is_error: bool
    class_name: str  # name of the typed result the handler returns for this status
    documented_key: str  # a Python literal: the status (`200`), or `"2XX"` / `"default"`, which the handler picks


@dataclass(frozen=True)
class SecurityRequirement:
    """One alternative: every scheme listed must pass, each with its scopes."""

    schemes: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    kind: str  # apiKey | http | oauth2 | openIdConnect | mutualTLS
    location: str  # header | query | cookie (apiKey); header for http; tls for mutualTLS
    parameter: str  # header/query/cookie name; `Authorization` for http
    scheme: str  # bearer | basic for http, "" for apiKey
    description: str


@dataclass(frozen=True)
class Pagination:
    """How a list operation pages, so the client can iterate it. Paths are field names in the document."""

    style: str  # offset | page | cursor
    items_path: tuple[str, ...]  # where the items are in a page: ("results",), ("_embedded", "externalServices")
    items_annotation: str
    request_param: str  # py_name of the parameter that moves the page (offset | page | after)
    size_param: str  # py_name of the page-size parameter ("" when none): a shorter page is the last
    next_path: tuple[str, ...]  # cursor: where the next cursor is
    total_path: tuple[str, ...]  # offset: where the total number of items is (() when the page does not say)
    last_page_path: tuple[str, ...]  # page: where the number of the last page is (() when the page does not say)
    method: str  # the client's iterator method: `iter_<operation>`, unique in its resource


@dataclass(frozen=True)
class Operation:
    operation_id: str
    py_name: str  # method name on handler interface and client resource
    route_function: str  # the server's module-level function that adds this route, unique in the API
    success_status: int  # the status a success answers with when the handler does not choose it
    request_class: str  # the handler's typed input: `<Operation>Request` (`<Operation>Input` after a name in Request)
    result_class: str  # the union of the operation's success classes: `<Operation>Result`
    method: str  # lower case
    path: str
    route_path: str  # the path as the server routes it: a repeated `{id}` is renamed `{id__2}` (matched, ignored)
    py_path: str  # the path as a Python format string over parameter py_names: `/items/{item_id}`
    summary: str
    description: str
    deprecated: bool
    parameters: tuple[Parameter, ...]
    request_body: RequestBody | None
    responses: tuple[Response, ...]
    security: tuple[SecurityRequirement, ...]
    security_set: int  # index of `security` in Api.security_sets
    pagination: Pagination | None
    idempotent: bool  # safe for the client to retry
    rejects_unknown_query: bool  # a query parameter it does not declare is a 400 (`x-unknown-query-parameters`)
    client_returns: str  # what the client's method returns: any success's body type, `| None` where a success has
    # no body or a documented redirect may come instead; "None" when no success has a body
    client_reads: str  # what the client reads the body as (`_base.parse`'s first argument): one type, or where the
    # successes differ, a dict of each success's status → its body type (None for none)
    redirects: tuple[int | str, ...]  # documented 3xx statuses (302, "3XX"): for one, the client returns None


@dataclass(frozen=True)
class Tag:
    name: str
    py_name: str  # module and client attribute: `external_data_sources`
    class_name: str  # `ExternalDataSources`
    description: str
    operations: tuple[Operation, ...]


@dataclass(frozen=True)
class Distribution:
    """The generated package as something pip installs (its `pyproject.toml`): what it needs, decided from what it
    uses, so an installed client is type-checked (py.typed) and pulls in nothing the spec does not need."""

    name: str  # the package with `-` for `_`
    version: str  # info.version when it is a release number pip accepts, else 0.0.0
    requires: tuple[str, ...]  # models and client
    server_requires: tuple[str, ...]  # the `server` extra
    contents: tuple[str, ...]  # the files and folders of the package that are installed (not the manifest)


@dataclass(frozen=True)
class LiteralAlias:
    """A named `Literal[...]` for an enum the models do not define (a parameter's, an inline one): generated
    signatures stay short, and each set of values has one name."""

    name: str
    annotation: str


@dataclass(frozen=True)
class Api:
    title: str
    version: str
    description: str
    package: str
    openapi_version: str
    server_url: str  # the first server's URL, the client's default base URL
    tags: tuple[Tag, ...]
    security_schemes: tuple[SecurityScheme, ...]
    security_sets: tuple[tuple[SecurityRequirement, ...], ...]  # each distinct `Operation.security`, first use first
    path_methods: tuple[tuple[str, tuple[str, ...]], ...]  # path → methods (upper case), concrete paths first
    models: tuple[tuple[str, str], ...]  # every name the `models` package exports → its module, sorted
    literals_module: str  # the module of `models` that holds `literals`
    literals: tuple[LiteralAlias, ...]
    distribution: Distribution
