"""Inline request and response schemas become named models (`<Operation>Body`, `<Operation><Status>Response`),
so nothing is typed `Any`, and full objects round-trip through server and client (tests/fixtures/inline)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.build_ir import build_api
from generator.load import load_spec
from generator.models import emit_models, inline_schemas

from .packages import NoCredentials, Package, generated

HERE = Path(__file__).parent
SPEC = HERE / "fixtures" / "inline" / "openapi.yaml"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Package]:
    with generated(SPEC, tmp_path_factory.mktemp("inline"), "inl") as package:
        yield package


def test_every_inline_schema_has_a_named_model() -> None:
    document = load_spec(SPEC).document
    inline = inline_schemas(document)
    assert list(inline) == ["GetBookings200Response", "CreateBookingBody", "CreateBooking201Response"]
    api, warnings = build_api(document, emit_models(document, "openapi.yaml", inline), "inl", inline)
    assert warnings == []
    annotations = {op.operation_id: (op.request_body and op.request_body.annotation,
                                     [r.annotation for r in op.responses]) for tag in api.tags for op in tag.operations}
    assert annotations == {"get_bookings": (None, ["models.GetBookings200ResponseResponse"]),
                           "create_booking": ("models.CreateBookingBody", ["models.CreateBooking201Response"])}


def test_a_name_a_component_has_is_not_taken() -> None:
    document = load_spec(SPEC).document
    document["components"]["schemas"]["CreateBookingBody"] = {"type": "string"}
    assert "CreateBookingBody2" in inline_schemas(document)


def test_full_objects_round_trip(package: Package) -> None:
    server, client_module, models = package.module("server"), package.module("client"), package.module("models")
    h = server.handlers
    stored: list[dict[str, Any]] = []

    class Handlers:
        async def get_bookings(self, request: Any, principal: Any) -> Any:
            return h.GetBookings200(models.GetBookings200ResponseResponse.model_validate(
                {"links": {"self": "/bookings"}, "data": [{"id": b["id"], "passenger": b["passenger"]} for b in stored]}))

        async def create_booking(self, request: Any, principal: Any) -> Any:
            row = {"id": f"b{len(stored) + 1}", **request.body.model_dump(mode="json")}
            stored.append(row)
            return h.CreateBooking201(models.CreateBooking201Response.model_validate(row))

    app = server.create_app(server.Handlers(default=Handlers()), NoCredentials())

    async def calls() -> None:
        async with client_module.AsyncClient("http://t", transport=httpx.ASGITransport(app=app)) as client:
            made = await client.default.create_booking(body=models.CreateBookingBody(trip_id="t1", passenger="Ann"))
            assert (made.id, made.trip_id, made.passenger, made.seats) == ("b1", "t1", "Ann", 1)
            page = await client.default.get_bookings()
            assert page.links.self == "/bookings" and [(b.id, b.passenger) for b in page.data] == [("b1", "Ann")]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as raw:
            refused = await raw.post("/bookings", json={"trip_id": "t1", "passenger": ""})
            assert refused.status_code == 400  # the inline schema's minLength is enforced

    asyncio.run(calls())
