"""000 and 001 through HTTP with the generated client: CRUD, uniqueness, secrets, tenancy, invoke."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from integrations import models
from integrations.client import AuthenticationError, BadRequestError, ConflictError, NotFoundError, PermissionDeniedError

from .conftest import Api, run

ENV = "env-1"


def service(name: str = "Payments API", **extra: Any) -> models.ExternalServiceRequest:
    return models.ExternalServiceRequest.model_validate({
        "name": name,
        "description": "Card payments",
        "authSchemes": [
            {"name": "primary key", "type": "API_KEY", "key": "sk_live_123"},
            {"name": "oauth", "type": "OAUTH_2", "tokenEndpointAuthType": "client_secret_post",
             "tokenEndpoint": "https://auth.example.com/token", "clientId": "c1", "clientSecret": "shh-oauth"},
        ],
        "requests": [{"name": "get_balance", "method": "GET", "url": "https://bank.example.com/a/${inputs.account}",
                      "authScheme": "primary key"}],
        "variables": {"region": "eu"},
        **extra,
    })


def test_crud_round_trip_without_secrets(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client:
            resource = client.external_services
            created = await resource.create_external_service(environment_id=ENV, body=service())
            assert created.name == "Payments API" and created.environment.id == ENV
            assert created.secrets == ["oauth.clientSecret", "primary key.key"]
            dumped = created.model_dump_json()
            assert "sk_live_123" not in dumped and "shh-oauth" not in dumped
            fetched = await resource.get_external_service(environment_id=ENV, external_service_id=created.id)
            assert fetched == created
            listed = await resource.list_external_services(environment_id=ENV)
            assert listed.count == 1 and listed.field_embedded.externalServices == [created]
            updated = await resource.update_external_service(
                environment_id=ENV, external_service_id=created.id, body=service("Payments v2"))
            assert updated.name == "Payments v2" and updated.id == created.id
            without_key = service("Payments v3").model_dump(mode="json", by_alias=True, exclude_none=True)
            del without_key["authSchemes"][0]["key"]  # a PUT re-sends every secret, as the spec says
            async with api.raw() as raw:
                refused = await raw.put(f"/environments/{ENV}/externalServices/{created.id}", json=without_key)
            assert refused.status_code == 400 and refused.json()["errors"][0]["pointer"] == "/authSchemes/0/key"
            await resource.delete_external_service(environment_id=ENV, external_service_id=created.id)
            with pytest.raises(NotFoundError):
                await resource.get_external_service(environment_id=ENV, external_service_id=created.id)

    run(scenario())


def test_secrets_are_encrypted_at_rest(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client:
            await client.external_services.create_external_service(environment_id=ENV, body=service())

    run(scenario())
    with api.engine.connect() as connection:
        rows = connection.execute(text("select body, secrets from resources")).all()
        key_hashes = [r[0] for r in connection.execute(text("select key_hash from api_keys"))]
    stored = json.dumps([str(r[0]) for r in rows]) + "".join(bytes(r[1]).decode() for r in rows if r[1])
    assert "sk_live_123" not in stored and "shh-oauth" not in stored
    assert all(len(h) == 64 and not h.startswith("sk_") for h in key_hashes)


def test_names_are_unique_per_environment_even_under_concurrency(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client:
            results = await asyncio.gather(
                *(client.external_services.create_external_service(environment_id=ENV, body=service("Same"))
                  for _ in range(6)), return_exceptions=True)
            assert sum(not isinstance(r, Exception) for r in results) == 1
            assert all(isinstance(r, ConflictError) for r in results if isinstance(r, Exception))
        async with api.client("other") as other:  # another environment may reuse the name
            await other.external_services.create_external_service(environment_id="env-2", body=service("Same"))

    run(scenario())


def test_unicode_name_pattern_and_length(api: Api) -> None:
    async def scenario() -> None:
        async with api.raw() as raw:
            ok = await raw.post(f"/environments/{ENV}/externalServices", json={"name": "Café Ünïcode – 1.0"})
            assert ok.status_code == 201
            missing_key = await raw.post(f"/environments/{ENV}/externalServices", json={
                "name": "No key", "authSchemes": [{"name": "k", "type": "API_KEY"}]})
            assert missing_key.status_code == 400
            assert missing_key.json()["errors"] == [{"pointer": "/authSchemes/0/key", "detail": "required when writing"}]
            for bad in ("a<b", "x" * 257, ""):
                response = await raw.post(f"/environments/{ENV}/externalServices", json={"name": bad})
                assert response.status_code == 400, bad
                assert response.json()["errors"][0]["pointer"] == "/name"

    run(scenario())


def test_tenancy_security_and_scopes(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client:
            created = await client.external_services.create_external_service(environment_id=ENV, body=service())
        async with api.client("other") as other:
            with pytest.raises(NotFoundError):  # another tenant's environment in the path
                await other.external_services.get_external_service(environment_id=ENV, external_service_id=created.id)
            with pytest.raises(NotFoundError):  # own environment, another tenant's id
                await other.external_services.get_external_service(environment_id="env-2", external_service_id=created.id)
        async with api.client(None) as anonymous:
            with pytest.raises(AuthenticationError):
                await anonymous.external_services.list_external_services(environment_id=ENV)
        async with api.client(None, api_key="sk_wrong") as wrong:
            with pytest.raises(AuthenticationError):
                await wrong.external_services.list_external_services(environment_id=ENV)
        async with api.client("reader") as reader:  # lacks environment:admin
            with pytest.raises(PermissionDeniedError):
                await reader.external_services.list_external_services(environment_id=ENV)

    run(scenario())


def test_invoke_calls_the_external_service_with_its_auth_scheme(api: Api) -> None:
    seen: list[httpx.Request] = []

    def external(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "at-1"})
        return httpx.Response(200, json={"balance": 10, "account": request.url.path.rsplit("/", 1)[-1]})

    api.app.state.handlers.external_services.transport = httpx.MockTransport(external)  # no network needed

    async def scenario() -> None:
        async with api.client() as client:
            body = service(requests=[
                {"name": "get_balance", "method": "GET", "url": "https://bank.example.com/a/${inputs.account}",
                 "authScheme": "primary key"},
                {"name": "oauth_call", "method": "POST", "url": "https://bank.example.com/b/${variables.region}",
                 "authScheme": "oauth", "body": '{"x": "${inputs.x}"}'},
            ])
            created = await client.external_services.create_external_service(environment_id=ENV, body=body)
            result = await client.external_services.invoke_external_service_request(
                environment_id=ENV, external_service_id=created.id, request_name="get_balance",
                body=models.InvokeInput(inputs={"account": "42"}))
            assert result.outputs["status"] == 200 and result.outputs["body"] == {"balance": 10, "account": "42"}
            assert seen[-1].headers["X-API-Key"] == "sk_live_123"
            await client.external_services.invoke_external_service_request(
                environment_id=ENV, external_service_id=created.id, request_name="oauth_call",
                body=models.InvokeInput(inputs={"x": "1"}))
            token_request, call = seen[-2], seen[-1]
            assert b"client_secret=shh-oauth" in token_request.content
            assert call.headers["Authorization"] == "Bearer at-1" and call.content == b'{"x": "1"}'
            assert call.url.path == "/b/eu"
            with pytest.raises(BadRequestError):  # a referenced input is missing
                await client.external_services.invoke_external_service_request(
                    environment_id=ENV, external_service_id=created.id, request_name="get_balance")
            with pytest.raises(NotFoundError):
                await client.external_services.invoke_external_service_request(
                    environment_id=ENV, external_service_id=created.id, request_name="nope")

    run(scenario())


def test_registrations_crud_and_rules(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client:
            resource = client.external_service_registrations
            body = models.ExternalServiceRegistrationRequest.model_validate({
                "label": "BankService", "namedCredential": "Bank", "status": "Complete",
                "schema": '{"swagger": "2.0", "info": {"title": "Bank", "version": "1"}, "paths": {}}',
                "schemaUrl": "/accounts/schema", "registrationProviderType": "Custom",
                "serviceBinding": '{"compatibleMediaTypes": {"application/x-acme-json": "application/json"}}',
                "operations": [{"active": True, "name": "getAccount"}], "NamedCredentialReferenceId": "0Xx1"})
            created = await resource.create_external_service_registration(body=body)
            assert created.schemaType == models.SchemaType.OPEN_API and created.systemVersion == 8
            assert created.NamedCredentialReferenceId == "0Xx1"
            with pytest.raises(ConflictError):
                await resource.create_external_service_registration(body=body)
            listed = await resource.list_external_service_registrations()
            assert listed.totalSize == 1
            bad = body.model_copy(update={"label": "Other", "serviceBinding": "{}"})
            with pytest.raises(BadRequestError):
                await resource.create_external_service_registration(body=bad)
            bad = body.model_copy(update={"label": "Other", "schema_": "not: [an openapi"})
            with pytest.raises(BadRequestError):
                await resource.create_external_service_registration(body=bad)
            three_oh = '{"openapi": "3.0.3", "info": {"title": "Bank", "version": "1"}, "paths": {}}'
            as_seed_says = await resource.create_external_service_registration(body=body.model_copy(update={
                "label": "Bank 3.0", "schema_": three_oh, "schemaType": models.SchemaType.OPEN_API}))
            assert as_seed_says.schemaType == models.SchemaType.OPEN_API  # "OpenAPI for Open API 2.0.x or 3.0.x"
            three_one = three_oh.replace("3.0.3", "3.1.0")
            with pytest.raises(BadRequestError, match="send OpenAPI 2.0.x or 3.0.x"):
                await resource.create_external_service_registration(body=body.model_copy(update={
                    "label": "Bank 3.1", "schema_": three_one, "schemaType": None}))
            await resource.delete_external_service_registration(registration_id=created.id)
        async with api.raw() as raw:
            response = await raw.post("/externalServiceRegistrations", json={"label": "x", "status": "Complete",
                                                                             "schemaUrl": "relative/path"})
            assert response.status_code == 400 and response.json()["errors"][0]["pointer"] == "/schemaUrl"

    run(scenario())


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
        return await self.inner.handle_async_request(request)


def test_iterators_read_embedded_items_and_stop_without_an_extra_request(api: Api) -> None:
    from integrations.client import AsyncClient

    async def scenario() -> None:
        async with api.client() as client:
            for name in ("A", "B", "C"):
                await client.external_services.create_external_service(environment_id=ENV, body=service(name))
        counting = CountingTransport(api.transport())
        async with AsyncClient(api.base_url, api_key=api.keys["admin"], transport=counting) as client:
            names = [s.name async for s in client.external_services.iter_list_external_services(environment_id=ENV,
                                                                                                 limit=2)]
            assert sorted(names) == ["A", "B", "C"]
            assert len(counting.paths) == 2  # the second page is short: no third request
            counting.paths.clear()
            assert [r async for r in client.external_service_registrations.iter_list_external_service_registrations()] == []
            assert len(counting.paths) == 1  # an empty first page ends it

    run(scenario())
