"""A component that datamodel-code-generator renames (an inline object took its name) is still the class that
operations use: bound by source reference, reported with a warning, and full objects round-trip."""

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

from .packages import NoCredentials, Package, generated

HERE = Path(__file__).parent
SPEC = HERE / "fixtures" / "renamed" / "openapi.yaml"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    with generated(SPEC, tmp_path_factory.mktemp("renamed"), "ren") as package:
        yield package


def test_operations_use_the_components_own_classes_and_the_rename_is_reported(package: Package) -> None:
    loaded = load_spec(SPEC)
    models = emit_models(loaded.document, "openapi.yaml")
    api, _ = build_api(loaded.document, models, "ren")
    vault = models.response_class["Vault"]
    assert vault != "Vault" and vault.endswith("Response")  # `Vault` is the inline object of APIRequest
    (list_vaults,) = [op for tag in api.tags for op in tag.operations if op.operation_id == "list_vaults"]
    assert list_vaults.responses[0].annotation == f"list[models.{vault}]"
    assert (f"openapi.yaml:36:5: warning: schema 'Vault' is modelled as {models.request_class['Vault']} / {vault}: Vault "
            "is the model of #/components/schemas/APIRequest/properties/resource/properties/vault [model-renamed] at "
            "/components/schemas/Vault") in package.warnings


def test_full_objects_round_trip(package: Package) -> None:
    server, client_module, models = package.module("server"), package.module("client"), package.module("models")
    vault = {"id": "v1", "name": "Private", "items": 3, "createdAt": "2024-01-02T03:04:05Z"}
    vault_class = getattr(models, emit_models(load_spec(SPEC).document, "openapi.yaml").response_class["Vault"])

    class Handlers:
        async def list_vaults(self, request: Any, principal: Any) -> Any:
            return server.handlers.ListVaults200([vault_class.model_validate(vault)])

        async def list_requests(self, request: Any, principal: Any) -> Any:
            return server.handlers.ListRequests200([])

    app = server.create_app(server.Handlers(default=Handlers()), NoCredentials())

    async def calls() -> None:
        async with client_module.AsyncClient("http://t", transport=httpx.ASGITransport(app=app)) as client:
            (got,) = await client.default.list_vaults()
            assert got.model_dump(mode="json", by_alias=True, exclude_unset=True) == vault

    asyncio.run(calls())
