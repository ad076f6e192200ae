"""Responses beyond one explicit 2xx (tests/fixtures/responses): `default` as the success, a `2XX` range, an
operation that documents no success at all, `default` beside a 200, and successes of different bodies (one
without), through server and client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .packages import NoCredentials, Package, generated, mypy_strict

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    with generated(HERE / "fixtures" / "responses" / "openapi.yaml", tmp_path_factory.mktemp("responses"), "resp") as package:
        yield package


def test_an_operation_without_a_success_is_reported_and_the_package_passes_mypy_strict(package: Package) -> None:
    assert package.warnings == ("openapi.yaml:22:7: warning: operation 'addPet' documents no 2xx or default response: "
                                "its handler may answer any status with any JSON body [no-success-response] at "
                                "/paths/~1pets/post/responses",)
    assert mypy_strict(package.folder, package.name) == ""


def test_handlers_answer_default_and_range_statuses_and_the_client_reads_them(package: Package) -> None:
    server, client_module, models = package.module("server"), package.module("client"), package.module("models")
    h = server.handlers

    class Handlers:
        async def create_user(self, request: Any, principal: Any) -> Any:
            return h.CreateUserDefault(200, models.User(id=1, username=request.body.username))

        async def add_pet(self, request: Any, principal: Any) -> Any:
            return h.AddPetDefault(201, {"stored": request.body.username})

        async def start_job(self, request: Any, principal: Any) -> Any:
            return h.StartJob2XX(202, models.User(id=7))

        async def get_thing(self, request: Any, principal: Any) -> Any:
            return h.StartJob2XX(404, models.User(id=7))  # outside every documented status: a server bug

        async def place_order(self, request: Any, principal: Any) -> Any:
            answers.append(answer := answers.pop(0))
            return answer

        async def get_note(self, request: Any, principal: Any) -> Any:
            notes.append(note := notes.pop(0))
            return note

    answers = [h.PlaceOrder200(models.User(id=3)), h.PlaceOrder201(models.Ticket(ticket="t-1")), h.PlaceOrder204()]
    notes = [h.GetNote200("hello"), h.GetNote204()]

    app = server.create_app(server.Handlers(default=Handlers()), NoCredentials())

    async def calls() -> None:
        transport = httpx.ASGITransport(app=app)
        async with client_module.AsyncClient("http://t", transport=transport) as client:
            user = await client.default.create_user(body=models.User(username="ann"))
            assert (user.id, user.username) == (1, "ann")
            assert await client.default.add_pet(body=models.User(username="rex")) == {"stored": "rex"}
            assert (await client.default.start_job()).id == 7
            # three successes, two bodies and none: the client returns whichever came (typed User | Ticket | None)
            placed = [await client.default.place_order() for _ in range(3)]
            assert [type(p).__name__ for p in placed] == ["User", "Ticket", "NoneType"]
            assert (placed[0].id, placed[1].ticket) == (3, "t-1")
            assert [await client.default.get_note() for _ in range(2)] == ["hello", None]  # text, or nothing
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
            assert (await raw.post("/jobs")).status_code == 202
            assert (await raw.post("/pets", json={"username": "rex"})).status_code == 201
            wrong = await raw.get("/things")
            assert wrong.status_code == 500 and "undocumented status 404" in wrong.text

    asyncio.run(calls())


def test_a_method_left_behind_by_a_renamed_operation_is_named(package: Package) -> None:
    server = package.module("server")

    class Renamed:
        def create_user(self, request: Any, principal: Any) -> Any: ...
        def add_pet(self, request: Any, principal: Any) -> Any: ...
        def start_job(self, request: Any, principal: Any) -> Any: ...
        def fetch_thing(self, request: Any, principal: Any) -> Any: ...  # the spec now says get_thing
        def place_order(self, request: Any, principal: Any) -> Any: ...
        def get_note(self, request: Any, principal: Any) -> Any: ...

    with pytest.raises(TypeError, match=r"do not implement: default\.get_thing; methods no operation uses "
                                        r"\(renamed\?\): default\.fetch_thing"):
        server.create_app(server.Handlers(default=Renamed()), NoCredentials())
    Renamed.get_thing = Renamed.fetch_thing  # type: ignore[attr-defined]
    with pytest.warns(UserWarning, match="methods no operation uses: default.fetch_thing"):
        server.create_app(server.Handlers(default=Renamed()), NoCredentials())


def test_missing_handler_methods_stop_the_app_or_answer_501(package: Package) -> None:
    server = package.module("server")

    class Partial:
        async def create_user(self, request: Any, principal: Any) -> Any:
            return server.handlers.CreateUserDefault(200, None)

    with pytest.raises(TypeError, match=r"handlers do not implement: default\.add_pet, default\.start_job, "
                                        r"default\.get_thing"):
        server.create_app(server.Handlers(default=Partial()), NoCredentials())
    app = server.create_app(server.Handlers(default=Partial()), NoCredentials(), allow_unimplemented=True)

    async def calls() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
            missing = await raw.post("/jobs")
            assert missing.status_code == 501 and missing.headers["content-type"] == "application/problem+json"
            assert (await raw.post("/users", json={})).status_code == 200

    asyncio.run(calls())
