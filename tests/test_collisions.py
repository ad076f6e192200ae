"""Every name the generator composes, made to collide (tests/fixtures/collisions): the package generates,
passes mypy --strict, and a round trip through server and client carries every value to where it belongs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.build_ir import build_api
from generator.load import load_spec
from generator.models import emit_models

from .packages import NoCredentials, Package, generated, mypy_strict

HERE = Path(__file__).parent
SPEC = HERE / "fixtures" / "collisions" / "openapi.yaml"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    with generated(SPEC, tmp_path_factory.mktemp("collisions"), "col") as package:
        yield package


def test_no_name_means_two_things_and_every_rename_is_reported() -> None:
    loaded = load_spec(SPEC)
    api, warnings = build_api(loaded.document, emit_models(loaded.document, "x"), "col")
    operations = {op.operation_id: op for tag in api.tags for op in tag.operations}
    assert (operations["get_pet"].request_class, operations["getPet"].request_class) == ("GetPetOpRequest", "BGetPetRequest")
    assert operations["echo"].result_class == "EchoOpResult"  # EchoRequest is a model
    classes = [name for tag in api.tags for name in (tag.class_name, f"Async{tag.class_name}", f"{tag.class_name}Handlers")]
    classes += [name for op in operations.values()
                for name in (op.request_class, op.result_class, *(r.class_name for r in op.responses))]
    assert len(classes) == len(set(classes)) and not set(classes) & {name for name, _ in api.models}
    assert [tag.class_name for tag in api.tags if tag.name in ("async pets", "Client")] == ["AsyncPets2", "Client2"]
    assert [tag.py_name for tag in api.tags if tag.name == "request"] == ["request_"]  # Client.request is a method
    assert operations["list_items"].pagination and operations["list_items"].pagination.method == "iter_list_items_"
    assert sorted((w.rule, w.pointer) for w in warnings) == [
        ("name-collision", "/paths/~1a~1pets~1{id}/get"), ("name-collision", "/paths/~1b~1pets~1{id}/get"),
        ("name-collision", "/paths/~1echo/post")]
    params = [p.py_name for p in operations["echo"].parameters]
    assert params == ["body_", "principal", "http_request", "inputs", "result", "query", "response", "page", "models_",
                      "handlers_", "h_", "session", "self_", "kind"]


def test_the_package_passes_mypy_strict(package: Package) -> None:
    assert mypy_strict(package.folder, package.name) == ""


def test_every_value_reaches_its_parameter_through_server_and_client(package: Package) -> None:
    server, client_module, models = package.module("server"), package.module("client"), package.module("models")
    h = server.handlers

    class A:
        async def echo(self, request: Any, principal: Any) -> Any:
            fields = ("body_", "principal", "http_request", "inputs", "result", "query", "response", "page", "models_",
                      "handlers_", "h_", "session", "self_", "kind")
            return h.EchoOp200({name: getattr(request, name) for name in fields} | {"text": request.body.text})

        async def get_pet(self, request: Any, principal: Any) -> Any:
            return h.GetPetOp200(models.Note(text=f"a:{request.id_}"))

    class B:
        async def get_pet(self, request: Any, principal: Any) -> Any:
            return h.BGetPet200({"from": f"b:{request.id_}"})

    class Pets:
        async def list_items(self, request: Any, principal: Any) -> Any:
            rows = [models.Note(text=str(i)) for i in range(5)]
            return h.ListItems200(models.ItemPage(count=5, results=rows[request.offset:request.offset + request.limit]))

        async def iter_list_items(self, request: Any, principal: Any) -> Any:
            return h.IterListItems200(models.Note(text="an operation, not the iterator"))

    class Nothing:
        async def list_async_pets(self, request: Any, principal: Any) -> Any:
            return h.ListAsyncPets204()

        async def get_request(self, request: Any, principal: Any) -> Any:
            return h.GetRequest204()

        async def get_client(self, request: Any, principal: Any) -> Any:
            return h.GetClient204()

    with pytest.warns(UserWarning, match="no operation uses"):  # one class serves three tags here
        app = server.create_app(server.Handlers(a=A(), b=B(), pets=Pets(), async_pets=Nothing(), request_=Nothing(),
                                                client=Nothing()), NoCredentials())

    async def calls() -> None:
        async with client_module.AsyncClient("http://t", transport=httpx.ASGITransport(app=app)) as client:
            values = {name: name.upper() for name in ("body_", "principal", "http_request", "inputs", "result", "query",
                                                      "response", "page", "models_", "handlers_", "h_", "session",
                                                      "self_")}
            echoed = await client.a.echo(body=models.Note(text="the body"), kind="y", **values)
            assert echoed == {**values, "kind": "y", "text": "the body"}
            assert (await client.a.get_pet(id_="1")).text == "a:1"
            assert await client.b.get_pet(id_="2") == {"from": "b:2"}
            assert [note.text async for note in client.pets.iter_list_items_(limit=2)] == ["0", "1", "2", "3", "4"]
            assert (await client.pets.iter_list_items()).text == "an operation, not the iterator"
            assert await client.request_.get_request() is None
            assert await client.client.get_client() is None
            assert callable(client.request)  # the base client's method is not shadowed by the `request` tag

    asyncio.run(calls())
