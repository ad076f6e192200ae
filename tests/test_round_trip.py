"""Round trip: the generated client sends each write operation's documented example to the generated server and
gets back the same values, minus writeOnly fields, plus the server-set readOnly ones the schema requires."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from app.redaction import SchemaWalker
from integrations import models
from integrations.server import openapi_document

from .conftest import Api, run

ENV, ORG = "env-1", "01J9Z3Q8K2W6T4Y7B5N1M0C3XD"


def example(schema: str) -> dict[str, Any]:
    found: dict[str, Any] = openapi_document()["components"]["schemas"][schema]["examples"][0]
    return found


def public(value: Any, schema: str) -> Any:
    """What may come back: the value without its writeOnly parts."""
    kept, _ = SchemaWalker(openapi_document()).split(value, {"$ref": f"#/components/schemas/{schema}"}, writing=False)
    return kept


def assert_echoes(sent: Any, received: Any, where: str = "") -> None:
    """Every value sent (writeOnly removed) comes back equal; the server may add fields, never change one."""
    if isinstance(sent, dict):
        assert isinstance(received, dict), where
        for key, value in sent.items():
            assert key in received, f"{where}/{key} missing from the response"
            assert_echoes(value, received[key], f"{where}/{key}")
    elif isinstance(sent, list):
        assert isinstance(received, list) and len(received) == len(sent), where
        for index, (a, b) in enumerate(zip(sent, received)):
            assert_echoes(a, b, f"{where}/{index}")
    else:
        assert sent == received, f"{where}: sent {sent!r}, got {received!r}"


def dumped(model: Any) -> Any:
    return TypeAdapter(type(model)).dump_python(model, mode="json", by_alias=True, exclude_unset=True)


def test_write_operations_echo_what_was_sent(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client, api.client("org") as org:
            checks: list[tuple[str, Any, Any, list[str]]] = []  # (schema, sent, received, readOnly fields required)

            sent = example("ExternalService")
            got = await client.external_services.create_external_service(
                environment_id=ENV, body=models.ExternalServiceRequest.model_validate(sent))
            checks.append(("ExternalService", sent, got, ["id", "environment", "createdAt"]))
            sent2 = {**sent, "description": "Changed"}
            checks.append(("ExternalService", sent2, await client.external_services.update_external_service(
                environment_id=ENV, external_service_id=got.id, body=models.ExternalServiceRequest.model_validate(sent2)),
                ["id"]))

            sent = example("ExternalServiceRegistration")
            got = await client.external_service_registrations.create_external_service_registration(
                body=models.ExternalServiceRegistrationRequest.model_validate(sent))
            checks.append(("ExternalServiceRegistration", sent, got, ["id", "systemVersion"]))

            sent = example("ExternalDataSourceCreate")
            got = await client.external_data_sources.create_external_data_source(
                environment_id=ENV, body=models.ExternalDataSourceCreateRequest.model_validate(sent))
            checks.append(("ExternalDataSourceCreate", sent, got, ["id", "created_at", "schemas"]))

            sent = example("HTTPConnector")
            connector = await org.versori_connect.create_http_connector(
                organisation_id=ORG, body=models.HTTPConnectorRequest.model_validate(sent))
            checks.append(("HTTPConnector", sent, connector, ["id", "organisationId", "versions", "connections"]))
            sent = example("BigQueryConnector")
            checks.append(("BigQueryConnector", sent, await org.versori_connect.create_bigquery_connector(
                organisation_id=ORG, body=models.BigQueryConnectorRequest.model_validate(sent)), ["id"]))

            sent = example("Credential")
            credential = await org.versori_connect.create_credential(
                organisation_id=ORG, body=models.CredentialRequest.model_validate(sent))
            checks.append(("Credential", sent, credential, ["id", "organisationId"]))

            sent = {**example("Connection"), "credentials": {"action": [
                {"authSchemeConfigId": "key-1", "credentialId": credential.id}]}}
            checks.append(("Connection", sent, await org.versori_connect.create_connection(
                organisation_id=ORG, connector_id=connector.id, body=models.ConnectionRequest.model_validate(sent)),
                ["id", "createdAt"]))

            where = {"organisation_id": ORG, "connector_id": connector.id, "version": "v1"}  # a draft: editable
            sent = {"definitions": [example("Definition")]}
            checks.append(("DefinitionList", sent, await org.versori_connect.create_definitions(
                **where, body=models.DefinitionListRequest.model_validate(sent)), []))
            sent = example("Action")
            checks.append(("Action", sent, await org.versori_connect.create_action(
                **where, body=models.ActionRequest.model_validate(sent)), ["id", "errors"]))
            sent = example("Trigger")
            checks.append(("Trigger", sent, await org.versori_connect.create_trigger(
                **where, body=models.TriggerRequest.model_validate(sent)), ["id"]))
            sent = example("ConnectorVersionCreate")
            version = await org.versori_connect.create_connector_version(
                organisation_id=ORG, connector_id=connector.id, body=models.ConnectorVersionCreate.model_validate(sent))
            checks.append(("ConnectorVersion", {"name": sent["name"]}, version, ["id", "isLatest", "createdAt"]))

            sent = example("PatchworksConnectorStore")
            stored = await client.patchworks_connectors.patchworks_connectors_store(
                body=models.PatchworksConnectorStoreRequest.model_validate(sent))
            checks.append(("PatchworksConnectorStore", sent, stored.data, ["id", "created_at"]))

            assert len(checks) == 13
            for schema, sent_value, received, read_only in checks:
                body = dumped(received)
                assert_echoes(public(sent_value, schema), body, schema)
                for field in read_only:
                    assert field in body, f"{schema}: server-set {field} missing"

    run(scenario())
