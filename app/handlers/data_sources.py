"""002: external data sources with their schemas, jobs and webhooks. Postgres sources are checked live.

There is no sync engine here: a sync job completes at once with the rows it could count (0 without one).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel

from integrations import models
from integrations.server import Principal, Problem
from integrations.server import handlers as h

from .. import postgres
from ..common import as_json, validate, tenant_of
from ..db import utcnow
from ..egress import Egress
from ..store import Record, Store, iso, new_uuid

SOURCE = "external_data_source"
SCHEMA_KIND = "external_data_schema"
JOB = "external_data_job"
SOURCE_SCHEMA = "#/components/schemas/ExternalDataSource"
UPDATE_FIELDS = ("created_via", "client_secret", "account_id", "prefix", "description", "job_inputs")
WEBHOOK_SOURCES = {"Stripe", "Hubspot", "Shopify", "Github", "Zendesk", "Intercom", "Linear"}
COLUMN_SOURCES = {"Postgres", "MySQL", "MSSQL", "Snowflake", "BigQuery", "Redshift", "ClickHouse"}
WIZARD_FIELDS: dict[str, list[dict[str, Any]]] = {
    "Postgres": [{"name": n, "type": t, "required": r} for n, t, r in (
        ("host", "text", True), ("port", "number", True), ("database", "text", True), ("user", "text", True),
        ("password", "password", True), ("schema", "text", False))],
    "Stripe": [{"name": "stripe_secret_key", "type": "password", "required": True},
               {"name": "stripe_account_id", "type": "text", "required": False}],
}


class ExternalDataSources:
    def __init__(self, store: Store, public_url: str, egress: Egress):
        self.store = store
        self.public_url = public_url.rstrip("/")
        self.egress = egress

    # -- reading ------------------------------------------------------------------------------------------------

    def _source(self, principal: Principal | None, environment_id: str, id: Any) -> Record:
        return self.store.get(tenant_of(principal, environment_id), SOURCE, str(id))

    def _schemas(self, source: Record) -> list[Record]:
        rows, _ = self.store.list(source.tenant, SCHEMA_KIND, source.id)
        return rows

    def _schema_json(self, row: Record) -> dict[str, Any]:
        return {**row.body, "id": row.id}

    def _response(self, source: Record) -> models.ExternalDataSourceResponse:
        body = dict(source.body)
        body.pop("webhook", None)
        source_type = body["source_type"]
        return models.ExternalDataSourceResponse.model_validate({
            **body,
            "id": source.id,
            "created_at": iso(source.created_at),
            "schemas": [self._schema_json(r) for r in self._schemas(source)],
            "supports_webhooks": source_type in WEBHOOK_SOURCES,
            "supports_column_selection": source_type in COLUMN_SOURCES,
        })

    def _page_links(self, path: str, offset: int, limit: int, total: int, search: str | None) -> dict[str, Any]:
        def link(start: int) -> str:
            query = {"limit": limit, "offset": start} | ({"search": search} if search else {})
            return f"{self.public_url}{path}?{urlencode(query)}"

        return {"next": link(offset + limit) if offset + limit < total else None,
                "previous": link(max(0, offset - limit)) if offset > 0 else None}

    def list_external_data_sources(self, request: h.ListExternalDataSourcesRequest, principal: Principal | None) -> h.ListExternalDataSourcesResult:
        tenant = tenant_of(principal, request.environment_id)
        rows, total = self.store.list(tenant, SOURCE, offset=request.offset, limit=request.limit,
                                      contains=request.search, fields=("prefix", "description", "source_type"))
        path = f"/api/environments/{request.environment_id}/external_data_sources/"
        return h.ListExternalDataSources200(models.PaginatedExternalDataSourceListResponse.model_validate({
            "count": total, **self._page_links(path, request.offset, request.limit, total, request.search),
            "results": [as_json(self._response(r)) for r in rows]}))

    def retrieve_external_data_source(self, request: h.RetrieveExternalDataSourceRequest, principal: Principal | None) -> h.RetrieveExternalDataSourceResult:
        return h.RetrieveExternalDataSource200(self._response(self._source(principal, request.environment_id, request.id_)))

    # -- writing ------------------------------------------------------------------------------------------------

    @staticmethod
    def _prefix_key(source_type: str, prefix: str | None) -> str:
        """A source's unique name: one source per type and prefix, kept by the database's unique constraint."""
        return f"{source_type}/{prefix or ''}"

    @staticmethod
    def _prefix_taken(source_type: str, prefix: str | None) -> Problem:
        return Problem(400, f"a {source_type} source with prefix {prefix!r} already exists",
                       errors=[("/prefix", "already used by a source of this type")])

    def _check_prefix(self, tenant: str, source_type: str, prefix: str | None) -> None:
        if self.store.find(tenant, SOURCE, self._prefix_key(source_type, prefix)) is not None:
            raise self._prefix_taken(source_type, prefix)

    def create_external_data_source(self, request: h.CreateExternalDataSourceRequest, principal: Principal | None) -> h.CreateExternalDataSourceResult:
        tenant = tenant_of(principal, request.environment_id)
        body = as_json(request.body)
        payload = body.get("payload") or {}
        direct = body.get("access_method") == "direct"
        engine = {"Postgres": "postgres", "MySQL": "mysql"}.get(body["source_type"], "duckdb") if direct else None
        stored = {**body, "status": "Running", "created_via": body.get("created_via", "api"),
                  "access_method": body.get("access_method", "warehouse"), "engine": engine,
                  "latest_error": None, "last_run_at": None, "revenue_analytics_config":
                  {"enabled": False, "include_invoiceless_charges": False}}
        with self.store.transaction():  # the source, its schemas and first jobs: all of them or none
            source = self.store.create(tenant, SOURCE, stored, schema="#/components/schemas/ExternalDataSourceCreate",
                                       name=self._prefix_key(body["source_type"], body.get("prefix")),
                                       conflict=self._prefix_taken(body["source_type"], body.get("prefix")))
            seen: set[str] = set()  # a schema named twice is one schema: the first
            for item in payload.get("schemas") or []:
                if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"] not in seen | {""}:
                    seen.add(item["name"])
                    self._add_schema(source, item)
            self._run(source)
        return h.CreateExternalDataSource201(self._response(self.store.get(tenant, SOURCE, source.id)))

    def _add_schema(self, source: Record, item: dict[str, Any]) -> Record:
        body = {"name": item["name"], "label": item.get("label"), "should_sync": bool(item.get("should_sync", True)),
                "sync_type": item.get("sync_type") or "full_refresh", "incremental_field": item.get("incremental_field"),
                "incremental_field_type": item.get("incremental_field_type"), "sync_frequency": "6hour",
                "incremental": (item.get("sync_type") or "") in ("incremental", "append"), "status": None,
                "last_synced_at": None, "latest_error": None, "available_columns": item.get("available_columns") or []}
        return self.store.create(source.tenant, SCHEMA_KIND, body, schema="#/components/schemas/ExternalDataSchema",
                                 parent=source.id, name=item["name"])

    def _run(self, source: Record) -> None:
        """Start (and, with no sync engine, finish) a job for every schema that should sync."""
        now = iso(utcnow())
        with self.store.transaction():  # each job with its schema's status, and the source's
            for schema in self._schemas(source):
                if not schema.body.get("should_sync"):
                    continue
                self.store.create(source.tenant, JOB, {
                    "created_at": now, "finished_at": now, "status": "Completed", "rows_synced": 0,
                    "schema": {"id": schema.id, "name": schema.body["name"]}, "latest_error": None,
                    "workflow_run_id": new_uuid(), "created_by": None}, schema="#/components/schemas/ExternalDataJob",
                    parent=source.id)
                self.store.update(schema, {**schema.body, "status": "Completed", "last_synced_at": now},
                                  schema="#/components/schemas/ExternalDataSchema")
            self.store.update(source, {**source.body, "status": "Completed", "last_run_at": now}, schema=SOURCE_SCHEMA,
                              keep_secrets=True)

    def _apply(self, source: Record, update: BaseModel | None) -> Record:
        """A partial update with the source's write fields in `update` (the body of several source actions, as
        PostHog documents); other fields of it are the action's own."""
        changes = {key: value for key, value in as_json(update).items() if key in UPDATE_FIELDS}
        if not changes:
            return source
        source_type, prefix = source.body["source_type"], changes.get("prefix", source.body.get("prefix"))
        return self.store.update(source, {**source.body, **changes}, schema=SOURCE_SCHEMA, keep_secrets=True,
                                 name=self._prefix_key(source_type, prefix),
                                 conflict=self._prefix_taken(source_type, prefix))

    def partial_update_external_data_source(self, request: h.PartialUpdateExternalDataSourceRequest, principal: Principal | None) -> h.PartialUpdateExternalDataSourceResult:
        source = self._apply(self._source(principal, request.environment_id, request.id_), request.body)
        return h.PartialUpdateExternalDataSource200(self._response(source))

    def destroy_external_data_source(self, request: h.DestroyExternalDataSourceRequest, principal: Principal | None) -> h.DestroyExternalDataSourceResult:
        source = self._source(principal, request.environment_id, request.id_)
        with self.store.transaction():
            self.store.delete_children(source.tenant, source.id)
            self.store.delete(source)
        return h.DestroyExternalDataSource204()

    def bulk_update_external_data_source_schemas(self, request: h.BulkUpdateExternalDataSourceSchemasRequest, principal: Principal | None) -> h.BulkUpdateExternalDataSourceSchemasResult:
        source = self._source(principal, request.environment_id, request.id_)
        by_id = {r.id: r for r in self._schemas(source)}
        updates = [as_json(item) for item in request.body.schemas]
        for index, update in enumerate(updates):
            if str(update["id"]) not in by_id:
                raise Problem(400, "unknown schema", errors=[(f"/schemas/{index}/id", "not a schema of this source")])
        with self.store.transaction():
            for update in updates:
                row = by_id[str(update.pop("id"))]
                body = {**row.body, **update}
                body["incremental"] = body.get("sync_type") in ("incremental", "append")
                self.store.update(row, body, schema="#/components/schemas/ExternalDataSchema")
        rows, total = self.store.list(source.tenant, SCHEMA_KIND, source.id, offset=request.offset,
                                      limit=request.limit, contains=request.search)
        path = f"/api/environments/{request.environment_id}/external_data_sources/{request.id_}/bulk_update_schemas/"
        return h.BulkUpdateExternalDataSourceSchemas200(models.BulkUpdateSchemasResultResponse.model_validate({
            "count": total, **self._page_links(path, request.offset, request.limit, total, request.search),
            "results": [self._schema_json(r) for r in rows]}))

    # -- webhooks -----------------------------------------------------------------------------------------------

    def create_external_data_source_webhook(self, request: h.CreateExternalDataSourceWebhookRequest, principal: Principal | None) -> h.CreateExternalDataSourceWebhookResult:
        source = self._apply(self._source(principal, request.environment_id, request.id_), request.body)
        if source.body["source_type"] not in WEBHOOK_SOURCES:
            return h.CreateExternalDataSourceWebhook200(models.CreateWebhookResult(
                success=False, webhook_url=None, error=f"{source.body['source_type']} sources do not support webhooks"))
        url = f"{self.public_url}/webhooks/external_data_sources/{source.id}"
        self.store.update(source, {**source.body, "webhook": {"url": url, "created_at": iso(utcnow())}},
                          schema=SOURCE_SCHEMA, keep_secrets=True)
        return h.CreateExternalDataSourceWebhook200(models.CreateWebhookResult(success=True, webhook_url=url, error=None))

    def delete_external_data_source_webhook(self, request: h.DeleteExternalDataSourceWebhookRequest, principal: Principal | None) -> h.DeleteExternalDataSourceWebhookResult:
        source = self._apply(self._source(principal, request.environment_id, request.id_), request.body)
        body = {k: v for k, v in source.body.items() if k != "webhook"}
        self.store.update(source, body, schema=SOURCE_SCHEMA, keep_secrets=True, drop_secrets="/webhook_inputs")
        return h.DeleteExternalDataSourceWebhook200()

    def update_external_data_source_webhook_inputs(self, request: h.UpdateExternalDataSourceWebhookInputsRequest, principal: Principal | None) -> h.UpdateExternalDataSourceWebhookInputsResult:
        source = self._source(principal, request.environment_id, request.id_)
        inputs = as_json(request.body).get("inputs")
        if inputs is not None and "webhook" not in source.body:
            raise Problem(400, "the source has no webhook; create one first")
        with self.store.transaction():
            source = self._apply(source, request.body)
            if inputs is not None:
                self.store.update(source, source.body, schema=SOURCE_SCHEMA, keep_secrets=True,
                                  drop_secrets="/webhook_inputs", extra_secrets={"/webhook_inputs": inputs})
        return h.UpdateExternalDataSourceWebhookInputs200()

    def get_external_data_source_webhook_info(self, request: h.GetExternalDataSourceWebhookInfoRequest, principal: Principal | None) -> h.GetExternalDataSourceWebhookInfoResult:
        source = self._source(principal, request.environment_id, request.id_)
        webhook = source.body.get("webhook")
        return h.GetExternalDataSourceWebhookInfo200(models.WebhookInfo(
            supports_webhooks=source.body["source_type"] in WEBHOOK_SOURCES, exists=webhook is not None,
            webhook_url=webhook["url"] if webhook else None, hog_function=None,
            schema_mapping={r.body["name"]: r.id for r in self._schemas(source)} if webhook else None,
            external_status={"status": "active"} if webhook else None))

    # -- jobs and schemas ---------------------------------------------------------------------------------------

    def list_external_data_source_jobs(self, request: h.ListExternalDataSourceJobsRequest, principal: Principal | None) -> h.ListExternalDataSourceJobsResult:
        source = self._source(principal, request.environment_id, request.id_)
        rows, _ = self.store.list(source.tenant, JOB, source.id)

        def keep(row: Record) -> bool:
            created = datetime.fromisoformat(row.body["created_at"].replace("Z", "+00:00"))
            return ((request.after is None or created > _aware(request.after))
                    and (request.before is None or created < _aware(request.before))
                    and (not request.schemas or row.body["schema"]["name"] in request.schemas))

        jobs = [{**r.body, "id": r.id} for r in reversed(rows) if keep(r)][:50]
        return h.ListExternalDataSourceJobs200(validate(models.ExternalDataJobListResponse, jobs))

    def refresh_external_data_source_schemas(self, request: h.RefreshExternalDataSourceSchemasRequest, principal: Principal | None) -> h.RefreshExternalDataSourceSchemasResult:
        source = self._apply(self._source(principal, request.environment_id, request.id_), request.body)
        if source.body["source_type"] != "Postgres":
            return h.RefreshExternalDataSourceSchemas200(models.RefreshSchemasResult(added=0, deleted=0))
        found = postgres.tables(postgres.connection_from(source.full().get("payload") or {}, self.egress))
        known = {r.body["name"] for r in self._schemas(source)}
        added = 0
        with self.store.transaction():
            for table in found:
                if table["table"] not in known:
                    self._add_schema(source, {"name": table["table"], "should_sync": False,
                                              "available_columns": table["columns"]})
                    added += 1
        return h.RefreshExternalDataSourceSchemas200(models.RefreshSchemasResult(added=added, deleted=0))

    def reload_external_data_source(self, request: h.ReloadExternalDataSourceRequest, principal: Principal | None) -> h.ReloadExternalDataSourceResult:
        source = self._apply(self._source(principal, request.environment_id, request.id_), request.body)
        self._run(source)
        return h.ReloadExternalDataSource200()

    def update_external_data_source_revenue_analytics_config(self, request: h.UpdateExternalDataSourceRevenueAnalyticsConfigRequest, principal: Principal | None) -> h.UpdateExternalDataSourceRevenueAnalyticsConfigResult:
        source = self._source(principal, request.environment_id, request.id_)
        settings = {k: v for k, v in as_json(request.body).items() if k in ("enabled", "include_invoiceless_charges")}
        with self.store.transaction():
            source = self._apply(source, request.body)
            config = {**(source.body.get("revenue_analytics_config") or {}), **settings}
            updated = self.store.update(source, {**source.body, "revenue_analytics_config": config},
                                        schema=SOURCE_SCHEMA, keep_secrets=True)
        return h.UpdateExternalDataSourceRevenueAnalyticsConfig200(self._response(updated))

    # -- environment-level actions ------------------------------------------------------------------------------

    def check_cdc_prerequisites(self, request: h.CheckCdcPrerequisitesRequest, principal: Principal | None) -> h.CheckCdcPrerequisitesResult:
        tenant_of(principal, request.environment_id)
        body = as_json(request.body)
        errors = postgres.cdc_errors(postgres.connection_from(body, self.egress),
                                     self_managed=body.get("cdc_management_mode") == "self_managed",
                                     wanted=body.get("tables") or [], slot=body.get("cdc_slot_name"),
                                     publication=body.get("cdc_publication_name"))
        return h.CheckCdcPrerequisites200(models.CdcPrerequisitesReport(valid=not errors, errors=errors))

    def list_external_data_source_connections(self, request: h.ListExternalDataSourceConnectionsRequest, principal: Principal | None) -> h.ListExternalDataSourceConnectionsResult:
        tenant = tenant_of(principal, request.environment_id)
        page, total = self.store.list(tenant, SOURCE, contains=request.search, fields=("prefix", "source_type"),
                                      equals=[("access_method", "direct")], offset=request.offset, limit=request.limit)
        path = f"/api/environments/{request.environment_id}/external_data_sources/connections/"
        return h.ListExternalDataSourceConnections200(models.PaginatedExternalDataSourceConnectionList.model_validate({
            "count": total, **self._page_links(path, request.offset, request.limit, total, request.search),
            "results": [{"id": r.id, "prefix": r.body.get("prefix"), "engine": r.body["engine"]} for r in page]}))

    def get_database_schema(self, request: h.GetDatabaseSchemaRequest, principal: Principal | None) -> h.GetDatabaseSchemaResult:
        tenant_of(principal, request.environment_id)
        body = as_json(request.body)
        if body["source_type"] != "Postgres":
            raise Problem(400, f"schema discovery is not available for {body['source_type']} here")
        found = postgres.tables(postgres.connection_from(body, self.egress))
        return h.GetDatabaseSchema200(validate(models.DatabaseSchemaResult, [{
            "table": t["table"], "should_sync": False, "incremental_available": True, "append_available": True,
            "cdc_available": bool(t["primary_key"]), "incremental_field": None, "sync_type": None, "rows": None,
            "supports_webhooks": False, "description": None, "available_columns": t["columns"],
            "detected_primary_keys": t["primary_key"] or None, "incremental_fields": [
                {"label": c["name"], "type": c["data_type"], "field": c["name"], "field_type": c["data_type"]}
                for c in t["columns"] if c["data_type"] in ("integer", "bigint", "timestamp with time zone",
                                                             "timestamp without time zone", "date")]}
            for t in found]))

    def check_source_prefix(self, request: h.CheckSourcePrefixRequest, principal: Principal | None) -> h.CheckSourcePrefixResult:
        tenant = tenant_of(principal, request.environment_id)
        body = as_json(request.body)
        if body.get("source_type"):
            self._check_prefix(tenant, body["source_type"], body.get("prefix"))
        else:  # no type given (PostHog's documented body has none): free for a source of any type
            rows, _ = self.store.list(tenant, SOURCE, contains=body.get("prefix") or None, fields=("prefix",))
            taken = next((r for r in rows if (r.body.get("prefix") or None) == (body.get("prefix") or None)), None)
            if taken is not None:
                raise self._prefix_taken(taken.body["source_type"], body.get("prefix"))
        return h.CheckSourcePrefix200()

    def get_source_wizard(self, request: h.GetSourceWizardRequest, principal: Principal | None) -> h.GetSourceWizardResult:
        tenant_of(principal, request.environment_id)
        wizard = {t.value: {"name": t.value, "fields": WIZARD_FIELDS.get(t.value, [
            {"name": "api_key", "type": "password", "required": True}])} for t in models.SourceType}
        return h.GetSourceWizard200(validate(models.SourceWizard, wizard))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
