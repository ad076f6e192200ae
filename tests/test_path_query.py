"""A path template that carries a query string (tests/fixtures/path_query): routed by its path, its parameters
read from the query as declared, with a warning that says so (FastAPI alone refuses to start)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from .packages import NoCredentials, generated

HERE = Path(__file__).parent


def test_a_query_string_in_a_path_is_routed_by_the_path(tmp_path: Path) -> None:
    with generated(HERE / "fixtures" / "path_query" / "openapi.yaml", tmp_path, "pq") as package:
        assert any("[path-query]" in w and "routed as '/search/articles'" in w for w in package.warnings)
        server, client_module = package.module("server"), package.module("client")

        class Search:
            def search_articles(self, request: Any, principal: Any) -> Any:
                return server.handlers.SearchArticles200([f"about {request.query}"])

        app = server.create_app(server.Handlers(default=Search()), NoCredentials())

        async def calls() -> None:
            async with client_module.AsyncClient("http://t", transport=httpx.ASGITransport(app=app)) as client:
                assert await client.default.search_articles(query="startups") == ["about startups"]

        asyncio.run(calls())
