"""Two corpus failures pinned (tests/fixtures/untitled): an empty `info.title`, and a property named `format` in a
spec with an unknown format, which once made the format check itself crash."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from .packages import NoCredentials, generated

HERE = Path(__file__).parent


def test_an_empty_title_and_a_property_named_format_generate_a_working_server(tmp_path: Path) -> None:
    with generated(HERE / "fixtures" / "untitled" / "openapi.yaml", tmp_path, "untitled") as package:
        assert any("[unknown-format]" in w and "uri-template-ish" in w for w in package.warnings)
        server = package.module("server")

        class Media:
            def list_media(self, request: object, principal: object) -> object:
                return server.handlers.ListMedia200(package.module("models").Media(format="mp3"))

        app = server.create_app(server.Handlers(default=Media()), NoCredentials())
        assert app.title == "untitled"  # the package's name stands in
        async def call() -> dict[str, object]:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
                return (await client.get("/media")).json()  # type: ignore[no-any-return]

        assert asyncio.run(call()) == {"format": "mp3"}
