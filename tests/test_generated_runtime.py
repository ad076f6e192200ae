"""The generated server and client, run together in-process on the small fixture with an in-memory handler."""

import asyncio
import importlib
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator import pipeline

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("gen")
    spec = out / "openapi.yaml"
    shutil.copy(HERE / "fixtures" / "small" / "openapi.yaml", spec)
    pipeline.generate(spec, out, "small_rt", force=True)
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("small_rt.server"), importlib.import_module("small_rt.client"), importlib.import_module("small_rt.models")
    finally:
        sys.path.remove(str(out))


def make_app(small: Any) -> Any:
    server, _, models = small
    h = server.handlers

    class Keys:
        async def authenticate(self, scheme: str, credential: str) -> Any:
            return {"reader": server.Principal("t1", frozenset({"pets:read"})),
                    "writer": server.Principal("t1", frozenset({"pets:read", "pets:write"}))}.get(credential)

    class Pets:
        def __init__(self) -> None:
            self.rows: list[dict[str, Any]] = []
            self.seen: list[Any] = []

        async def list_pets(self, request: Any, principal: Any) -> Any:
            self.seen.append(request)
            start = (request.page - 1) * request.per_page
            chunk = self.rows[start:start + request.per_page]
            last = max(1, -(-len(self.rows) // request.per_page))
            return h.ListPets200(models.PetPageResponse.model_validate(
                {"data": chunk, "meta": {"current_page": request.page, "last_page": last}}))

        async def create_pet(self, request: Any, principal: Any) -> Any:
            row = {**request.body.model_dump(mode="json", by_alias=True, exclude_unset=True), "id": str(len(self.rows) + 1)}
            self.rows.append(row)
            return h.CreatePet201(models.PetResponse.model_validate(row))

        async def get_pet(self, request: Any, principal: Any) -> Any:
            for row in self.rows:
                if row["id"] == request.id_:
                    return h.GetPet200(models.PetResponse.model_validate(row))
            raise server.Problem(404, "no such pet")

    pets = Pets()
    return server.create_app(server.Handlers(pets=pets), Keys()), pets


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_client_and_server_round_trip_without_leaking_write_only_fields(small: Any) -> None:
    _, client_mod, models = small
    app, pets = make_app(small)

    async def scenario() -> None:
        async with client_mod.AsyncClient("http://test", api_key="writer", transport=httpx.ASGITransport(app=app)) as client:
            sent = models.PetRequest.model_validate({"name": "Tom", "microchipSecret": "s3", "animal": {"kind": "cat", "name": "Tom"}})
            created = await client.pets.create_pet(body=sent)
            assert created.id == "1" and created.name == "Tom"
            assert not hasattr(created, "microchipSecret")
            raw = await client.request("GET", "/pets/1", retryable=True)  # the raw body, credentials presented
            assert raw.status_code == 200 and "microchipSecret" not in raw.text and "s3" not in raw.text
            assert (await client.pets.get_pet(id_="1")) == created

    run(scenario())


def test_auth_is_401_without_credentials_and_403_without_scope(small: Any) -> None:
    _, client_mod, models = small
    app, _ = make_app(small)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with client_mod.AsyncClient("http://test", transport=transport) as anonymous:
            with pytest.raises(client_mod.AuthenticationError) as caught:
                await anonymous.pets.list_pets()
            assert caught.value.response.headers["content-type"] == "application/problem+json"
            assert caught.value.problem["status"] == 401
        async with client_mod.AsyncClient("http://test", api_key="reader", transport=transport) as reader:
            body = models.PetRequest.model_validate({"name": "Tom", "animal": {"kind": "dog", "name": "Rex"}})
            with pytest.raises(client_mod.PermissionDeniedError):
                await reader.pets.create_pet(body=body)

    run(scenario())


def test_invalid_input_is_400_problem_with_json_pointers(small: Any) -> None:
    app, _ = make_app(small)

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url="http://test", transport=httpx.ASGITransport(app=app),
                                     headers={"X-Key": "writer"}) as raw:
            response = await raw.post("/pets", json={"name": "", "animal": {"kind": "cow"}})
            assert response.status_code == 400
            assert response.headers["content-type"] == "application/problem+json"
            pointers = {e["pointer"] for e in response.json()["errors"]}
            assert "/name" in pointers
            response = await raw.get("/pets", params={"per_page": 1000, "include": "owner,nope"})
            assert response.status_code == 400
            assert "#query/per_page" in {e["pointer"] for e in response.json()["errors"]}
            response = await raw.get("/pets/none")
            assert response.status_code == 404 and response.json()["detail"] == "no such pet"

    run(scenario())


def test_query_encoding_and_page_iteration(small: Any) -> None:
    _, client_mod, models = small
    app, pets = make_app(small)

    async def scenario() -> None:
        async with client_mod.AsyncClient("http://test", api_key="writer", transport=httpx.ASGITransport(app=app)) as client:
            for i in range(5):
                await client.pets.create_pet(body=models.PetRequest.model_validate(
                    {"name": f"p{i}", "animal": {"kind": "cat", "name": "x"}}))
            names = [pet.name async for pet in client.pets.iter_list_pets(per_page=2, filter_kind="cat", include=["owner", "toys"])]
            assert names == ["p0", "p1", "p2", "p3", "p4"]
            first = pets.seen[0]
            assert first.filter_kind == "cat" and first.include == ["owner", "toys"]

    run(scenario())


def test_sync_client_retries_idempotent_calls_and_honours_retry_after(small: Any) -> None:
    _, client_mod, _ = small
    calls: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(503, headers={"Retry-After": "0"})
        return httpx.Response(200, json={"data": [], "meta": {"current_page": 1, "last_page": 1}})

    with client_mod.Client("http://test", api_key="k", transport=httpx.MockTransport(flaky), max_retries=2) as client:
        page = client.pets.list_pets()
    assert page.data == [] and len(calls) == 3
    assert calls[0].headers["X-Key"] == "k" and calls[0].headers["User-Agent"].startswith("small_rt-client/")


def test_sync_client_does_not_retry_a_create_and_raises_typed_errors(small: Any) -> None:
    _, client_mod, models = small
    calls: list[httpx.Request] = []

    def failing(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"title": "Service Unavailable", "status": 503})

    body = models.PetRequest.model_validate({"name": "Tom", "animal": {"kind": "cat", "name": "x"}})
    with client_mod.Client("http://test", transport=httpx.MockTransport(failing), backoff=0) as client:
        with pytest.raises(client_mod.ServerError) as caught:
            client.pets.create_pet(body=body)
    assert len(calls) == 1 and caught.value.problem == {"title": "Service Unavailable", "status": 503}


def test_connection_errors_are_retried_then_reported(small: Any) -> None:
    _, client_mod, _ = small
    attempts = 0

    def down(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("refused", request=request)

    with client_mod.Client("http://test", transport=httpx.MockTransport(down), backoff=0, max_retries=3) as client:
        with pytest.raises(client_mod.ConnectionFailed):
            client.pets.get_pet(id_="1")
    assert attempts == 4


def test_with_raw_response_gives_the_typed_result_with_its_status_and_headers(small: Any) -> None:
    _, client_mod, models = small
    app, _pets = make_app(small)
    body = models.PetRequest.model_validate({"name": "Tom", "animal": {"kind": "cat", "name": "x"}})

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [], "meta": {"current_page": 1, "last_page": 1}},
                              headers={"X-Rate-Limit-Remaining": "7"})

    with client_mod.Client("http://test", transport=httpx.MockTransport(answer)) as client:
        raw = client_mod.with_raw_response(client.pets.list_pets)(page=1)
        assert raw.parsed.data == [] and raw.status_code == 200 and raw.headers["x-rate-limit-remaining"] == "7"
        with pytest.raises(TypeError, match="made no HTTP call"):  # an iterator helper calls nothing yet
            client_mod.with_raw_response(client.pets.iter_list_pets)()

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with client_mod.AsyncClient("http://test", api_key="writer", transport=transport) as client:
            raw = await client_mod.async_with_raw_response(client.pets.create_pet)(body=body)
            assert raw.status_code == 201 and raw.parsed.name == "Tom"
            assert raw.headers["content-type"].startswith("application/json")

    run(scenario())


def test_each_call_presents_only_the_credentials_its_operation_asks_for(tmp_path: Path) -> None:
    """Basic on a basic operation, the bearer token on a bearer one, the query key where that is the scheme,
    nothing on a public operation: a credential never goes where the spec does not ask for it."""
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n"
        + "".join(f"  /{name}:\n    get:\n      operationId: {name}\n      security: {security}\n"
                  "      responses: {'204': {description: ok}}\n"
                  for name, security in (("basic", "[{basic: []}]"), ("bearer", "[{bearer: []}]"),
                                         ("keyed", "[{query_key: []}]"), ("either", "[{bearer: []}, {basic: []}]"),
                                         ("public", "[]")))
        + "components:\n  securitySchemes:\n    basic: {type: http, scheme: basic}\n"
          "    bearer: {type: http, scheme: bearer}\n    query_key: {type: apiKey, in: query, name: key}\n")
    pipeline.generate(spec, tmp_path, "per_operation_auth", force=True)
    sys.path.insert(0, str(tmp_path))
    try:
        client_mod = importlib.import_module("per_operation_auth.client")
    finally:
        sys.path.remove(str(tmp_path))
    seen: dict[str, httpx.Request] = {}

    def record(request: httpx.Request) -> httpx.Response:
        seen[request.url.path.strip("/")] = request
        return httpx.Response(204)

    credentials = {"basic": "dXNlcjpwYXNz", "bearer": "tok", "query_key": "k1"}
    with client_mod.Client("http://test", credentials=credentials, transport=httpx.MockTransport(record)) as client:
        resource = client.default
        for name in ("basic", "bearer", "keyed", "either", "public"):
            getattr(resource, name)()
    assert seen["basic"].headers["authorization"] == "Basic dXNlcjpwYXNz"
    assert seen["bearer"].headers["authorization"] == "Bearer tok"
    assert "authorization" not in seen["keyed"].headers and seen["keyed"].url.params["key"] == "k1"
    assert seen["either"].headers["authorization"] == "Bearer tok"  # the first alternative it can meet
    assert "authorization" not in seen["public"].headers and "key" not in seen["public"].url.params
