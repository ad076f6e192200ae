"""specgen mock and specgen conformance on a spec nobody here implemented: the mock answers every operation from
the spec's examples (or values made from the schema), checks credentials and inputs as the generated server does,
and passes conformance; a deliberately broken handler is caught, with a curl line that reproduces it."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import typing
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
import pytest

from generator import conformance
from generator.load import load_spec
from generator.mock import build, synthesize

HERE = Path(__file__).parent
SMALL = HERE / "fixtures" / "small" / "openapi.yaml"


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return build(SMALL, keys=["good-key"], out=tmp_path_factory.mktemp("mock"))


def call(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


def test_the_mock_answers_each_operation_with_its_example_and_checks_credentials(mock: Any) -> None:
    assert {(o.method, o.path, o.status) for o in mock.operations} == {
        ("GET", "/pets", 200), ("POST", "/pets", 201), ("GET", "/pets/{id}", 200)}
    listed = call(mock.app, "GET", "/pets", headers={"X-Key": "good-key"})
    assert listed.status_code == 200 and isinstance(listed.json()["data"], list)
    assert call(mock.app, "GET", "/pets").status_code == 401  # no credential
    assert call(mock.app, "GET", "/pets", headers={"X-Key": "other"}).status_code == 401  # not the one accepted
    bad = call(mock.app, "POST", "/pets", headers={"X-Key": "good-key"}, json={"name": ""})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"  # validated


def test_the_mock_passes_conformance(mock: Any) -> None:
    document = load_spec(SMALL).document
    report = conformance.run(document, app=mock.app, headers={"X-Key": "good-key"}, examples=8, stateful=3,
                             negative=False)  # the fixture documents no 400 or 401
    assert not report.failed, "\n".join(report.lines())
    labels = [o.label for o in report.outcomes]
    assert "GET /pets without credentials" in labels and all(o.cases for o in report.outcomes)


def test_a_broken_handler_is_caught_with_a_reproducer(tmp_path: Path) -> None:
    broken = build(SMALL, keys=["good-key"], out=tmp_path)

    def wrong_shape(request: Any, principal: Any) -> Any:
        return broken_result({"name": 42})  # the body a Pet must not be: no id, a number for a name

    handlers = broken.handlers.pets
    broken_result = type(handlers.get_pet(None, None))
    handlers.get_pet = wrong_shape
    report = conformance.run(load_spec(SMALL).document, app=broken.app, headers={"X-Key": "good-key"}, examples=5,
                             stateful=0, negative=False)
    assert report.failed
    failing = next(o for o in report.outcomes if o.failures)
    assert failing.label == "GET /pets/{id}"
    assert any("curl -X GET" in f.reproduce and "/pets/" in f.reproduce for f in failing.failures)
    junit = report.junit()
    assert '<testcase classname="conformance" name="GET /pets/{id}"><failure' in junit


def test_the_generated_client_calls_every_operation_of_the_mock(mock: Any, tmp_path: Path) -> None:
    calls, problems = client_calls_every_operation(mock, {"api_key": "good-key"})
    assert problems == [] and calls == 3


def client_calls_every_operation(mock: Any, credentials: dict[str, Any],
                                 document: dict[str, Any] | None = None) -> tuple[int, list[str]]:
    """Each method of the generated async client, called against the mock with arguments made from the spec's
    parameter schemas (or, for a body, from its type); a raised error (the client validates every answer) is a
    problem."""
    from pydantic import TypeAdapter, ValidationError

    from generator.build_ir import authorization_clash
    from generator.conformance import answers_only_impossible_values
    from generator.lint import required_cycles
    from generator.diagnostics import follow_refs
    from generator.naming import snake_name

    client_module = importlib.import_module(f"{mock.package}.client")
    document = document or {}
    impossible = set(required_cycles(document))
    expected: dict[str, str] = {}  # `tag.method` → the error its spec makes certain
    schemas: dict[str, dict[str, Any]] = {}  # `tag.method` → parameter python name → its schema in the spec
    for operation in mock.operations:
        item = (document.get("paths") or {}).get(operation.path) or {}
        declared = (item.get("parameters") or []) + ((item.get(operation.method.lower()) or {}).get("parameters") or [])
        schemas[operation.handler] = {snake_name(str(p.get("name"))): p.get("schema") or {}
                                      for p in declared if isinstance(p, dict) and "$ref" not in p}
        spelled = item.get(operation.method.lower()) or {}
        requirements = spelled.get("security", document.get("security")) or []
        defined = (document.get("components") or {}).get("securitySchemes") or {}
        if requirements and all(set(r) - set(defined) or authorization_clash(r, lambda n: follow_refs(document, defined[n]))
                                for r in requirements):  # an undefined scheme, or two in one Authorization header
            expected[operation.handler] = "AuthenticationError"  # no request can meet the operation's security
        if all(str(status).startswith("1") for status in spelled.get("responses") or {"200": None}):
            expected[operation.handler] = "UnexpectedResponse"  # a 1xx is never a final answer
        if answers_only_impossible_values(document, spelled.get("responses"), impossible):
            expected[operation.handler] = "ServerError"  # no answer can be valid: the mock says so with a 501
    problems: list[str] = []
    calls = [0]

    async def run() -> None:
        async with client_module.AsyncClient("http://mock", transport=httpx.ASGITransport(app=mock.app),
                                             **credentials) as client:
            for resource_name, resource in vars(client).items():
                if not hasattr(resource, "_client"):
                    continue
                for name, method in inspect.getmembers(resource, inspect.iscoroutinefunction):
                    if name.startswith("_"):
                        continue
                    arguments = {}
                    hints = typing.get_type_hints(method, globalns=vars(sys.modules[method.__module__]))
                    for parameter in inspect.signature(method).parameters.values():
                        if parameter.default is inspect.Parameter.empty and parameter.kind is parameter.KEYWORD_ONLY:
                            adapter = TypeAdapter(hints[parameter.name])
                            declared = schemas.get(f"{resource_name}.{name}", {}).get(parameter.name)
                            schema, where = (declared, document) if declared else (adapter.json_schema(),) * 2
                            try:
                                arguments[parameter.name] = adapter.validate_python(synthesize(schema, where))
                            except ValidationError:  # the spec's example breaks its own schema: made up instead
                                arguments[parameter.name] = adapter.validate_python(
                                    synthesize(schema, where, examples=False))
                    calls[0] += 1
                    try:
                        await method(**arguments)
                    except client_module.ApiError as exc:
                        if type(exc).__name__ == expected.get(f"{resource_name}.{name}"):
                            continue
                        if "the spec documents no success response" not in str(exc):  # a documented error is not
                            problems.append(f"{resource_name}.{name}: {type(exc).__name__}: {exc}")
                    except Exception as exc:  # noqa: BLE001 - every failure is listed
                        problems.append(f"{resource_name}.{name}: {type(exc).__name__}: {exc}")

    asyncio.run(run())
    return calls[0], problems


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_commands_as_a_user_runs_them(tmp_path: Path) -> None:
    """`specgen mock` prints its address and operations and serves; `specgen conformance --base-url` proves it
    and writes JUnit XML; `--app module:attr` does the same in process."""
    specgen = str(Path(sys.executable).parent / "specgen")
    port = free_port()
    server = subprocess.Popen([specgen, "mock", str(SMALL), "--port", str(port), "--key", "good-key"],
                              stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        first = server.stdout.readline() if server.stdout else ""
        assert first.startswith("specgen mock: ") and f"http://127.0.0.1:{port}" in first
        listed = [server.stdout.readline().split() for _ in range(3)] if server.stdout else []
        assert sorted((row[0], row[1], row[3]) for row in listed) == [
            ("GET", "/pets", "200"), ("GET", "/pets/{id}", "200"), ("POST", "/pets", "201")]
        for _ in range(50):
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/pets", headers={"X-Key": "good-key"})
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answered.status_code == 200
        junit = tmp_path / "conformance.xml"
        done = subprocess.run([specgen, "conformance", str(SMALL), "--base-url", f"http://127.0.0.1:{port}",
                               "--key", "good-key", "--examples", "3", "--no-negative", "--junit", str(junit)],
                              capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stdout[-3000:]
        assert "ok   GET /pets  (" in done.stdout and "0 failure(s)" in done.stdout.splitlines()[-1]
        assert junit.read_text().startswith("<?xml") and 'failures="0"' in junit.read_text()
    finally:
        server.terminate()
        server.wait(timeout=10)
    (tmp_path / "broken_app.py").write_text(
        "from pathlib import Path\nfrom generator.mock import build\n"
        f"mock = build({str(SMALL)!r}, keys=['good-key'], out=Path({str(tmp_path / 'gen')!r}))\n"
        "mock.handlers.pets.list_pets = lambda request, principal: (_ for _ in ()).throw(RuntimeError('boom'))\n"
        "app = mock.app\n")
    done = subprocess.run([specgen, "conformance", str(SMALL), "--app", "broken_app:app", "--key", "good-key",
                           "--examples", "2", "--stateful", "0", "--no-negative"], capture_output=True, text=True,
                          cwd=tmp_path)
    assert done.returncode == 1
    assert "FAIL GET /pets  (" in done.stdout and "curl -X GET" in done.stdout


def test_a_requirement_naming_an_undefined_scheme_is_a_warning_and_a_401_not_a_500(tmp_path: Path) -> None:
    from generator import pipeline

    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\nsecurity: [{api_key: []}]\npaths:\n  /a:\n"
                    "    get:\n      operationId: get_a\n      responses: {'200': {description: ok}}\n")
    warnings = pipeline.generate(spec, tmp_path / "out", "undefined_scheme", force=True).warnings
    assert [(w.rule, w.pointer) for w in warnings] == [("security-scheme-undefined", "/security")]  # inherited
    mock = build(spec, out=tmp_path / "mock")
    assert call(mock.app, "GET", "/a", headers={"api_key": "x"}).status_code == 401


def test_made_up_values_are_valid_as_the_spec_version_reads_them() -> None:
    """oneOf gets a value of exactly one option; an optional property no value can satisfy is left out; under 3.1
    `nullable` (no keyword there) neither ends a structure with null nor makes a null default valid."""
    tag = {"type": "object", "properties": {"name": {"type": "string"}}}
    named = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}
    document: dict[str, Any] = {"openapi": "3.0.3", "components": {"schemas": {"Tag": tag, "Named": named}}}
    overlapping = {"oneOf": [{"$ref": "#/components/schemas/Tag"}, {"$ref": "#/components/schemas/Named"}]}
    assert synthesize(overlapping, document) == {}  # Tag's smallest: {"name": ...} would match Named as well
    same_twice = {"type": "object", "properties": {
        "either": {"oneOf": [{"$ref": "#/components/schemas/Tag"}, {"$ref": "#/components/schemas/Tag"}]},
        "id": {"type": "integer"}}}
    assert synthesize(same_twice, document) == {"id": 1}
    formats = {"oneOf": [{"type": "string", "format": "uuid"}, {"type": "string", "format": "email"}]}
    assert synthesize(formats, document) == "3fa85f64-5717-4562-b3fc-2c963f66afa6"  # formats tell them apart
    assert synthesize({"const": None}, {"openapi": "3.1.0"}) is None
    nullable = {"type": "string", "nullable": True, "default": None}
    assert synthesize(nullable, document) is None
    assert isinstance(synthesize(nullable, {"openapi": "3.1.0"}), str)


def test_a_response_may_leave_out_a_required_write_only_property_under_3_1_too() -> None:
    """3.1 dropped 3.0's sentence that `required` binds a writeOnly property in requests only; read strictly, no
    card could be answered. Answering its cvc is the leak conformance catches."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    card = {"type": "object", "required": ["number", "cvc"], "additionalProperties": False,
            "properties": {"number": {"type": "string"}, "cvc": {"type": "integer", "writeOnly": True}}}
    document = {"openapi": "3.1.0", "info": {"title": "cards", "version": "1"}, "paths": {"/card": {"get": {
        "operationId": "get_card", "responses": {"200": {"description": "the card", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Card"}}}}}}}},
        "components": {"schemas": {"Card": card}}}

    def answering(body: dict[str, Any]) -> Any:
        async def endpoint(request: Any) -> JSONResponse:
            return JSONResponse(body)

        return Starlette(routes=[Route("/card", endpoint)])

    masked = conformance.run(document, app=answering({"number": "4242"}), examples=2, stateful=0, negative=False)
    assert not masked.failed, "\n".join(masked.lines())
    leaked = conformance.run(document, app=answering({"number": "4242", "cvc": 123}), examples=2, stateful=0,
                             negative=False)
    assert "writeOnly /cvc in the response" in "\n".join(leaked.lines())


def test_properties_without_a_type_are_read_as_an_object_and_the_report_says_so() -> None:
    """As the generated models read them (lint warns): an array sent there would be refused, and that is no failure."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    document = {"openapi": "3.1.0", "info": {"title": "notes", "version": "1"}, "paths": {"/notes": {"post": {
        "operationId": "add_note", "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "properties": {"text": {"type": "string"}}}}}},
        "responses": {"204": {"description": "added"}, "400": {"description": "not an object"}}}}}}
    seen: list[Any] = []

    async def endpoint(request: Request) -> Any:
        body = await request.json()
        seen.append(body)
        return JSONResponse({}, 400) if not isinstance(body, dict) else Response(status_code=204)

    report = conformance.run(document, app=Starlette(routes=[Route("/notes", endpoint, methods=["POST"])]),
                             examples=10, stateful=0, negative=False)
    assert not report.failed, "\n".join(report.lines())
    assert seen and all(isinstance(body, dict) for body in seen)
    assert next(report.lines()) == ("read as objects, as the generated models read them (lint: object-type-implied): "
                                    "/paths/~1notes/post/requestBody/content/application~1json/schema")


CERTIFIED = """openapi: 3.1.0
info: {title: t, version: '1'}
components: {securitySchemes: {cert: {type: mutualTLS}, key: {type: apiKey, in: header, name: X-Key}}}
paths:
  /a:
    get:
      operationId: get_a
      security: [{cert: []}]
      responses: {'200': {description: ok}}
  /b:
    get:
      operationId: get_b
      security: [{key: []}]
      responses: {'200': {description: ok}}
  /c:
    get:
      operationId: get_c
      security: [{cert: []}, {key: []}]
      responses: {'200': {description: ok}}
  /d:
    get:
      operationId: get_d
      security: [{cert: [], key: []}]
      responses: {'200': {description: ok}}
"""


def test_mutual_tls_is_met_by_the_certificate_the_asgi_server_verified(tmp_path: Path) -> None:
    """The generated server reads the client certificate from the ASGI TLS extension and hands its PEM to the
    authenticator; without one (uvicorn never passes it) the requirement is a 401. The mock stands in for the TLS
    layer, and conformance does not ask it to refuse what an HTTP request cannot leave out."""
    from generator import pipeline

    spec = tmp_path / "openapi.yaml"
    spec.write_text(CERTIFIED)
    outcome = pipeline.generate(spec, tmp_path / "out", "certified", force=True)
    unsupported = [w.pointer for w in outcome.warnings if w.rule == "security-unsupported"]
    assert unsupported == ["/components/securitySchemes/cert"]
    sys.path.insert(0, str(tmp_path / "out"))
    try:
        server = importlib.import_module("certified.server")
        client_module = importlib.import_module("certified.client")
    finally:
        sys.path.remove(str(tmp_path / "out"))
    seen: list[tuple[str, str]] = []

    class Certificates:
        async def authenticate(self, scheme: str, credential: str) -> Any:
            seen.append((scheme, credential))
            return server.Principal("t", frozenset()) if credential.startswith("-----BEGIN") or credential == "k" \
                else None

    class Answers:
        async def get_a(self, request: Any, principal: Any) -> Any:
            return server.handlers.GetA200()

        async def get_b(self, request: Any, principal: Any) -> Any:
            return server.handlers.GetB200()

        async def get_c(self, request: Any, principal: Any) -> Any:
            return server.handlers.GetC200()

        async def get_d(self, request: Any, principal: Any) -> Any:
            return server.handlers.GetD200()

    app = server.create_app(server.Handlers(default=Answers()), Certificates())
    assert call(app, "GET", "/a").status_code == 401

    async def with_certificate(scope: dict[str, Any], receive: Any, send: Any) -> None:
        tls = {"client_cert_chain": ["-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"],
               "client_cert_error": None}
        await app({**scope, "extensions": {**scope.get("extensions", {}), "tls": tls}}, receive, send)

    assert call(with_certificate, "GET", "/a").status_code == 200
    assert seen[-1] == ("cert", "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n")

    async def client_call() -> None:  # the certificate is the transport's: the client sends no header for it
        transport = httpx.ASGITransport(app=with_certificate)
        async with client_module.AsyncClient("http://t", transport=transport, api_key="k") as client:
            await client.default.get_a()
        async with client_module.AsyncClient("http://t", transport=httpx.ASGITransport(app=app), api_key="k") as client:
            seen.clear()
            await client.default.get_c()  # the key it holds meets an alternative: it is sent, not left to the TLS
            assert seen == [("key", "k")]

    asyncio.run(client_call())
    mock = build(spec, out=tmp_path / "mock", keys=["k"])
    assert call(mock.app, "GET", "/a").status_code == 200 and call(mock.app, "GET", "/b").status_code == 401
    assert call(mock.app, "GET", "/c").status_code == 200 and call(mock.app, "GET", "/d").status_code == 401
    report = conformance.run(yaml.safe_load(CERTIFIED), app=mock.app, key="k", examples=2, stateful=0, negative=False)
    assert not report.failed, "\n".join(report.lines())
    lines = "\n".join(report.lines())
    for label in ("GET /a", "GET /c"):  # a certificate alone meets one of their alternatives
        assert f"skip {label} without credentials  (0 request(s)): a client certificate (mutualTLS) alone" in lines
    assert "ok   GET /d without credentials  (1 request(s))" in lines  # the key it needs too is missing: 401
