"""Object-valued query parameters in each style (tests/fixtures/object_params), and others FastAPI cannot read
(a union with an object, arrays of arrays): the server reads and validates them (FastAPI alone refuses to start
on them), the client writes them, and unknown keys are still refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .packages import NoCredentials, Package, generated

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    with generated(HERE / "fixtures" / "object_params" / "openapi.yaml", tmp_path_factory.mktemp("objp"), "objp") as package:
        yield package


def test_object_parameters_round_trip_in_every_style(package: Package) -> None:
    server, client_module, models = package.module("server"), package.module("client"), package.module("models")
    seen: list[Any] = []

    class Handlers:
        async def list_things(self, request: Any, principal: Any) -> Any:
            seen.append(request)
            return server.handlers.ListThings200({"ok": True})

    app = server.create_app(server.Handlers(default=Handlers()), NoCredentials(), allow_unimplemented=True)

    async def calls() -> None:
        async with client_module.AsyncClient("http://t", transport=httpx.ASGITransport(app=app)) as client:
            await client.default.list_things(filter_=models.Filter(status="open", min=2), point={"x": 1, "y": 2},
                                             color={"r": 3, "g": 4}, limit=5,
                                             filters=[models.Filter(status="closed"), models.Filter(min=1)])
        inputs = seen[-1]
        assert inputs.filters == [models.Filter(status="closed"), models.Filter(min=1)]  # each item JSON text
        assert inputs.filter_ == models.Filter(status="open", min=2)  # typed: "2" read as an integer
        assert inputs.point == {"x": "1", "y": "2"} and inputs.color == {"r": "3", "g": "4"} and inputs.limit == 5
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
            sent = await raw.get("/things", params={"filter[status]": "open", "filter[min]": "1", "x": "9"})
            assert sent.status_code == 200 and seen[-1].point == {"x": "9"} and seen[-1].color is None
            bad = await raw.get("/things", params={"filter[min]": "-1"})
            assert bad.status_code == 400 and bad.json()["errors"][0]["pointer"] == "#query/filter/min"
            not_json = await raw.get("/things", params={"filters": "{"})
            assert not_json.status_code == 400 and not_json.json()["errors"][0]["pointer"] == "#query/filters"
            unknown = await raw.get("/things", params={"z": "1"})
            assert unknown.status_code == 400 and unknown.json()["errors"][0]["pointer"] == "#query/z"
            ranged = await raw.get("/things", params={"created[gt]": "5", "ranges": ["[1,2]", "[3,4]"], "pick": "[7,8]"})
            assert ranged.status_code == 200, ranged.text
            assert (seen[-1].created, seen[-1].ranges, seen[-1].pick) == ({"gt": "5"}, [[1, 2], [3, 4]], [7, 8])
            plain = await raw.get("/things", params={"created": "9", "pick": "3"})
            assert plain.status_code == 200 and (seen[-1].created, seen[-1].pick) == (9, 3)
        async with client_module.AsyncClient("http://t", transport=httpx.ASGITransport(app=app)) as client:
            await client.default.list_things(created=11, ranges=[[5, 6]])
            assert (seen[-1].created, seen[-1].ranges) == (11, [[5, 6]])

    asyncio.run(calls())


def test_a_free_form_exploded_object_takes_the_other_keys_and_delimited_objects_split(package: Package) -> None:
    server, client_module = package.module("server"), package.module("client")
    seen: list[Any] = []

    class Handlers:
        async def list_things(self, request: Any, principal: Any) -> Any:
            raise AssertionError("not called")

        async def list_labels(self, request: Any, principal: Any) -> Any:
            seen.append(request)
            return server.handlers.ListLabels200({"ok": True})

    app = server.create_app(server.Handlers(default=Handlers()), NoCredentials())

    async def calls() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
            sent = await raw.get("/labels", params={"team": "a", "env": "b", "limit": "3", "size": "w 2 h 5",
                                                    "span": "from|mon|to"}, headers={"Cookie": "seen=1,2,3"})
            assert sent.status_code == 200, sent.text
            inputs = seen[-1]
            assert inputs.labels == {"team": "a", "env": "b"} and inputs.limit == 3  # limit is no label
            assert inputs.size == {"w": "2", "h": "5"} and inputs.span == {"from": "mon", "to": ""}
            assert inputs.seen == [1, 2, 3]
        async with client_module.AsyncClient("http://t", transport=httpx.ASGITransport(app=app)) as client:
            await client.default.list_labels(labels={"team": "x"}, size={"w": 1, "h": 2}, seen=[4, 5])
            assert (seen[-1].labels, seen[-1].size, seen[-1].seen) == ({"team": "x"}, {"w": "1", "h": "2"}, [4, 5])
            await client.default.list_labels(ids=[1, 2], tags=["a b", "c"])
            assert (seen[-1].ids, seen[-1].tags, seen[-1].labels) == ([1, 2], ["a b", "c"], None)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
            delimited = await raw.get("/labels", params={"ids": "3 4", "tags": "x|y", "from": "mon"})
            assert delimited.status_code == 200 and (seen[-1].ids, seen[-1].tags) == ([3, 4], ["x", "y"])
            assert seen[-1].labels == {"from": "mon"}  # `span`'s field only inside span=from|...: here a label
            bad = await raw.get("/labels", headers={"Cookie": "seen=1,x"})  # the problem says where the value is
            assert bad.status_code == 400 and bad.json()["errors"][0]["pointer"] == "#cookie/seen", bad.text

    asyncio.run(calls())
