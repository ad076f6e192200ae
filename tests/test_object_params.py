"""Object-valued query parameters in each style (tests/fixtures/object_params): the server reads and validates
them (FastAPI alone refuses to start on them), the client writes them, and unknown keys are still refused."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator import pipeline

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("objp")
    shutil.copy(HERE / "fixtures" / "object_params" / "openapi.yaml", folder / "openapi.yaml")
    pipeline.generate(folder / "openapi.yaml", folder, "objp", force=True)
    sys.path.insert(0, str(folder))
    try:
        yield "objp"
    finally:
        sys.path.remove(str(folder))


def test_object_parameters_round_trip_in_every_style(package: str) -> None:
    server = importlib.import_module(f"{package}.server")
    client_module = importlib.import_module(f"{package}.client")
    models = importlib.import_module(f"{package}.models")
    seen: list[Any] = []

    class Handlers:
        async def list_things(self, request: Any, principal: Any) -> Any:
            seen.append(request)
            return server.handlers.ListThings200({"ok": True})

    class NoKeys:
        async def authenticate(self, scheme: str, credential: str) -> Any:
            return None

    app = server.create_app(server.Handlers(default=Handlers()), NoKeys())

    async def calls() -> None:
        async with client_module.AsyncClient("http://t", transport=httpx.ASGITransport(app=app)) as client:
            await client.default.list_things(filter_=models.Filter(status="open", min=2), point={"x": 1, "y": 2},
                                             color={"r": 3, "g": 4}, limit=5)
        inputs = seen[-1]
        assert inputs.filter_ == models.Filter(status="open", min=2)  # typed: "2" read as an integer
        assert inputs.point == {"x": "1", "y": "2"} and inputs.color == {"r": "3", "g": "4"} and inputs.limit == 5
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
            sent = await raw.get("/things", params={"filter[status]": "open", "filter[min]": "1", "x": "9"})
            assert sent.status_code == 200 and seen[-1].point == {"x": "9"} and seen[-1].color is None
            bad = await raw.get("/things", params={"filter[min]": "-1"})
            assert bad.status_code == 400 and bad.json()["errors"][0]["pointer"] == "#query/filter/min"
            unknown = await raw.get("/things", params={"z": "1"})
            assert unknown.status_code == 400 and unknown.json()["errors"][0]["pointer"] == "#query/z"

    asyncio.run(calls())
