"""003 through HTTP: connectors, versions (reserved names, latest/default), auth scheme configs, connections,
credentials (11 types, redaction, usages), actions, triggers, definitions (412 when in use), import, publish."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import MISSING, TypeAdapter

from integrations import models
from integrations.server import openapi_document
from integrations.client import BadRequestError, ConflictError, NotFoundError, ApiError

from .conftest import Api, run

ORG = "01J9Z3Q8K2W6T4Y7B5N1M0C3XD"
ORG2 = "01J9Z3Q8K2W6T4Y7B5N1M0C3XE"


def http_connector(name: str = "CRM", **extra: Any) -> models.HTTPConnectorRequest:
    return models.HTTPConnectorRequest.model_validate({
        "name": name, "protocol": "http", "baseUrl": "https://crm.example.com/api",
        "authSchemeConfigs": [
            {"id": "key-1", "schemeType": "api-key", "name": "X-API-Key", "in": "header"},
            {"id": "oauth-1", "schemeType": "oauth2", "authorizeUrl": "http://auth.example.com/a",
             "tokenUrl": "https://auth.example.com/t", "scopes": [{"name": "read"}], "defaultScopes": [],
             "grant": {"grantType": "client_credentials", "clientId": "c", "clientSecret": "grant-secret"}}],
        **extra})


CREDENTIAL_DATA = {
    "none": ({}, []),
    "string": ({"value": "sv"}, ["sv"]),
    "binary": ({"valueBase64": "aGVsbG8="}, ["aGVsbG8="]),
    "basic-auth": ({"username": "ana", "password": "pw-basic"}, ["pw-basic"]),
    "oauth2-client": ({"clientId": "c1", "clientSecret": "cs-x", "authorizeUrl": "https://a.example.com/a",
                       "tokenUrl": "https://a.example.com/t"}, ["cs-x"]),
    "oauth2-code": ({"code": "code-x", "state": "st"}, ["code-x"]),
    "oauth2-password": ({"username": "ana", "password": "pw-o"}, ["pw-o"]),
    "oauth2-token": ({"scopes": ["read"], "accessToken": "at-x", "refreshToken": "rt-x"}, ["at-x", "rt-x"]),
    "custom-function": ({"function": "sign", "inputs": {"k": "fn-secret"}}, ["fn-secret"]),
    "certificate": ({"certificate": "CERT", "key": "PRIVATE-KEY", "ca": "CA"}, ["PRIVATE-KEY"]),
    "jwt-bearer": ({"issuer": "i", "audience": "a", "privateKey": "jwt-key"}, ["jwt-key"]),
}


def test_connectors_and_versions(api: Api) -> None:
    async def scenario() -> None:
        async with api.client("org") as client:
            v = client.versori_connect
            created = await v.create_http_connector(organisation_id=ORG, body=http_connector())
            assert created.organisationId == ORG and [x.name for x in created.versions] == ["v1"]
            first = created.versions[0]  # a draft: not latest (only published ones are), not made the default
            assert not first.isDefault and not first.isLatest and first.publishedAt is None
            oauth = next(c for c in created.authSchemeConfigs if c.schemeType == "oauth2")
            assert oauth.validationMessages[0].text == "authorizeUrl should use https"
            message_schema = openapi_document()["components"]["schemas"]["Message"]  # the vendor's field name
            assert "detail" in message_schema["properties"] and "details" not in message_schema["properties"]
            assert "grant-secret" not in created.model_dump_json()
            with pytest.raises(ConflictError):
                await v.create_http_connector(organisation_id=ORG, body=http_connector())
            bq = models.BigQueryConnectorRequest(name="Warehouse", protocol="bigquery", datasetId="analytics")
            await v.create_bigquery_connector(organisation_id=ORG, body=bq)
            page = await v.list_connectors(organisation_id=ORG, first=1, sort="name:desc")
            assert page.totalCount == 2 and page.connectors[0].name == "Warehouse" and page.next
            rest = await v.list_connectors(organisation_id=ORG, first=1, after=page.next, sort="name:desc")
            assert rest.connectors[0].name == "CRM" and rest.next is MISSING and rest.prev
            assert [c.name async for c in v.iter_list_connectors(organisation_id=ORG, first=1)] == ["CRM", "Warehouse"]
            assert (await v.list_connectors(organisation_id=ORG, protocol="bigquery")).totalCount == 1

            cid = created.id
            for reserved in ("latest", "default"):
                with pytest.raises(BadRequestError):
                    await v.create_connector_version(organisation_id=ORG, connector_id=cid,
                                                     body=models.ConnectorVersionCreate(name=reserved))
            spaced = await v.create_connector_version(organisation_id=ORG, connector_id=cid,
                                                      body=models.ConnectorVersionCreate(name="Spring release (β)"))
            assert (await v.get_connector_version(organisation_id=ORG, connector_id=cid,
                                                  version="Spring release (β)")).id == spaced.id  # any value
            await v.delete_connector_version(organisation_id=ORG, connector_id=cid, version="Spring release (β)")
            with pytest.raises(NotFoundError):  # "latest" and "default" name published versions; none is yet
                await v.get_connector_version(organisation_id=ORG, connector_id=cid, version="latest")
            await v.publish_connector_version(organisation_id=ORG, connector_id=cid, version="v1")
            assert (await v.get_connector_version(organisation_id=ORG, connector_id=cid, version="default")).name == "v1"
            v2 = await v.create_connector_version(organisation_id=ORG, connector_id=cid,
                                                  body=models.ConnectorVersionCreate(name="2.0.0", fromVersion="latest"))
            assert not v2.isLatest and not v2.isDefault and v2.publishedAt is None
            with pytest.raises(ConflictError):
                await v.create_connector_version(organisation_id=ORG, connector_id=cid,
                                                 body=models.ConnectorVersionCreate(name="2.0.0"))
            assert (await v.get_connector_version(organisation_id=ORG, connector_id=cid, version="latest")).name == "v1"
            with pytest.raises(ConflictError):  # published versions are immutable
                await v.update_connector_version(organisation_id=ORG, connector_id=cid, version="v1",
                                                 body=models.ConnectorVersionUpdate(name="1.0.1"))
            made_default = await v.update_connector_version(organisation_id=ORG, connector_id=cid, version="2.0.0",
                                                            body=models.ConnectorVersionUpdate(isDefault=True))
            assert made_default.isDefault
            assert (await v.get_connector_version(organisation_id=ORG, connector_id=cid, version="default")).name == "2.0.0"
            with pytest.raises(BadRequestError):
                await v.update_connector_version(organisation_id=ORG, connector_id=cid, version="2.0.0",
                                                 body=models.ConnectorVersionUpdate(name="latest"))
            published = await v.publish_connector_version(organisation_id=ORG, connector_id=cid, version="2.0.0")
            assert published.version.publishedAt is not None and published.version.isLatest
            assert (await v.get_connector_version(organisation_id=ORG, connector_id=cid, version="latest")).name == "2.0.0"
            unpublished = await v.unpublish_connector_version(organisation_id=ORG, connector_id=cid, version="2.0.0")
            assert unpublished.version.publishedAt is None
            versions = await v.list_connector_versions(organisation_id=ORG, connector_id=cid)
            assert [x.name for x in versions.items] == ["v1", "2.0.0"]
            await v.delete_connector_version(organisation_id=ORG, connector_id=cid, version="v1")
            with pytest.raises(BadRequestError):  # the only version left
                await v.delete_connector_version(organisation_id=ORG, connector_id=cid, version="2.0.0")

            changed = http_connector("CRM 2").model_dump(by_alias=True, exclude_unset=True)
            updated = await v.update_connector(organisation_id=ORG, connector_id=cid,
                                          body=TypeAdapter(models.ConnectorRequest).validate_python(changed))
            assert updated.name == "CRM 2"
            with pytest.raises(BadRequestError):  # protocol cannot change
                await v.update_connector(organisation_id=ORG, connector_id=cid, body=TypeAdapter(models.ConnectorRequest).validate_python(
                    {"name": "CRM 2", "protocol": "bigquery", "datasetId": "d"}))
            await v.delete_connector(organisation_id=ORG, connector_id=cid)
            with pytest.raises(NotFoundError):
                await v.get_connector(organisation_id=ORG, connector_id=cid)
        async with api.client("org2") as other:
            with pytest.raises(NotFoundError):
                await other.versori_connect.list_connectors(organisation_id=ORG)

    run(scenario())


def test_credentials_of_every_type_are_redacted(api: Api) -> None:
    async def scenario() -> None:
        async with api.client("org") as client:
            v = client.versori_connect
            for kind, (data, secrets) in CREDENTIAL_DATA.items():
                body = models.CredentialRequest.model_validate({"name": f"{kind} cred", "type": kind, "data": data})
                created = await v.create_credential(organisation_id=ORG, body=body)
                fetched = await v.get_credential(organisation_id=ORG, credential_id=created.id)
                raw = await client.request("GET", f"/api/connect/v1/o/{ORG}/credentials/{created.id}", retryable=True)
                assert raw.status_code == 200
                for secret in secrets:
                    assert secret not in raw.text and secret not in fetched.model_dump_json(), (kind, secret)
                assert fetched.usages == [] and fetched.type.value == kind
                assert "errors" not in raw.json()  # never tried against its system: not validated
            from datetime import datetime, timedelta, timezone

            now = datetime.now(timezone.utc)
            lapsed = await v.create_credential(organisation_id=ORG, body=models.CredentialRequest.model_validate(
                {"name": "lapsed", "type": "none", "data": {}, "expiresAt": (now - timedelta(minutes=1)).isoformat()}))
            lasting = await v.create_credential(organisation_id=ORG, body=models.CredentialRequest.model_validate(
                {"name": "lasting", "type": "none", "data": {}, "expiresAt": (now + timedelta(days=1)).isoformat()}))
            with pytest.raises(NotFoundError):  # past its expiresAt: deleted, as the vendor says
                await v.get_credential(organisation_id=ORG, credential_id=lapsed.id)
            listed = {c.id for c in (await v.list_credentials(organisation_id=ORG, first=100)).items}
            assert lasting.id in listed and lapsed.id not in listed
            with pytest.raises(BadRequestError):  # data does not fit the type
                await v.create_credential(organisation_id=ORG, body=models.CredentialRequest.model_validate(
                    {"name": "bad", "type": "certificate", "data": {"username": "a", "password": "b"}}))
            with pytest.raises(BadRequestError) as missing:  # the secret is required when writing
                await v.create_credential(organisation_id=ORG, body=models.CredentialRequest.model_validate(
                    {"name": "bad", "type": "basic-auth", "data": {"username": "a"}}))
            assert missing.value.problem["errors"][0]["pointer"] == "/data/password"
            listed = await v.list_credentials(organisation_id=ORG, type_="basic-auth")
            assert [c.name for c in listed.items] == ["basic-auth cred"]

    run(scenario())


def test_connections_auth_scheme_configs_and_usages(api: Api) -> None:
    async def scenario() -> None:
        async with api.client("org") as client:
            v = client.versori_connect
            connector = await v.create_http_connector(organisation_id=ORG, body=http_connector())
            credential = await v.create_credential(organisation_id=ORG, body=models.CredentialRequest.model_validate(
                {"name": "k", "type": "string", "data": {"value": "sv"}}))
            connection_body = models.ConnectionRequest.model_validate({
                "name": "production", "variables": [{"name": "region", "value": "eu"}],
                "credentials": {"action": [{"authSchemeConfigId": "key-1", "credentialId": credential.id}]}})
            connection = await v.create_connection(organisation_id=ORG, connector_id=connector.id, body=connection_body)
            assert connection.credentials.action[0].id
            embedded = connection.credentials.action[0]  # as the vendor embeds them: config and credential
            assert embedded.authSchemeConfig.id == "key-1" and embedded.credential.id == credential.id
            path = f"/api/connect/v1/o/{ORG}/connectors/{connector.id}/connections/{connection.id}"
            read = (await client.request("GET", path, retryable=True)).json()
            assert (await client.request("PUT", path, body={"json": read}, retryable=True)).status_code == 200
            stored = api.app.state.store.get(ORG, "connection", connection.id).body
            assert "credential" not in stored["credentials"]["action"][0]  # ids stored, objects embedded on read
            with pytest.raises(ConflictError):
                await v.create_connection(organisation_id=ORG, connector_id=connector.id, body=connection_body)
            bad = connection_body.model_copy(update={"name": "x", "credentials": models.ConnectionCredentialsRequest.model_validate(
                {"action": [{"authSchemeConfigId": "nope", "credentialId": credential.id}]})})
            with pytest.raises(BadRequestError):
                await v.create_connection(organisation_id=ORG, connector_id=connector.id, body=bad)
            usage = await v.get_credential(organisation_id=ORG, credential_id=credential.id)
            assert [(u.connectionId, u.connectorId) for u in usage.usages] == [(connection.id, connector.id)]
            with pytest.raises(ConflictError):  # in use
                await v.delete_credential(organisation_id=ORG, credential_id=credential.id)
            with pytest.raises(BadRequestError):  # a connection uses key-1
                await v.delete_auth_scheme_config(organisation_id=ORG, connector_id=connector.id, auth_scheme_config_id="key-1")
            upserted = await v.upsert_auth_scheme_config(
                organisation_id=ORG, connector_id=connector.id, auth_scheme_config_id="hmac-1",
                body=TypeAdapter(models.AuthSchemeConfigRequest).validate_python({"id": "hmac-1", "schemeType": "hmac", "name": "X-Sig",
                                                                    "in": "header", "algorithm": "sha256", "digestInputs": ["body"]}))
            assert upserted.schemeType == "hmac"
            with pytest.raises(BadRequestError):  # body id differs from the path
                await v.upsert_auth_scheme_config(organisation_id=ORG, connector_id=connector.id, auth_scheme_config_id="x",
                                                  body=TypeAdapter(models.AuthSchemeConfigRequest).validate_python(
                                                      {"id": "y", "schemeType": "none"}))
            fetched = await v.get_connector(organisation_id=ORG, connector_id=connector.id)
            assert {c.id for c in fetched.authSchemeConfigs} == {"key-1", "oauth-1", "hmac-1"}
            assert [c.name for c in fetched.connections] == ["production"]
            renamed = await v.update_connection(organisation_id=ORG, connector_id=connector.id, connection_id=connection.id,
                                                body=connection_body.model_copy(update={"name": "prod"}))
            assert renamed.name == "prod"
            page = await v.list_connections(organisation_id=ORG, connector_id=connector.id)
            assert [c.name for c in page.items] == ["prod"]
            await v.delete_connection(organisation_id=ORG, connector_id=connector.id, connection_id=connection.id)
            await v.delete_credential(organisation_id=ORG, credential_id=credential.id)
            await v.delete_auth_scheme_config(organisation_id=ORG, connector_id=connector.id, auth_scheme_config_id="key-1")

    run(scenario())


def test_actions_triggers_definitions_and_import(api: Api) -> None:
    async def scenario() -> None:
        async with api.client("org") as client:
            v = client.versori_connect
            connector = await v.create_http_connector(organisation_id=ORG, body=http_connector(public=True))
            where = {"organisation_id": ORG, "connector_id": connector.id, "version": "v1"}  # a draft: editable
            definitions = await v.create_definitions(**where, body=models.DefinitionListRequest.model_validate({"definitions": [
                {"name": "Customer", "accept": ["application/json"],
                 "schema": {"contentType": "application/schema+json", "content": "{}"}}]}))
            assert definitions.definitions[0].url.endswith("/v1/Customer")
            action = models.ActionRequest.model_validate({
                "type": "http", "name": "list_customers", "method": "GET", "path": "/customers", "parameters": [],
                "responses": [{"status": 200, "definitions": ["Customer"]}]})
            created = await v.create_action(**where, body=action)
            assert created.errors == []
            with pytest.raises(BadRequestError):
                await v.create_action(**where, body=action.model_copy(update={"name": "x", "responses": [
                    models.HTTPResponse(status=200, definitions=["Missing"])]}))
            trigger = models.TriggerRequest.model_validate({"type": "http", "name": "customer_created", "method": "POST",
                                                            "parameters": [], "responses": [{"status": 204, "definitions": []}]})
            await v.create_trigger(**where, body=trigger)
            assert [t.name for t in (await v.list_triggers(**where)).triggers] == ["customer_created"]
            used = await v.get_definition(**where, definition_name="Customer")
            assert [(r.kind.value, r.name) for r in used.referencedBy] == [("action", "list_customers")]
            with pytest.raises(ApiError) as blocked:
                await v.delete_definition(**where, definition_name="Customer")
            assert blocked.value.status_code == 412
            updated = await v.update_action(**where, action_name="list_customers",
                                            body=action.model_copy(update={"summary": "All customers"}))
            assert updated.summary == "All customers"
            assert (await v.get_action(**where, action_name="list_customers")).summary == "All customers"
            await v.publish_connector_version(**where)
            with pytest.raises(ConflictError):  # published: immutable
                await v.update_action(**where, action_name="list_customers", body=action)
            with pytest.raises(ConflictError):
                await v.delete_trigger(**where, trigger_name="customer_created")

        async with api.client("org2") as other:
            imported = await other.versori_connect.import_public_connector_version(
                organisation_id=ORG2, connector_id=connector.id, version="latest")
            assert imported.organisationId == ORG2 and imported.id != connector.id
            assert [x.name for x in imported.versions] == ["v1"] and imported.versions[0].publishedAt is None
            copied = await other.versori_connect.list_actions(organisation_id=ORG2, connector_id=imported.id, version="v1")
            assert [a.name for a in copied.actions] == ["list_customers"]
            assert api.app.state.store.get(ORG2, "connector", imported.id).secrets == {}  # the publisher's stay home
            with pytest.raises(ConflictError):
                await other.versori_connect.import_public_connector_version(
                    organisation_id=ORG2, connector_id=connector.id, version="v1")

        async with api.client("org") as client:
            v = client.versori_connect
            await v.unpublish_connector_version(**where)  # a draft again, so editable again
            await v.delete_action(**where, action_name="list_customers")
            await v.delete_trigger(**where, trigger_name="customer_created")
            await v.delete_definitions(**where, body=models.DefinitionsDelete(names=["Customer"]))
            assert (await v.list_definitions(**where)).totalCount == 0

    run(scenario())
