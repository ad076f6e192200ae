"""/docs works offline: Swagger UI's files come from an installed package, and "Try it out" calls the server the
browser is looking at, wherever it runs."""

from __future__ import annotations

import httpx

from .conftest import Api, run


def test_docs_are_served_without_a_cdn_and_target_the_running_server(api: Api) -> None:
    async def scenario() -> None:
        inner = httpx.AsyncHTTPTransport() if api.over_socket else httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=inner, base_url=api.base_url) as client:  # not spec paths
            page = await client.get("/docs")
            assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
            assert "cdn." not in page.text and "unpkg" not in page.text
            script = await client.get("/docs/assets/swagger-ui-bundle.js")
            assert script.status_code == 200 and len(script.content) > 100_000
            document = (await client.get("/docs/openapi.json")).json()
            assert document["servers"] == [{"url": api.base_url}] and document["paths"]
            assert (await client.get("/openapi.json")).json()["servers"][0]["url"] == "http://127.0.0.1:8000"

    run(scenario())
