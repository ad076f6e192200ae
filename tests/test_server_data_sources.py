"""002 through HTTP: all 19 operations, paging, secrets, webhooks, jobs; live Postgres checks when one is available."""

from __future__ import annotations

import os
from typing import Any

import pytest

from app.egress import UNREACHABLE, Egress
from integrations import models
from integrations.client import BadRequestError, NotFoundError, PermissionDeniedError

from .conftest import Api, run

ENV = "env-1"


def create_body(prefix: str = "stripe_", source_type: str = "Stripe", **extra: Any) -> models.ExternalDataSourceCreateRequest:
    return models.ExternalDataSourceCreateRequest.model_validate({
        "source_type": source_type, "prefix": prefix, "description": "Production account",
        "payload": {"stripe_secret_key": "sk_test_secret", "schemas": [
            {"name": "customers", "should_sync": True, "sync_type": "incremental",
             "incremental_field": "created", "incremental_field_type": "datetime"},
            {"name": "invoices", "should_sync": False}]},
        **extra})


def test_source_lifecycle(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client:
            eds = client.external_data_sources
            created = await eds.create_external_data_source(environment_id=ENV, body=create_body())
            assert created.status == models.SourceStatus.COMPLETED and created.supports_webhooks
            assert [s.name for s in created.schemas] == ["customers", "invoices"]
            assert "sk_test_secret" not in created.model_dump_json()
            with pytest.raises(BadRequestError):  # same type and prefix
                await eds.create_external_data_source(environment_id=ENV, body=create_body())
            for i in range(3):
                await eds.create_external_data_source(environment_id=ENV, body=create_body(prefix=f"s{i}_"))
            page = await eds.list_external_data_sources(environment_id=ENV, limit=2, search="s")
            assert page.count == 4 and len(page.results) == 2 and page.next is not None and page.previous is None
            assert [s.prefix async for s in eds.iter_list_external_data_sources(environment_id=ENV, limit=1)] == [
                "stripe_", "s0_", "s1_", "s2_"]
            assert (await eds.list_external_data_sources(environment_id=ENV, search="nothing")).count == 0

            updated = await eds.partial_update_external_data_source(
                environment_id=ENV, id_=created.id,
                body=models.ExternalDataSourceUpdateRequest(description="Renamed", client_secret="cs-1"))
            assert updated.description == "Renamed" and "cs-1" not in updated.model_dump_json()
            fetched = await eds.retrieve_external_data_source(environment_id=ENV, id_=created.id)
            assert fetched.description == "Renamed"

            customers = next(s for s in fetched.schemas if s.name == "customers")
            bulk = await eds.bulk_update_external_data_source_schemas(
                environment_id=ENV, id_=created.id, body=models.BulkSchemasUpdate.model_validate(
                    {"schemas": [{"id": str(customers.id), "should_sync": False, "sync_frequency": "1hour"}]}))
            assert bulk.count == 2 and not next(s for s in bulk.results if s.name == "customers").should_sync

            config = await eds.update_external_data_source_revenue_analytics_config(  # with the documented fields
                environment_id=ENV, id_=created.id,
                body=models.RevenueAnalyticsConfigUpdateRequest(enabled=True, description="Revenue account"))
            assert config.revenue_analytics_config.enabled is True and config.description == "Revenue account"

            await eds.reload_external_data_source(environment_id=ENV, id_=created.id)
            jobs = await eds.list_external_data_source_jobs(environment_id=ENV, id_=created.id)
            assert len(jobs) == 1 and jobs[0].schema_.name == "customers"  # only syncing schemas ran
            assert (await eds.list_external_data_source_jobs(environment_id=ENV, id_=created.id, schemas=["invoices"])) == []

            refreshed = await eds.refresh_external_data_source_schemas(environment_id=ENV, id_=created.id)
            assert (refreshed.added, refreshed.deleted) == (0, 0)

            await eds.destroy_external_data_source(environment_id=ENV, id_=created.id)
            with pytest.raises(NotFoundError):
                await eds.retrieve_external_data_source(environment_id=ENV, id_=created.id)

    run(scenario())


def test_webhooks(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client:
            eds = client.external_data_sources
            source = await eds.create_external_data_source(environment_id=ENV, body=create_body())
            info = await eds.get_external_data_source_webhook_info(environment_id=ENV, id_=source.id)
            assert info.supports_webhooks and not info.exists
            with pytest.raises(BadRequestError):  # no webhook yet
                await eds.update_external_data_source_webhook_inputs(
                    environment_id=ENV, id_=source.id, body=models.WebhookInputsUpdateRequest(inputs={"s": "whsec"}))
            made = await eds.create_external_data_source_webhook(environment_id=ENV, id_=source.id)
            assert made.success and made.webhook_url.endswith(str(source.id))
            await eds.update_external_data_source_webhook_inputs(
                environment_id=ENV, id_=source.id, body=models.WebhookInputsUpdateRequest(inputs={"s": "whsec_1"}))
            await eds.update_external_data_source_webhook_inputs(  # PostHog's documented body: a source's fields
                environment_id=ENV, id_=source.id, body=models.WebhookInputsUpdateRequest(description="Hooked"))
            assert (await eds.retrieve_external_data_source(environment_id=ENV, id_=source.id)).description == "Hooked"
            info = await eds.get_external_data_source_webhook_info(environment_id=ENV, id_=source.id)
            assert info.exists and info.webhook_url == made.webhook_url and "whsec_1" not in info.model_dump_json()
            await eds.delete_external_data_source_webhook(environment_id=ENV, id_=source.id)
            assert not (await eds.get_external_data_source_webhook_info(environment_id=ENV, id_=source.id)).exists
            plain = await eds.create_external_data_source(environment_id=ENV, body=create_body("pg_", "Postgres"))
            refused = await eds.create_external_data_source_webhook(environment_id=ENV, id_=plain.id)
            assert not refused.success and "do not support webhooks" in refused.error

    run(scenario())


def test_environment_actions_and_scopes(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client:
            eds = client.external_data_sources
            await eds.check_source_prefix(environment_id=ENV, body=models.SourcePrefixInputRequest(source_type="Stripe", prefix="x_"))
            await eds.create_external_data_source(environment_id=ENV, body=create_body("x_"))
            with pytest.raises(BadRequestError):
                await eds.check_source_prefix(environment_id=ENV, body=models.SourcePrefixInputRequest(source_type="Stripe", prefix="x_"))
            with pytest.raises(BadRequestError):  # PostHog's documented body has no source_type: any type counts
                await eds.check_source_prefix(environment_id=ENV, body=models.SourcePrefixInputRequest(
                    prefix="x_", description="d"))
            await eds.check_source_prefix(environment_id=ENV, body=models.SourcePrefixInputRequest(prefix="free_"))
            wizard = await eds.get_source_wizard(environment_id=ENV)
            assert len(wizard) == 227 and wizard["Postgres"]["fields"][0]["name"] == "host"
            direct = create_body("pg_", "Postgres", access_method="direct")
            await eds.create_external_data_source(environment_id=ENV, body=direct)
            connections = await eds.list_external_data_source_connections(environment_id=ENV)
            assert [(c.prefix, c.engine.value) for c in connections.results] == [("pg_", "postgres")]
            with pytest.raises(BadRequestError):  # schema discovery only for Postgres here
                await eds.get_database_schema(environment_id=ENV, body=models.DatabaseSchemaInput(source_type="Stripe"))
            refusals = []
            for host, port in (("10.1.2.3", 5432), ("127.0.0.1", 5432), ("169.254.169.254", 80), ("localhost", 1)):
                with pytest.raises(BadRequestError) as refused:  # private, loopback, metadata: not by default
                    await eds.check_cdc_prerequisites(environment_id=ENV, body=models.CheckCdcPrerequisitesInputRequest(
                        source_type="Postgres", host=host, port=port, database="d", user="u", password="p"))
                refusals.append(refused.value.problem["detail"])
            api.app.state.handlers.external_data_sources.egress = Egress.allowing("127.0.0.0/8", "::1")
            with pytest.raises(BadRequestError) as failed:  # allowed now, but nothing listens on this port
                await eds.check_cdc_prerequisites(environment_id=ENV, body=models.CheckCdcPrerequisitesInputRequest(
                    source_type="Postgres", host="127.0.0.1", port=1, database="d", user="u", password="p"))
            refusals.append(failed.value.problem["detail"])
            assert set(refusals) == {UNREACHABLE}  # one text: answers cannot tell a closed port from a refusal
        async with api.client("reader") as reader:
            await reader.external_data_sources.list_external_data_sources(environment_id=ENV)
            with pytest.raises(PermissionDeniedError):
                await reader.external_data_sources.create_external_data_source(environment_id=ENV, body=create_body("r_"))
        async with api.client("other") as other:
            with pytest.raises(NotFoundError):
                await other.external_data_sources.list_external_data_sources(environment_id=ENV)

    run(scenario())


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs a live PostgreSQL (CI starts one)")
def test_cdc_and_schema_discovery_against_live_postgres(api: Api) -> None:
    import psycopg
    from urllib.parse import urlparse

    url = urlparse(os.environ["TEST_DATABASE_URL"])
    with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as conn:
        conn.execute("create table if not exists cdc_orders (id int primary key, placed_at timestamptz)")
        conn.execute("create table if not exists cdc_nopk (x int)")
        wal_level = conn.execute("show wal_level").fetchone()[0]
    fields = {"host": url.hostname, "port": url.port or 5432, "database": url.path.lstrip("/"),
              "user": url.username, "password": url.password or ""}

    api.app.state.handlers.external_data_sources.egress = Egress.allowing("127.0.0.0/8", "::1")  # CI's own server

    async def scenario() -> None:
        async with api.client() as client:
            eds = client.external_data_sources
            tables = await eds.get_database_schema(environment_id=ENV, body=models.DatabaseSchemaInput.model_validate(
                {"source_type": "Postgres", **fields}))
            found = {t.table: t for t in tables}
            assert found["cdc_orders"].detected_primary_keys == ["id"] and found["cdc_orders"].cdc_available
            assert not found["cdc_nopk"].cdc_available
            result = await eds.check_cdc_prerequisites(environment_id=ENV, body=models.CheckCdcPrerequisitesInputRequest(
                source_type="Postgres", tables=["cdc_orders", "cdc_nopk", "missing"], **fields))
            assert "table public.cdc_nopk has no primary key" in result.errors
            assert "table public.missing does not exist" in result.errors
            assert (f"wal_level must be logical (is {wal_level})" in result.errors) == (wal_level != "logical")
            assert result.valid is False

    run(scenario())


def test_unknown_query_parameters_are_ignored_here_as_posthog_does_and_refused_elsewhere(api: Api) -> None:
    async def scenario() -> None:
        async with api.raw() as raw:
            posthog = await raw.get(f"/api/environments/{ENV}/external_data_sources/", params={"utm_source": "x"})
            assert posthog.status_code == 200  # x-unknown-query-parameters: ignore on the tag
            pingone = await raw.get(f"/environments/{ENV}/externalServices", params={"utm_source": "x"})
            assert pingone.status_code == 400 and pingone.json()["errors"][0]["pointer"] == "#query/utm_source"

    run(scenario())


def test_a_schema_named_twice_in_the_payload_is_one_schema(api: Api) -> None:
    """schemathesis found it: the second `customers` broke the (source, name) constraint, an undocumented 409."""
    async def scenario() -> None:
        async with api.client() as client:
            body = models.ExternalDataSourceCreateRequest.model_validate({
                "source_type": "Stripe", "prefix": "twice_", "payload": {"stripe_secret_key": "sk", "schemas": [
                    {"name": "customers", "sync_type": "incremental"}, {"name": "customers"}]}})
            created = await client.external_data_sources.create_external_data_source(environment_id=ENV, body=body)
            assert [(s.name, s.sync_type) for s in created.schemas] == [("customers", "incremental")]

    run(scenario())
