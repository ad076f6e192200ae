"""The runtime that every generated package carries (generator/runtime), tested and type-checked as the real
Python it is: the generator copies it verbatim."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from generator.render import runtime_files
from generator.runtime.client import _base
from generator.runtime.models._discriminated import Discriminated
from generator.runtime.server import _routing
from generator.runtime.server.problems import Problem


class Page(BaseModel):
    embedded: dict[str, list[int]] = Field(alias="_embedded")
    total: int | None = None


def test_runtime_passes_mypy_strict() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "generator/runtime"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_every_runtime_module_is_copied_and_the_stand_ins_are_not() -> None:
    assert sorted(runtime_files()) == ["client/_base.py", "client/errors.py", "models/_discriminated.py",
                                       "server/_routing.py", "server/docs.py", "server/problems.py", "server/security.py"]


def test_query_and_header_values_as_sent() -> None:
    assert _base.query(("a", [1, 2], True, "form"), ("b", [True, "x"], False, "form"), ("c", None, True, "form"),
                       ("d", 1.5, True, "form")) == [("a", "1"), ("a", "2"), ("b", "true,x"), ("d", "1.5")]
    point = {"x": 1, "y": None, "z": "a"}
    assert _base.query(("f", point, True, "deepObject")) == [("f[x]", "1"), ("f[z]", "a")]
    assert _base.query(("f", point, True, "form")) == [("x", "1"), ("z", "a")]
    assert _base.query(("f", point, False, "form")) == [("f", "x,1,z,a")]
    assert _base.header_values(("X-A", ["p", "q"]), ("X-B", None), ("X-C", False)) == {"X-A": "p,q", "X-C": "false"}


def test_field_value_follows_a_path_of_wire_names() -> None:
    page = Page.model_validate({"_embedded": {"items": [1, 2]}})
    assert _base.field_value(page, ("_embedded", "items")) == [1, 2]
    assert _base.field_value(page, ("total",)) is None and _base.field_value(page, ("missing", "x")) is None


def test_parse_raises_the_typed_error_and_reads_the_documented_type() -> None:
    ok = httpx.Response(200, json={"_embedded": {"items": [3]}}, request=httpx.Request("GET", "http://t/x"))
    assert _base.parse(Page, ok).embedded == {"items": [3]}
    missing = httpx.Response(404, json={"title": "Not Found"}, request=httpx.Request("GET", "http://t/x"))
    with pytest.raises(Exception) as caught:
        _base.parse(Page, missing)
    assert type(caught.value).__name__ == "NotFoundError"


@dataclass(frozen=True)
class Created:
    body: int
    status_code: ClassVar[int] = 201


@dataclass(frozen=True)
class Chosen:
    status_code: int
    body: None = None


def test_respond_accepts_documented_statuses_ranges_and_default_only() -> None:
    assert _routing.respond(Created(7), {201: "application/json"}).body == b"7"
    assert _routing.respond(Chosen(204), {"2XX": None}).status_code == 204
    assert _routing.respond(Chosen(418), {200: None, "default": None}).status_code == 418
    with pytest.raises(Problem, match="undocumented status 404"):
        _routing.respond(Chosen(404), {200: None, "2XX": None})


def _client(handler, **options):  # type: ignore[no-untyped-def]
    return _base.SyncBase("http://api.test", transport=httpx.MockTransport(handler), **options)


def test_a_long_retry_after_is_not_waited_for_and_a_short_one_is(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(_base.time, "sleep", slept.append)
    answers = iter([httpx.Response(503, headers={"Retry-After": "3600"})])
    response = _client(lambda request: next(answers)).request("GET", "/x", retryable=True)
    assert response.status_code == 503 and slept == []  # raised by parse as ServerError, at once
    answers = iter([httpx.Response(503, headers={"Retry-After": "1"}), httpx.Response(200, json={})])
    response = _client(lambda request: next(answers)).request("GET", "/x", retryable=True)
    assert response.status_code == 200 and slept == [1.0]


class _Drip(httpx.SyncByteStream):
    """A body that arrives one byte every 0.2 s: each read is quick, the whole is not."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        import time

        for _ in range(50):
            time.sleep(0.2)
            yield b" "


def test_timeout_is_a_deadline_for_the_whole_call() -> None:
    client = _client(lambda request: httpx.Response(200, stream=_Drip()), timeout=0.5, max_retries=0)
    with pytest.raises(_base.ConnectionFailed, match="deadline"):
        client.request("GET", "/slow", retryable=True)


def test_a_retried_delete_that_went_through_the_first_time_succeeds() -> None:
    attempts: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) == 1:  # committed, but the answer was lost
            raise httpx.ReadTimeout("lost", request=request)
        return httpx.Response(404, json={"status": 404})

    response = _client(flaky, backoff=0).request("DELETE", "/things/1", retryable=True)
    assert len(attempts) == 2 and response.status_code == 204
    assert _client(flaky, backoff=0).request("DELETE", "/things/1", retryable=True).status_code == 404


def test_answers_the_operation_does_not_document_are_typed_errors() -> None:
    from generator.runtime.client.errors import ApiError, UnexpectedResponse

    class Thing(BaseModel):
        id: int

    request = httpx.Request("GET", "http://api.test/things/1")
    for response in (httpx.Response(307, headers={"Location": "/elsewhere"}, request=request),
                     httpx.Response(204, request=request),
                     httpx.Response(200, json={"id": "not a number"}, request=request),
                     httpx.Response(200, text="<html>", request=request)):
        with pytest.raises(UnexpectedResponse) as raised:
            _base.parse(Thing, response)
        assert isinstance(raised.value, ApiError) and raised.value.status_code == response.status_code
    by_status = {"200": Thing, "202": str, "2XX": bytes, "204": None}  # successes that differ: each status its own
    assert _base.parse(by_status, httpx.Response(200, json={"id": 1}, request=request)) == Thing(id=1)
    assert _base.parse(by_status, httpx.Response(202, text="queued", request=request)) == "queued"
    assert _base.parse(by_status, httpx.Response(206, content=b"\x00", request=request)) == b"\x00"
    assert _base.parse(by_status, httpx.Response(204, request=request)) is None
    with pytest.raises(UnexpectedResponse, match="no body where the operation documents one"):
        _base.parse(by_status, httpx.Response(200, request=request))
    with pytest.raises(UnexpectedResponse, match="status 201 is not documented"):
        _base.parse({"200": Thing, "204": None}, httpx.Response(201, json={"id": 1}, request=request))
    moved = httpx.Response(302, headers={"Location": "/elsewhere"}, request=request)
    assert _base.parse(Thing, moved, redirects=(302,)) is None  # documented: its Location is the answer
    assert _base.parse(Thing, moved, redirects=("3XX",)) is None
    with pytest.raises(UnexpectedResponse, match="302 is not documented"):
        _base.parse(Thing, moved, redirects=(301,))
    problem = {"status": 400, "detail": "invalid", "errors": [{"pointer": "/name", "detail": "too long"}]}
    with pytest.raises(ApiError, match="/name: too long"):
        _base.parse(Thing, httpx.Response(400, json=problem, request=request))


def test_unstorable_finds_depth_nul_and_lone_surrogates_with_their_pointer() -> None:
    limits = _routing.Limits(max_json_depth=3)
    assert _routing.unstorable({"a": [{"b": "ok \U0001f600"}]}, limits) is None  # a surrogate pair is one character
    assert _routing.unstorable({"a": [{"b": {"c": 1}}]}, limits) == ("/a/0/b", "nested deeper than 3 levels")
    assert _routing.unstorable({"a/b": ["x\ud800"]}, limits)[0] == "/a~1b/0"  # type: ignore[index]
    assert _routing.unstorable({"k": "a\x00b"}, limits)[0] == "/k"  # type: ignore[index]
    assert _routing.unstorable({"k": "a\x00b"}, _routing.Limits(reject_nul=False)) is None


def test_call_handler_runs_plain_functions_off_the_event_loop() -> None:
    import asyncio
    import threading

    def blocking(x: int) -> tuple[int, bool]:
        return x, threading.current_thread() is threading.main_thread()

    async def awaiting(x: int) -> tuple[int, bool]:
        return x, threading.current_thread() is threading.main_thread()

    assert asyncio.run(_routing.call_handler(blocking, 1)) == (1, False)
    assert asyncio.run(_routing.call_handler(awaiting, 2)) == (2, True)


def test_responses_shows_each_calls_status_and_headers_beside_the_typed_result() -> None:
    import asyncio

    answers = iter([httpx.Response(503), httpx.Response(200, json={}, headers={"X-Rate-Limit-Remaining": "9"})])
    client = _client(lambda request: next(answers), backoff=0)
    with client.responses() as seen:
        client.request("GET", "/x", retryable=True)
    assert [r.status_code for r in seen] == [503, 200] and seen[-1].headers["x-rate-limit-remaining"] == "9"
    _client(lambda request: httpx.Response(200, json={})).request("GET", "/x", retryable=True)
    assert len(seen) == 2  # nothing recorded outside the block

    async def twice() -> list[int]:
        base = _base.AsyncBase("http://api.test", transport=httpx.MockTransport(lambda r: httpx.Response(204)))
        with base.responses() as mine:
            await base.request("DELETE", "/y", retryable=True)
        return [r.status_code for r in mine]

    assert asyncio.run(twice()) == [204]


@pytest.mark.parametrize(("raw", "style", "explode", "shape", "annotation", "expected"), [
    ("5", "simple", False, "scalar", int, 5),
    (".5", "label", False, "scalar", int, 5),
    (";id=5", "matrix", False, "scalar", int, 5),
    ("3,4,5", "simple", False, "array", list[int], [3, 4, 5]),
    (".3.4.5", "label", True, "array", list[int], [3, 4, 5]),
    (".3,4,5", "label", False, "array", list[int], [3, 4, 5]),
    (";id=3;id=4", "matrix", True, "array", list[int], [3, 4]),
    (";id=3,4", "matrix", False, "array", list[int], [3, 4]),
    ("role,admin,first,Alex", "simple", False, "object", dict[str, str], {"role": "admin", "first": "Alex"}),
    ("role=admin,first=Alex", "simple", True, "object", dict[str, str], {"role": "admin", "first": "Alex"}),
    (".role=admin.first=Alex", "label", True, "object", dict[str, str], {"role": "admin", "first": "Alex"}),
    (";role=admin;first=Alex", "matrix", True, "object", dict[str, str], {"role": "admin", "first": "Alex"}),
])
def test_path_values_are_read_as_their_style_writes_them(raw: str, style: str, explode: bool, shape: str,
                                                         annotation: object, expected: object) -> None:
    from generator.runtime.server._routing import path_value

    assert path_value(raw, annotation, "id", style, explode, shape) == expected


def test_a_path_value_of_the_wrong_type_is_a_400_naming_it() -> None:
    from generator.runtime.server._routing import path_value
    from generator.runtime.server.problems import Problem

    with pytest.raises(Problem) as caught:
        path_value(".a.b", list[int], "ids", "label", True, "array")
    assert caught.value.status == 400 and caught.value.errors[0][0] == "#path/ids"


def test_a_missing_credential_is_401_and_only_a_missing_scope_is_403(monkeypatch: pytest.MonkeyPatch) -> None:
    """An AND of schemes with one credential absent is not authenticated (401), even when the other one is
    valid; 403 is for a caller whose credentials all pass but lack a scope."""
    import asyncio

    from starlette.requests import Request

    from generator.runtime.server import security

    monkeypatch.setitem(security.SCHEMES, "key", ("apiKey", "header", "X-Key", ""))
    monkeypatch.setitem(security.SCHEMES, "token", ("http", "header", "Authorization", "bearer"))

    class Keys:
        async def authenticate(self, scheme: str, credential: str) -> security.Principal | None:
            return security.Principal("t", frozenset({"read"})) if credential == "good" else None

    def answer(requirements: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...], headers: dict[str, str]) -> int:
        scope = {"type": "http", "query_string": b"", "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
        try:
            asyncio.run(security.requires(requirements, Keys())(Request(scope)))
        except Problem as problem:
            return problem.status
        return 200

    both = ((("key", ()), ("token", ())),)
    assert answer(both, {"X-Key": "good"}) == 401  # the token is missing
    assert answer(both, {"X-Key": "good", "Authorization": "Bearer good"}) == 200
    assert answer(((("key", ("write",)),),), {"X-Key": "good"}) == 403
    assert answer(((("key", ()),),), {"X-Key": "bad"}) == 401


def test_a_form_string_that_starts_like_json_stays_a_string() -> None:
    from pydantic import BaseModel

    class Search(BaseModel):
        serial: str
        tags: list[int] = []
        meta: dict[str, int] = {}

    found = _routing.validate_form({"serial": "[", "tags": ["1", "2"], "meta": '{"a": 1}'}, Search)
    assert found.serial == "[" and found.tags == [1, 2] and found.meta == {"a": 1}


def test_the_heap_is_frozen_after_the_apps_own_startup_and_handed_back_at_shutdown() -> None:
    import asyncio
    import gc
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    seen: list[int] = []

    @asynccontextmanager
    async def own(app: FastAPI) -> AsyncIterator[None]:  # the user's lifespan runs first, unfrozen
        seen.append(gc.get_freeze_count())
        yield

    app = FastAPI(lifespan=own)
    _routing.freeze_after_startup(app)

    async def serve() -> int:
        async with app.router.lifespan_context(app):
            return gc.get_freeze_count()

    before = gc.get_freeze_count()
    assert asyncio.run(serve()) > before
    assert seen == [before] and gc.get_freeze_count() == 0


def test_schemas_are_resolved_through_ref_cycles_without_recursing_forever() -> None:
    document = {"components": {"schemas": {"A": {"$ref": "#/components/schemas/B"},
                                           "B": {"$ref": "#/components/schemas/A"},
                                           "C": {"allOf": [{"$ref": "#/components/schemas/C"}, {"type": "object"}]}}}}
    assert _routing.schema_at(document, "/components/schemas/A") == {}  # a cycle is any value
    assert _routing.merged(document, {"$ref": "#/components/schemas/C"})["type"] == "object"


class Leaf(BaseModel):
    kind: str
    value: int


class Branch(BaseModel):
    kind: str
    children: list[Annotated[Leaf | Branch, Discriminated("kind", {"leaf": Leaf, "branch": Branch})]]


class Note(BaseModel):
    """An option without the tag property."""

    text: str


class Sealed(BaseModel):
    """An option without the tag property that refuses any other."""

    model_config = ConfigDict(extra="forbid")
    size: int


def test_a_discriminated_union_validates_the_option_its_tag_names_and_refuses_other_tags_at_once() -> None:
    tree = TypeAdapter(Annotated[Leaf | Branch, Discriminated("kind", {"leaf": Leaf, "branch": Branch})])
    value = tree.validate_python({"kind": "branch", "children": [{"kind": "leaf", "value": 1},
                                                                 {"kind": "branch", "children": []}]})
    assert isinstance(value, Branch) and [type(c) for c in value.children] == [Leaf, Branch]
    with pytest.raises(ValidationError) as refused:  # the option the tag names refuses it: its errors alone
        tree.validate_python({"kind": "branch", "value": 2, "children": [{"kind": "leaf"}]})
    assert [e["loc"] for e in refused.value.errors()] == [("branch", "children", 0, "leaf", "value")]
    with pytest.raises(ValidationError, match="Input tag 'oak' found using 'kind' does not match any of the "
                                              "expected tags: 'leaf', 'branch'"):
        tree.validate_python({"kind": "oak", "value": 2})  # Leaf would admit it, but its tag names no option
    with pytest.raises(ValidationError, match="Unable to extract tag using discriminator 'kind'"):
        tree.validate_python({"value": 1})  # both options require the tag
    with pytest.raises(ValidationError, match="Input should be an object"):
        tree.validate_python([{"kind": "leaf", "value": 1}])
    assert tree.validate_python(Leaf(kind="l", value=3)) == Leaf(kind="l", value=3)  # an instance is any option's
    assert tree.dump_python(Branch(kind="b", children=[Leaf(kind="l", value=3)])) == {
        "kind": "b", "children": [{"kind": "l", "value": 3}]}
    assert tree.json_schema()["discriminator"] == {"propertyName": "kind", "mapping": {
        "leaf": "#/$defs/Leaf", "branch": "#/$defs/Branch"}}


def test_a_wrong_tag_deep_in_a_recursive_union_is_refused_where_it_stands_not_tried_against_every_option() -> None:
    tree = TypeAdapter(Annotated[Leaf | Branch, Discriminated("kind", {"leaf": Leaf, "branch": Branch})])
    deep: dict[str, Any] = {"kind": "oak"}
    for _ in range(40):  # a wrong tag on every level: tried option by option, Branch would go down each
        deep = {"kind": "bush", "children": [deep]}
    with pytest.raises(ValidationError) as refused:
        tree.validate_python(deep)
    assert {e["type"] for e in refused.value.errors()} == {"union_tag_invalid"}


def test_a_value_without_its_tag_is_an_option_that_does_not_require_one_and_is_written_with_its_tag() -> None:
    notes = TypeAdapter(Annotated[Leaf | Note | Sealed, Discriminated(
        "kind", {"leaf": Leaf, "note": Note, "sealed": Sealed}, tagless=(Note, Sealed), unnamed=(Note,))])
    assert notes.validate_python({"text": "hi"}) == Note(text="hi")
    assert notes.validate_python({"kind": "note", "text": "hi"}) == Note(text="hi")
    assert notes.validate_python({"kind": "memo", "text": "hi"}) == Note(text="hi")  # an unnamed tag: Note's
    with pytest.raises(ValidationError) as refused:  # without a tag: the errors of the options that admit none
        notes.validate_python({"value": 1})
    assert {e["loc"][-1] for e in refused.value.errors()} == {"text", "size", "value"}
    assert notes.dump_python(Note(text="hi")) == {"text": "hi", "kind": "note"}  # it says which option it is
    assert notes.dump_json(Note(text="hi")) == b'{"text":"hi","kind":"note"}'
    assert notes.dump_python(Sealed(size=1)) == {"size": 1}  # the option refuses a `kind`: written as it is
    assert notes.dump_python(Leaf(kind="mine", value=1)) == {"kind": "mine", "value": 1}  # its own tag kept


def test_an_array_no_style_writes_goes_as_its_items_json_joined_and_comes_back() -> None:
    """A header (or non-exploded query) array of objects: the client joins its items' JSON with commas, the server
    reads that, or one JSON array (what `content: application/json` would send)."""

    class Line(BaseModel):
        sku: str
        qty: int = 1

    sent = _base.header_values(("lines", [Line(sku="a,b"), Line(sku="c", qty=2)]))
    assert sent == {"lines": '{"sku":"a,b"},{"sku":"c","qty":2}'}
    read = _routing.json_value(sent["lines"], list[Line], "lines", "header")
    assert read == [Line(sku="a,b"), Line(sku="c", qty=2)]
    assert _routing.json_value('[{"sku":"x"}]', list[Line], "lines", "header") == [Line(sku="x")]
    assert _routing.json_value('{"sku":"x"}', list[Line], "lines", "header") == [Line(sku="x")]  # one item
    assert _routing.json_value("[1,2],[3]", list[list[int]], "grid") == [[1, 2], [3]]
    with pytest.raises(Problem):
        _routing.json_value('{"qty":1}', list[Line], "lines", "header")
