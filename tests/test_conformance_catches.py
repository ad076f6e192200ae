"""The conformance checks are not decoration: each is shown failing on a deliberately broken server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup

from app.auth import issue_key
from app.db import make_engine
from app.main import create
from integrations import models
from integrations.server import Principal, create_app
from integrations.server import handlers as h

from .conftest import run
from .openapi_check import leaked_write_only, response_problems

SHOW = "/api/v1/connectors/{connector}"


def build(tmp_path: Path) -> tuple[Any, str, str]:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    app = create(engine, data_dir=tmp_path, public_url="http://testserver")
    key = issue_key(engine, "env-1", ["connector:read", "connector:write"])

    async def store() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as raw:
            response = await raw.post("/api/v1/connectors", headers={"X-API-Key": key}, json={
                "name": "Shop", "authentication_implementation_id": "1", "timezone": "UTC", "date_format": "Y-m-d",
                "rate_limit_unit": "second", "rate_limit_duration": 1, "platform_app_key": "pak-secret"})
            return str(response.json()["data"]["id"])

    return app, key, run(store())


def schemathesis_verdict(app: Any, key: str, connector: str) -> list[str]:
    """The names of schemathesis' failed checks for one request to the show operation."""
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[SHOW]["GET"]
    case = operation.Case(path_parameters={"connector": connector}, headers={"X-API-Key": key})
    try:
        case.call_and_validate()
    except FailureGroup as failures:
        return sorted(type(failure).__name__ for failure in failures.exceptions)
    return []


def openapi_core_verdict(app: Any, key: str, connector: str) -> list[str]:
    async def fetch() -> list[str]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as raw:
            response = await raw.get(f"/api/v1/connectors/{connector}", headers={"X-API-Key": key})
            return response_problems(response.request, response) + leaked_write_only(response.request, response)

    return run(fetch())


def test_the_real_server_passes(tmp_path: Path) -> None:
    app, key, connector = build(tmp_path)
    assert schemathesis_verdict(app, key, connector) == []
    assert openapi_core_verdict(app, key, connector) == []


def test_an_undocumented_status_is_caught(tmp_path: Path) -> None:
    app, key, connector = build(tmp_path)

    class Teapot:
        status_code = 418
        body = None

    async def broken(request: Any, principal: Any) -> Any:
        return Teapot()

    app.state.handlers.patchworks_connectors.patchworks_connectors_show = broken
    assert schemathesis_verdict(app, key, connector) == ["ServerError", "UndefinedStatusCode"]
    assert any("-> 500" in p for p in openapi_core_verdict(app, key, connector))


def test_a_body_of_the_wrong_shape_is_caught(tmp_path: Path) -> None:
    app, key, connector = build(tmp_path)

    async def broken(request: Any, principal: Any) -> Any:
        return h.PatchworksConnectorsShow200({"data": {"name": "no id"}})  # type: ignore[arg-type]

    app.state.handlers.patchworks_connectors.patchworks_connectors_show = broken
    assert schemathesis_verdict(app, key, connector) == ["JsonSchemaError"]
    assert any("'id' is a required property" in p for p in openapi_core_verdict(app, key, connector))


def test_a_leaked_secret_is_caught(tmp_path: Path) -> None:
    app, key, connector = build(tmp_path)
    real = app.state.handlers.patchworks_connectors

    async def broken(request: Any, principal: Any) -> Any:
        record = real.store.get("env-1", "patchworks_connector", request.connector)
        return h.PatchworksConnectorsShow200({"data": {**record.full(), "id": record.id}})  # type: ignore[arg-type]

    real.patchworks_connectors_show = broken
    assert openapi_core_verdict(app, key, connector) == [
        f"GET /api/v1/connectors/{connector} -> 200: write-only /data/platform_app_key in the response"]


def test_an_authenticator_that_lets_anyone_in_is_caught(tmp_path: Path) -> None:
    app, key, connector = build(tmp_path)

    class Anyone:
        async def authenticate(self, scheme: str, credential: str) -> Principal:
            return Principal("env-1", frozenset({"connector:read", "connector:write"}))

    open_app = create_app(app.state.handlers, Anyone())
    assert schemathesis_verdict(open_app, "not-a-key", connector) == ["IgnoredAuth"]


def test_a_handler_that_ignores_tenancy_is_caught(tmp_path: Path) -> None:
    from .test_server_patchworks import other_tenant_cannot_read

    app, key, connector = build(tmp_path)
    engine = app.state.engine
    other = issue_key(engine, "env-2", ["connector:read"])
    other_tenant_cannot_read(app, other, connector)  # the real handler: 404
    real = app.state.handlers.patchworks_connectors

    async def broken(request: Any, principal: Any) -> Any:
        record = real.store.get("env-1", "patchworks_connector", request.connector)  # tenant hard-coded
        return h.PatchworksConnectorsShow200(real._one(record))

    real.patchworks_connectors_show = broken
    with pytest.raises(AssertionError):
        other_tenant_cannot_read(app, other, connector)
