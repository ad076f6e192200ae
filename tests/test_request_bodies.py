"""Bodies that are not JSON: multipart (with a file), urlencoded forms, text and raw bytes, through the generated
client and server, and the 4xx a malformed one gets; text and bytes responses."""

import asyncio
import importlib
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator import pipeline

SPEC = Path(__file__).parent / "fixtures" / "bodies" / "openapi.yaml"
KEY = {"X-API-Key": "k"}


@pytest.fixture(scope="module")
def bodies(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("gen")
    pipeline.generate(SPEC, out, "bodies_rt", force=True)
    sys.path.insert(0, str(out))
    try:
        yield (importlib.import_module("bodies_rt.server"), importlib.import_module("bodies_rt.client"),
               importlib.import_module("bodies_rt.models"))
    finally:
        sys.path.remove(str(out))


@pytest.fixture(scope="module")
def app(bodies: Any) -> Any:
    server, _, models = bodies
    h = server.handlers

    class Keys:
        async def authenticate(self, scheme: str, credential: str) -> Any:
            return server.Principal("t1", frozenset()) if credential == "k" else None

    def received(text: str) -> Any:
        return models.Received(summary=text)

    class Handlers:
        async def upload(self, request: Any, principal: Any) -> Any:
            body = request.body
            assert isinstance(body, models.Upload)
            return h.Upload200(received(f"{body.title}|{body.file!r}|{body.count}|{body.tags}"))

        async def log_in(self, request: Any, principal: Any) -> Any:
            body = request.body
            assert isinstance(body, models.Login)
            since = body.since.isoformat() if isinstance(body.since, datetime) else body.since
            return h.LogIn200(received(f"{body.username}|{body.remember}|{body.attempts}|{since}"))

        async def put_note(self, request: Any, principal: Any) -> Any:
            return h.PutNote200(received(f"{request.id_}|{request.body!r}"))

        async def get_note(self, request: Any, principal: Any) -> Any:
            return h.GetNote200(f"note {request.id_}: é") if request.id_ != "missing" else h.GetNote404({"title": "no"})

        async def get_blob(self, request: Any, principal: Any) -> Any:
            return h.GetBlob200(b"\x00\x01" + request.id_.encode())

        async def put_blob(self, request: Any, principal: Any) -> Any:
            return h.PutBlob200(received(f"{request.id_}|{request.body!r}"))

        async def add_pet(self, request: Any, principal: Any) -> Any:
            return h.AddPet200(received(request.body.model_dump_json(exclude_unset=True)))

        async def add_animal(self, request: Any, principal: Any) -> Any:
            return h.AddAnimal200(received(f"{type(request.body).__name__} {request.body.model_dump_json()}"))

        async def add_shape(self, request: Any, principal: Any) -> Any:
            return h.AddShape200(received(f"{type(request.body).__name__} {request.body.model_dump_json()}"))

        async def add_figure(self, request: Any, principal: Any) -> Any:
            return h.AddFigure200(received(f"{type(request.body).__name__} {request.body.model_dump_json()}"))

    return server.create_app(server.Handlers(bodies=Handlers()), Keys())


def call(app: Any, bodies: Any, method: str, **kwargs: Any) -> Any:
    async def run() -> Any:
        client = bodies[1].AsyncClient(base_url="http://test", api_key="k", transport=httpx.ASGITransport(app=app))
        try:
            return await getattr(client.bodies, method)(**kwargs)
        finally:
            await client.aclose()

    return asyncio.run(run())


def raw(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def run() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            return await http.request(method, path, headers={**KEY, **kwargs.pop("headers", {})}, **kwargs)

    return asyncio.run(run())


def test_multipart_carries_a_file_and_typed_fields(app: Any, bodies: Any) -> None:
    models = bodies[2]
    upload = models.Upload(file=b"\x00\xffdata", title="report", count=3, tags=["a", "b"])
    assert call(app, bodies, "upload", body=upload).summary == "report|b'\\x00\\xffdata'|3|['a', 'b']"
    assert call(app, bodies, "upload", body=models.Upload(file=b"x", title="t")).summary == "t|b'x'|MISSING|MISSING"


def test_urlencoded_form_fields_are_read_as_their_types(app: Any, bodies: Any) -> None:
    since = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    login = bodies[2].Login(username="ann", remember=True, attempts=0, since=since)
    assert call(app, bodies, "log_in", body=login).summary == "ann|True|0|2024-01-02T03:04:05+00:00"
    response = raw(app, "POST", "/sessions", data={"username": "bob", "remember": "false", "attempts": "2"})
    assert response.json() == {"summary": "bob|False|2|MISSING"}


def test_a_discriminated_form_is_read_as_the_option_its_tag_names(app: Any, bodies: Any) -> None:
    """A form has no nesting: the tag is a field like the others, and picks the model its fields are read as (an
    allOf parent's subtype with its own fields, a oneOf's option); the client sends an option with its tag."""
    models = bodies[2]
    dog = raw(app, "POST", "/animals", data={"kind": "dog", "name": "Rex", "barks": "true"})
    assert dog.json() == {"summary": 'Dog {"kind":"dog","name":"Rex","barks":true}'}
    bird = raw(app, "POST", "/animals", data={"kind": "Bird", "name": "Tweety", "wingspan": "0.3"})
    assert bird.json() == {"summary": 'Bird {"kind":"Bird","name":"Tweety","wingspan":0.3}'}  # its schema's name
    other = raw(app, "POST", "/animals", data={"kind": "cat", "name": "Tom"})
    assert other.json() == {"summary": 'Animal {"kind":"cat","name":"Tom"}'}  # a tag naming none: just the parent
    assert call(app, bodies, "add_animal", body=models.Dog(kind="dog", name="Rex", barks=False)).summary == \
        'Dog {"kind":"dog","name":"Rex","barks":false}'
    square = raw(app, "POST", "/shapes", files={"shape": (None, "Square"), "side": (None, "3")})
    assert square.json() == {"summary": 'Square {"shape":"Square","side":3}'}
    assert call(app, bodies, "add_shape", body=models.Circle(shape="Circle", radius=1.5)).summary == \
        'Circle {"shape":"Circle","radius":1.5}'
    unnamed = raw(app, "POST", "/shapes", files={"shape": (None, "Hexagon"), "side": (None, "3")})
    assert unnamed.status_code == 400 and unnamed.json()["errors"][0]["pointer"] == "#body/shape", unnamed.text
    wrong = raw(app, "POST", "/animals", data={"kind": "dog", "name": "Rex"})  # a Dog barks, or not
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["pointer"] == "#body/barks", wrong.text


def test_a_form_of_options_no_tag_tells_apart_is_the_one_that_knows_its_fields(app: Any, bodies: Any) -> None:
    """Options ignore fields they do not name, so the first would take any form: the one naming them all comes first."""
    square = raw(app, "POST", "/figures", data={"shape": "s", "side": "2"})
    assert square.json() == {"summary": 'Square {"shape":"s","side":2}'}
    circle = raw(app, "POST", "/figures", data={"shape": "c", "radius": "0.5"})
    assert circle.json() == {"summary": 'Circle {"shape":"c","radius":0.5}'}
    neither = raw(app, "POST", "/figures", data={"shape": "c", "radius": "wide"})
    assert neither.status_code == 400 and neither.json()["errors"][0]["pointer"] == "#body/radius", neither.text
    assert call(app, bodies, "add_figure", body=bodies[2].Square(shape="s", side=3)).summary == \
        'Square {"shape":"s","side":3}'


def test_text_and_bytes_bodies(app: Any, bodies: Any) -> None:
    assert call(app, bodies, "put_note", id_="n1", body="héllo\nworld").summary == "n1|'héllo\\nworld'"
    assert call(app, bodies, "put_blob", id_="b1", body=b"\x01\x02").summary == "b1|b'\\x01\\x02'"
    assert call(app, bodies, "put_blob", id_="b1").summary == "b1|None"  # the body is optional


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "pointer"),
    [
        ("/sessions", {"data": {"username": "bob", "attempts": "many"}}, 400, "#body/attempts"),
        ("/sessions", {"data": {"username": "bob", "attempts": "-1"}}, 400, "#body/attempts"),
        ("/sessions", {"data": {"remember": "true"}}, 400, "#body/username"),
        ("/sessions", {"json": {"username": "bob"}}, 415, "#header/content-type"),
        ("/sessions", {}, 400, "#body"),
        ("/uploads", {"data": {"title": "no file"}, "files": {"other": ("o", b"1")}}, 400, "#body/file"),
        ("/uploads", {"files": {"file": ("f", b"1"), "title": (None, "t"), "count": (None, "0")}}, 400, "#body/count"),
    ],
)
def test_malformed_bodies_get_a_problem_naming_the_field(app: Any, path: str, kwargs: dict[str, Any], status: int,
                                                        pointer: str) -> None:
    response = raw(app, "POST", path, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [error["pointer"] for error in response.json()["errors"]], response.json()


def test_text_in_an_undeclared_charset_is_refused(app: Any) -> None:
    response = raw(app, "PUT", "/notes/n1", content="é".encode("latin-1"), headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "#body"


def test_text_and_bytes_responses(app: Any, bodies: Any) -> None:
    assert call(app, bodies, "get_note", id_="n1") == "note n1: é"
    assert call(app, bodies, "get_blob", id_="b1") == b"\x00\x01b1"
    note = raw(app, "GET", "/notes/n1")
    assert note.headers["content-type"].startswith("text/plain") and note.text == "note n1: é"
    assert raw(app, "GET", "/blobs/b1").headers["content-type"] == "application/octet-stream"


PET = {"id": 7, "name": "Rex", "vaccinated": True, "weight": 4.5, "photoUrls": ["a.png", "b.png"],
       "tags": [{"id": 1, "name": "good"}, {"name": "dog"}]}
PET_XML = (b'<pet id="7"><petName>Rex</petName><vaccinated>true</vaccinated><weight>4.5</weight>'
           b"<photos><photo>a.png</photo><photo>b.png</photo></photos>"
           b"<tag><id>1</id><name>good</name></tag><tag><name>dog</name></tag></pet>")  # the items' own name


def test_a_body_in_several_media_types_is_read_as_the_one_sent(app: Any, bodies: Any) -> None:
    """JSON (what the client sends), XML by its schema's `xml` names (attribute, renamed element, wrapped and
    repeated arrays, typed scalars) and a form all give the handler the same typed body."""
    import json

    assert json.loads(call(app, bodies, "add_pet", body=bodies[2].Pet(**PET)).summary) == PET
    as_xml = raw(app, "POST", "/pets", content=PET_XML, headers={"Content-Type": "application/xml"})
    assert as_xml.status_code == 200, as_xml.text
    assert json.loads(as_xml.json()["summary"]) == PET
    as_form = raw(app, "POST", "/pets", data={"name": "Rex", "id": "7", "vaccinated": "false"})
    assert json.loads(as_form.json()["summary"]) == {"id": 7, "name": "Rex", "vaccinated": False}
    nothing_null = raw(app, "POST", "/pets", content=b"<pet><petName>null</petName><weight>null</weight></pet>",
                       headers={"Content-Type": "text/xml; charset=utf-8"})
    assert nothing_null.status_code == 415  # text/xml is not one the operation takes
    nulls = raw(app, "POST", "/pets", content=b"<pet><petName>null</petName><weight>null</weight></pet>",
                headers={"Content-Type": "application/xml"})
    assert json.loads(nulls.json()["summary"]) == {"name": "null", "weight": None}  # a string stays a string
    more = raw(app, "POST", "/pets", headers={"Content-Type": "application/xml"},
               content=b"<pet><petName>R</petName><chip>9007199254740993</chip><status>sold</status>"
                       b"<meta><age>3</age><legs>4</legs></meta></pet>")
    assert more.status_code == 200, more.text
    assert json.loads(more.json()["summary"]) == {  # an int64 exactly, a map's entries, an allOf's scalar
        "name": "R", "chip": 9007199254740993, "status": "sold", "meta": {"age": 3, "legs": 4}}


@pytest.mark.parametrize(
    ("content", "content_type", "status", "pointer"),
    [
        (b"<pet><vaccinated>yes</vaccinated><petName>R</petName></pet>", "application/xml", 400, "/vaccinated"),
        (b'<pet id="x"><petName>R</petName></pet>', "application/xml", 400, "/id"),
        (b"<pet><photos/></pet>", "application/xml", 400, "/name"),  # as in JSON: a pointer into the value
        (b"<pet><petName>R</pet>", "application/xml", 400, "#body"),
        (b'<!DOCTYPE pet [<!ENTITY a "aaaa">]><pet><petName>&a;</petName></pet>', "application/xml", 400, "#body"),
        (b"Rex", "text/plain", 415, "#header/content-type"),
    ],
)
def test_a_bad_body_in_another_media_type_gets_a_problem(app: Any, content: bytes, content_type: str, status: int,
                                                         pointer: str) -> None:
    response = raw(app, "POST", "/pets", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert pointer in [error["pointer"] for error in response.json()["errors"]], response.json()


def test_a_media_type_the_server_cannot_read_is_a_warning_at_its_pointer(tmp_path: Path) -> None:
    outcome = pipeline.generate(SPEC, tmp_path, "bodies_warned", force=True)
    unread = [w for w in outcome.warnings if w.rule == "request-media-unread"]
    assert [w.pointer for w in unread] == ["/paths/~1pets/post/requestBody/content/text~1plain"]
    assert "answers it with 415" in unread[0].message
