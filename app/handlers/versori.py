"""003: Versori Connect: connectors, versions, auth scheme configs, connections, credentials, actions,
triggers and definitions. Children hang off their parent's id; version names resolve `latest` and `default`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel

from integrations import models
from integrations.server import Principal, Problem
from integrations.server import handlers as h

from ..common import as_json, validate, cursor_page, cursor_window, tenant_of
from ..db import utcnow
from ..store import Record, Store, iso, new_ulid, sortable

CONNECTOR, VERSION, CONNECTION, CREDENTIAL = "connector", "connector_version", "connection", "credential"
OPERATION_KINDS = ("action", "trigger")
DEFINITION = "definition"
RESERVED_VERSIONS = {"latest", "default"}
FIRST_VERSION = "v1"
CREDENTIAL_DATA: dict[str, type[BaseModel]] = {
    "none": models.CredentialDataNone, "string": models.CredentialDataStringRequest,
    "binary": models.CredentialDataBinaryRequest, "basic-auth": models.CredentialDataBasicAuthRequest,
    "oauth2-client": models.CredentialDataOAuth2ClientRequest, "oauth2-code": models.CredentialDataOAuth2CodeRequest,
    "oauth2-password": models.CredentialDataOAuth2PasswordRequest,
    "oauth2-token": models.CredentialDataOAuth2TokenRequest,
    "custom-function": models.CredentialDataCustomFunctionRequest,
    "certificate": models.CredentialDataCertificateRequest, "jwt-bearer": models.CredentialDataJWTBearerRequest,
}


def _reserved(name: str, pointer: str) -> None:
    if name in RESERVED_VERSIONS:
        raise Problem(400, f'"{name}" is a reserved version name', errors=[(pointer, "latest and default are reserved")])


def _messages(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Validation feedback on an auth scheme config (read-only `validationMessages`)."""
    found = []
    for field in ("authorizeUrl", "tokenUrl"):
        url = str(config.get(field) or "")
        if url and not url.startswith("https://"):
            found.append({"text": f"{field} should use https", "severity": "warning"})
    if config.get("schemeType") == "oauth2" and not config.get("defaultScopes"):
        found.append({"text": "no default scopes: users must choose scopes", "severity": "info"})
    return found


class VersoriConnect:
    def __init__(self, store: Store, public_url: str):
        self.store = store
        self.public_url = public_url.rstrip("/")

    # -- lookups ------------------------------------------------------------------------------------------------

    def _connector(self, principal: Principal | None, organisation_id: str, connector_id: str) -> Record:
        return self.store.get(tenant_of(principal, organisation_id), CONNECTOR, connector_id)

    def _versions(self, connector: Record) -> list[Record]:
        return self.store.list(connector.tenant, VERSION, connector.id)[0]

    @staticmethod
    def _latest(versions: list[Record]) -> Record | None:
        """The latest *published* version, by `publishedAt` (the vendor's reference); drafts never are."""
        published = [v for v in versions if v.body.get("publishedAt")]
        return max(published, key=lambda v: (v.body["publishedAt"], v.created_at), default=None)

    def _version(self, connector: Record, name: str) -> Record:
        """A version by name; "latest" is the latest published one, "default" the one set as default, else the
        latest published."""
        versions = self._versions(connector)
        if name == "latest":
            found = self._latest(versions)
        elif name == "default":
            found = next((v for v in versions if v.body.get("isDefault")), None) or self._latest(versions)
        else:
            found = next((v for v in versions if v.name == name), None)
        if found is None:
            raise Problem(404, f"connector has no version {name!r}" if name not in ("latest", "default")
                          else f"connector has no {name} version: none is published")
        return found

    def _version_json(self, version: Record, latest_id: str) -> dict[str, Any]:
        return {**version.body, "id": version.id, "name": version.name, "isLatest": version.id == latest_id,
                "isDefault": bool(version.body.get("isDefault")), "createdAt": iso(version.created_at),
                "updatedAt": iso(version.updated_at), "publishedAt": version.body.get("publishedAt")}

    def _latest_id(self, versions: list[Record]) -> str:
        latest = self._latest(versions)
        return latest.id if latest else ""

    def _version_response(self, connector: Record, version: Record) -> models.ConnectorVersionResponse:
        return models.ConnectorVersionResponse.model_validate(
            self._version_json(version, self._latest_id(self._versions(connector))))

    def _connection_json(self, connector: Record, row: Record) -> dict[str, Any]:
        """A connection with each of its credentials embedded beside their ids, as the vendor's are: the auth
        scheme config (from the connector) and the credential (redacted, as a read of it is)."""
        configs = {c.get("id"): {**c, "validationMessages": _messages(c)}
                   for c in connector.body.get("authSchemeConfigs") or []}
        credentials: dict[str, Any] = {}
        for role, items in (row.body.get("credentials") or {}).items():
            credentials[role] = []
            for item in items:
                try:
                    found: Record | None = self._credential(row.tenant, item["credentialId"])
                except Problem:  # deleted since, or expired
                    found = None
                credentials[role].append({**item, "authSchemeConfig": configs.get(item.get("authSchemeConfigId")),
                                          "credential": self._credential_json(found) if found else None})
        return {**row.body, "credentials": credentials, "id": row.id, "name": row.name,
                "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at)}

    def _connector_json(self, connector: Record) -> dict[str, Any]:
        versions = self._versions(connector)
        latest = self._latest_id(versions)
        configs = [{**c, "validationMessages": _messages(c)} for c in connector.body.get("authSchemeConfigs") or []]
        return {**connector.body, "authSchemeConfigs": configs, "id": connector.id, "organisationId": connector.tenant,
                "connections": [self._connection_json(connector, c) for c in self.store.list(connector.tenant, CONNECTION, connector.id)[0]],
                "versions": [self._version_json(v, latest) for v in versions],
                "createdAt": iso(connector.created_at), "updatedAt": iso(connector.updated_at)}

    def _connector_response(self, connector: Record) -> Any:
        return validate(models.ConnectorResponse, self._connector_json(connector))

    # -- connectors ---------------------------------------------------------------------------------------------

    def list_connectors(self, request: h.ListConnectorsRequest, principal: Principal | None) -> h.ListConnectorsResult:
        tenant = tenant_of(principal, request.organisation_id)
        offset, size = cursor_window(request.first, request.after, request.before)
        order = [(field, direction == "desc") for field, _, direction in
                 (pair.partition(":") for pair in (request.sort or "").split(",") if pair)]
        page, total = self.store.list(tenant, CONNECTOR, contains=request.name, offset=offset, limit=size,
                                      equals=[("protocol", request.protocol)] if request.protocol else [], order=order)
        return h.ListConnectors200(models.ConnectorPageResponse.model_validate(
            {**cursor_page(offset, len(page), total), "connectors": [self._connector_json(r) for r in page]}))

    def _create_connector(self, tenant: str, body: dict[str, Any]) -> Record:
        ids = [c["id"] for c in body.get("authSchemeConfigs") or []]
        if len(ids) != len(set(ids)):
            raise Problem(400, "auth scheme config ids must be unique", errors=[("/authSchemeConfigs", "repeated id")])
        with self.store.transaction():  # the connector with its first version
            connector = self.store.create(tenant, CONNECTOR, {**body, "public": bool(body.get("public"))},
                                          schema="#/components/schemas/Connector", name=body["name"], id=new_ulid(),
                                          conflict=f"a connector named {body['name']!r} exists in this organisation")
            self.store.create(tenant, VERSION, {"isDefault": False, "publishedAt": None, "description": "First version"},
                              schema="#/components/schemas/ConnectorVersion", parent=connector.id, name=FIRST_VERSION,
                              id=new_ulid())
        return connector

    def create_http_connector(self, request: h.CreateHttpConnectorRequest, principal: Principal | None) -> h.CreateHttpConnectorResult:
        connector = self._create_connector(tenant_of(principal, request.organisation_id), as_json(request.body))
        return h.CreateHttpConnector201(self._connector_response(connector))

    def create_bigquery_connector(self, request: h.CreateBigqueryConnectorRequest, principal: Principal | None) -> h.CreateBigqueryConnectorResult:
        connector = self._create_connector(tenant_of(principal, request.organisation_id), as_json(request.body))
        return h.CreateBigqueryConnector201(self._connector_response(connector))

    def get_connector(self, request: h.GetConnectorRequest, principal: Principal | None) -> h.GetConnectorResult:
        return h.GetConnector200(self._connector_response(self._connector(principal, request.organisation_id, request.connector_id)))

    def update_connector(self, request: h.UpdateConnectorRequest, principal: Principal | None) -> h.UpdateConnectorResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        body = as_json(request.body)
        if body["protocol"] != connector.body["protocol"]:
            raise Problem(400, "a connector's protocol cannot change", errors=[("/protocol", f"is {connector.body['protocol']}")])
        updated = self.store.update(connector, body, schema="#/components/schemas/Connector", name=body["name"],
                                    keep_secrets=True,
                                    conflict=f"a connector named {body['name']!r} exists in this organisation")
        return h.UpdateConnector200(self._connector_response(updated))

    def delete_connector(self, request: h.DeleteConnectorRequest, principal: Principal | None) -> h.DeleteConnectorResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        with self.store.transaction():
            self.store.delete_children(connector.tenant, connector.id)
            self.store.delete(connector)
        return h.DeleteConnector204()

    # -- auth scheme configs ------------------------------------------------------------------------------------

    def upsert_auth_scheme_config(self, request: h.UpsertAuthSchemeConfigRequest, principal: Principal | None) -> h.UpsertAuthSchemeConfigResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        config = as_json(request.body)
        if config["id"] != request.auth_scheme_config_id:
            raise Problem(400, "the body's id differs from the path's", errors=[("/id", f"must be {request.auth_scheme_config_id!r}")])
        full = connector.full()
        configs = [c for c in full.get("authSchemeConfigs") or [] if c.get("id") != config["id"]] + [config]
        self.store.update(connector, {**full, "authSchemeConfigs": configs}, schema="#/components/schemas/Connector")
        return h.UpsertAuthSchemeConfig200(validate(models.AuthSchemeConfigResponse, 
            {**config, "validationMessages": _messages(config)}))

    def delete_auth_scheme_config(self, request: h.DeleteAuthSchemeConfigRequest, principal: Principal | None) -> h.DeleteAuthSchemeConfigResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        full = connector.full()
        configs = full.get("authSchemeConfigs") or []
        if not any(c.get("id") == request.auth_scheme_config_id for c in configs):
            raise Problem(404, f"no auth scheme config {request.auth_scheme_config_id!r}")
        for connection in self.store.list(connector.tenant, CONNECTION, connector.id)[0]:
            if request.auth_scheme_config_id in _config_ids(connection.body):
                raise Problem(400, f"connection {connection.name!r} uses this auth scheme config")
        remaining = [c for c in configs if c.get("id") != request.auth_scheme_config_id]
        self.store.update(connector, {**full, "authSchemeConfigs": remaining}, schema="#/components/schemas/Connector")
        return h.DeleteAuthSchemeConfig204()

    # -- connections --------------------------------------------------------------------------------------------

    def _connection_body(self, connector: Record, body: dict[str, Any]) -> dict[str, Any]:
        known_configs = {c.get("id") for c in connector.body.get("authSchemeConfigs") or []}
        credentials = body.get("credentials") or {}
        for role in ("action", "trigger"):
            for index, item in enumerate(credentials.get(role) or []):
                where = f"/credentials/{role}/{index}"
                if item["authSchemeConfigId"] not in known_configs:
                    raise Problem(400, "unknown auth scheme config", errors=[(f"{where}/authSchemeConfigId", "not on this connector")])
                try:
                    self.store.get(connector.tenant, CREDENTIAL, item["credentialId"])
                except Problem:
                    raise Problem(400, "unknown credential", errors=[(f"{where}/credentialId", "no such credential")]) from None
                item.setdefault("id", new_ulid())
        body.setdefault("variables", [])
        return body

    def _connection(self, connector: Record, connection_id: str) -> Record:
        return self.store.get(connector.tenant, CONNECTION, connection_id, parent=connector.id)

    def list_connections(self, request: h.ListConnectionsRequest, principal: Principal | None) -> h.ListConnectionsResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        offset, size = cursor_window(request.first, request.after, request.before)
        page, total = self.store.list(connector.tenant, CONNECTION, connector.id, offset=offset, limit=size)
        return h.ListConnections200(models.ConnectionPageResponse.model_validate(
            {**cursor_page(offset, len(page), total), "items": [self._connection_json(connector, r) for r in page]}))

    def create_connection(self, request: h.CreateConnectionRequest, principal: Principal | None) -> h.CreateConnectionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        body = self._connection_body(connector, as_json(request.body))
        row = self.store.create(connector.tenant, CONNECTION, body, schema="#/components/schemas/Connection",
                                parent=connector.id, name=body["name"], id=new_ulid(),
                                conflict=f"the connector already has a connection named {body['name']!r}")
        return h.CreateConnection200(models.ConnectionResponse.model_validate(self._connection_json(connector, row)))

    def get_connection(self, request: h.GetConnectionRequest, principal: Principal | None) -> h.GetConnectionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        row = self._connection(connector, request.connection_id)
        return h.GetConnection200(models.ConnectionResponse.model_validate(self._connection_json(connector, row)))

    def update_connection(self, request: h.UpdateConnectionRequest, principal: Principal | None) -> h.UpdateConnectionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        row = self._connection(connector, request.connection_id)
        body = self._connection_body(connector, as_json(request.body))
        updated = self.store.update(row, body, schema="#/components/schemas/Connection", name=body["name"],
                                    conflict=f"the connector already has a connection named {body['name']!r}")
        return h.UpdateConnection200(models.ConnectionResponse.model_validate(self._connection_json(connector, updated)))

    def delete_connection(self, request: h.DeleteConnectionRequest, principal: Principal | None) -> h.DeleteConnectionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        self.store.delete(self._connection(connector, request.connection_id))
        return h.DeleteConnection204()

    # -- versions -----------------------------------------------------------------------------------------------

    def list_connector_versions(self, request: h.ListConnectorVersionsRequest, principal: Principal | None) -> h.ListConnectorVersionsResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        versions = self._versions(connector)
        offset, size = cursor_window(request.first, request.after, request.before)
        page = versions[offset:offset + size]
        latest = versions[-1].id if versions else ""
        return h.ListConnectorVersions200(models.ConnectorVersionPageResponse.model_validate(
            {**cursor_page(offset, len(page), len(versions)), "items": [self._version_json(v, latest) for v in page]}))

    def _copy_version(self, source: Record, target: Record) -> None:
        """Copy a version's actions, triggers and definitions; write-only values only within one tenant (an
        importer gets the configuration, never another tenant's secrets)."""
        for kind in (*OPERATION_KINDS, DEFINITION):
            for row in self.store.list(source.tenant, kind, source.id)[0]:
                body = row.full() if source.tenant == target.tenant else row.body
                self.store.create(target.tenant, kind, body, schema=f"#/components/schemas/{kind.capitalize()}",
                                  parent=target.id, name=row.name, id=new_ulid())

    def create_connector_version(self, request: h.CreateConnectorVersionRequest, principal: Principal | None) -> h.CreateConnectorVersionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        body = as_json(request.body)
        _reserved(body["name"], "/name")
        source = self._version(connector, body.pop("fromVersion")) if body.get("fromVersion") else None
        with self.store.transaction():
            version = self.store.create(connector.tenant, VERSION, {"isDefault": False, "publishedAt": None,
                                                                    **{k: v for k, v in body.items() if k != "name"}},
                                        schema="#/components/schemas/ConnectorVersion", parent=connector.id,
                                        name=body["name"], id=new_ulid(),
                                        conflict=f"the connector already has a version named {body['name']!r}")
            if source is not None:
                self._copy_version(source, version)
        return h.CreateConnectorVersion201(self._version_response(connector, version))

    def get_connector_version(self, request: h.GetConnectorVersionRequest, principal: Principal | None) -> h.GetConnectorVersionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        return h.GetConnectorVersion200(self._version_response(connector, self._version(connector, request.version)))

    def update_connector_version(self, request: h.UpdateConnectorVersionRequest, principal: Principal | None) -> h.UpdateConnectorVersionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        version = self._version(connector, request.version)
        changes = as_json(request.body)
        name = changes.pop("name", None)
        if name is not None:
            _reserved(name, "/name")
        if version.body.get("publishedAt") and (name is not None or set(changes) - {"isDefault"}):
            raise _immutable(version)  # only which version is the default may change once it is published
        with self.store.transaction():
            if changes.get("isDefault"):  # one default: concurrent setters wait on the connector's row
                self.store.lock(connector)
                for other in self._versions(connector):
                    if other.id != version.id and other.body.get("isDefault"):
                        self.store.update(other, {**other.body, "isDefault": False}, schema="#/components/schemas/ConnectorVersion")
            updated = self.store.update(version, {**version.body, **changes}, schema="#/components/schemas/ConnectorVersion",
                                        name=name, conflict=f"the connector already has a version named {name!r}")
        return h.UpdateConnectorVersion200(self._version_response(connector, updated))

    def delete_connector_version(self, request: h.DeleteConnectorVersionRequest, principal: Principal | None) -> h.DeleteConnectorVersionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        version = self._version(connector, request.version)
        versions = self._versions(connector)
        if len(versions) == 1:
            raise Problem(400, "the only version of a connector cannot be deleted")
        with self.store.transaction():
            self.store.delete_children(connector.tenant, version.id)
            self.store.delete(version)  # were it the default, "default" is the latest published one again
        return h.DeleteConnectorVersion204()

    def import_public_connector_version(self, request: h.ImportPublicConnectorVersionRequest, principal: Principal | None) -> h.ImportPublicConnectorVersionResult:
        tenant = tenant_of(principal, request.organisation_id)
        public = self.store.lookup(CONNECTOR, request.connector_id)
        if public is None or not (public.body.get("public") or public.tenant == tenant):
            raise Problem(404, f"no public connector {request.connector_id!r}")
        source = self._version(public, request.version)
        with self.store.transaction():
            target = self.store.find(tenant, CONNECTOR, public.name or "") if public.tenant != tenant else public
            if target is None:
                target = self.store.create(tenant, CONNECTOR, {**public.body, "public": False},  # no secrets
                                           schema="#/components/schemas/Connector", name=public.name, id=new_ulid())
            if any(v.name == source.name for v in self._versions(target)):
                raise Problem(409, f"version {source.name!r} is already in this organisation's connector")
            described = {"description": source.body["description"]} if source.body.get("description") else {}
            version = self.store.create(tenant, VERSION, {"isDefault": False, "publishedAt": None,
                                                          **described},  # absent stays absent, never null
                                        schema="#/components/schemas/ConnectorVersion", parent=target.id,
                                        name=source.name, id=new_ulid())
            self._copy_version(source, version)
        return h.ImportPublicConnectorVersion200(self._connector_response(self.store.get(tenant, CONNECTOR, target.id)))

    def publish_connector_version(self, request: h.PublishConnectorVersionRequest, principal: Principal | None) -> h.PublishConnectorVersionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        version = self._version(connector, request.version)
        updated = self.store.update(version, {**version.body, "publishedAt": iso(utcnow())},
                                    schema="#/components/schemas/ConnectorVersion")
        return h.PublishConnectorVersion200(models.PublishResultResponse(version=self._version_response(connector, updated)))

    def unpublish_connector_version(self, request: h.UnpublishConnectorVersionRequest, principal: Principal | None) -> h.UnpublishConnectorVersionResult:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        version = self._version(connector, request.version)
        updated = self.store.update(version, {**version.body, "publishedAt": None},
                                    schema="#/components/schemas/ConnectorVersion")
        return h.UnpublishConnectorVersion200(models.PublishResultResponse(version=self._version_response(connector, updated)))

    # -- actions, triggers, definitions -------------------------------------------------------------------------

    def _owner(self, principal: Principal | None, request: Any) -> Record:
        connector = self._connector(principal, request.organisation_id, request.connector_id)
        return self._version(connector, request.version)

    def _draft(self, principal: Principal | None, request: Any) -> Record:
        """The version an edit addresses, which must be a draft: published versions are immutable (409)."""
        version = self._owner(principal, request)
        if version.body.get("publishedAt"):
            raise _immutable(version)
        return version

    def _definition_names(self, version: Record) -> set[str]:
        return {r.name or "" for r in self.store.list(version.tenant, DEFINITION, version.id)[0]}

    def _check_operation(self, version: Record, body: dict[str, Any]) -> dict[str, Any]:
        known = self._definition_names(version)
        bodies = [("/requestBody", body.get("requestBody") or {})] + [
            (f"/responses/{i}", r) for i, r in enumerate(body.get("responses") or [])]
        for pointer, part in bodies:
            for index, name in enumerate(part.get("definitions") or []):
                if name not in known:
                    raise Problem(400, f"unknown definition {name!r}", errors=[(f"{pointer}/definitions/{index}", "not in this version")])
        return body

    def _operation_json(self, row: Record) -> dict[str, Any]:
        errors = [] if any(200 <= r["status"] < 300 for r in row.body.get("responses") or []) else [
            {"field": "responses", "message": "no 2xx response", "severity": "warning"}]
        return {**row.body, "id": row.id, "name": row.name, "errors": errors}

    def _list_operations(self, kind: str, principal: Principal | None, request: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        version = self._owner(principal, request)
        offset, size = cursor_window(request.first, request.after, request.before)
        page, total = self.store.list(version.tenant, kind, version.id, contains=request.name, offset=offset,
                                      limit=size)
        return cursor_page(offset, len(page), total), [self._operation_json(r) for r in page]

    def _create_operation(self, kind: str, principal: Principal | None, request: Any) -> dict[str, Any]:
        version = self._draft(principal, request)
        body = self._check_operation(version, as_json(request.body))
        row = self.store.create(version.tenant, kind, body, schema=f"#/components/schemas/{kind.capitalize()}",
                                parent=version.id, name=body["name"], id=new_ulid(),
                                conflict=f"the version already has {'an' if kind == 'action' else 'a'} {kind} named {body['name']!r}")
        return self._operation_json(row)

    def _find(self, version: Record, kind: str, name: str) -> Record:
        row = self.store.find(version.tenant, kind, name, parent=version.id)
        if row is None:
            raise Problem(404, f"no {kind} named {name!r}")
        return row

    def _update_operation(self, kind: str, principal: Principal | None, request: Any, name: str) -> dict[str, Any]:
        version = self._draft(principal, request)
        row = self._find(version, kind, name)
        body = self._check_operation(version, as_json(request.body))
        updated = self.store.update(row, body, schema=f"#/components/schemas/{kind.capitalize()}", name=body["name"],
                                    conflict=f"the version already has a {kind} named {body['name']!r}")
        return self._operation_json(updated)

    def _delete_operation(self, kind: str, principal: Principal | None, request: Any, name: str) -> None:
        version = self._draft(principal, request)
        self.store.delete(self._find(version, kind, name))

    def list_actions(self, request: h.ListActionsRequest, principal: Principal | None) -> h.ListActionsResult:
        page, items = self._list_operations("action", principal, request)
        return h.ListActions200(models.ActionPageResponse.model_validate({**page, "actions": items}))

    def create_action(self, request: h.CreateActionRequest, principal: Principal | None) -> h.CreateActionResult:
        return h.CreateAction201(models.ActionResponse.model_validate(self._create_operation("action", principal, request)))

    def get_action(self, request: h.GetActionRequest, principal: Principal | None) -> h.GetActionResult:
        row = self._find(self._owner(principal, request), "action", request.action_name)
        return h.GetAction200(models.ActionResponse.model_validate(self._operation_json(row)))

    def update_action(self, request: h.UpdateActionRequest, principal: Principal | None) -> h.UpdateActionResult:
        body = self._update_operation("action", principal, request, request.action_name)
        return h.UpdateAction200(models.ActionResponse.model_validate(body))

    def delete_action(self, request: h.DeleteActionRequest, principal: Principal | None) -> h.DeleteActionResult:
        self._delete_operation("action", principal, request, request.action_name)
        return h.DeleteAction204()

    def list_triggers(self, request: h.ListTriggersRequest, principal: Principal | None) -> h.ListTriggersResult:
        page, items = self._list_operations("trigger", principal, request)
        return h.ListTriggers200(models.TriggerPageResponse.model_validate({**page, "triggers": items}))

    def create_trigger(self, request: h.CreateTriggerRequest, principal: Principal | None) -> h.CreateTriggerResult:
        return h.CreateTrigger201(models.TriggerResponse.model_validate(self._create_operation("trigger", principal, request)))

    def get_trigger(self, request: h.GetTriggerRequest, principal: Principal | None) -> h.GetTriggerResult:
        row = self._find(self._owner(principal, request), "trigger", request.trigger_name)
        return h.GetTrigger200(models.TriggerResponse.model_validate(self._operation_json(row)))

    def update_trigger(self, request: h.UpdateTriggerRequest, principal: Principal | None) -> h.UpdateTriggerResult:
        body = self._update_operation("trigger", principal, request, request.trigger_name)
        return h.UpdateTrigger200(models.TriggerResponse.model_validate(body))

    def delete_trigger(self, request: h.DeleteTriggerRequest, principal: Principal | None) -> h.DeleteTriggerResult:
        self._delete_operation("trigger", principal, request, request.trigger_name)
        return h.DeleteTrigger204()

    def _references(self, version: Record) -> dict[str, list[dict[str, str]]]:
        used: dict[str, list[dict[str, str]]] = {}
        for kind in OPERATION_KINDS:
            for row in self.store.list(version.tenant, kind, version.id)[0]:
                parts = [row.body.get("requestBody") or {}] + list(row.body.get("responses") or [])
                for name in sorted({n for p in parts for n in p.get("definitions") or []}):
                    used.setdefault(name, []).append({"kind": kind, "name": row.name or ""})
        return used

    def _definition_json(self, version: Record, row: Record, used: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
        connector_id = version.parent
        return {**row.body, "id": row.id, "name": row.name, "referencedBy": used.get(row.name or "", []),
                "url": f"{self.public_url}/api/connect/v1/o/{row.tenant}/schemas/{connector_id}/{version.name}/{row.name}"}

    def list_definitions(self, request: h.ListDefinitionsRequest, principal: Principal | None) -> h.ListDefinitionsResult:
        version = self._owner(principal, request)
        offset, size = cursor_window(request.first, request.after, request.before)
        page, total = self.store.list(version.tenant, DEFINITION, version.id, contains=request.name, offset=offset,
                                      limit=size)
        used = self._references(version)
        return h.ListDefinitions200(models.DefinitionPageResponse.model_validate(
            {**cursor_page(offset, len(page), total), "definitions": [self._definition_json(version, r, used) for r in page]}))

    def create_definitions(self, request: h.CreateDefinitionsRequest, principal: Principal | None) -> h.CreateDefinitionsResult:
        version = self._draft(principal, request)
        bodies = as_json(request.body)["definitions"]
        names = [b["name"] for b in bodies]
        if len(names) != len(set(names)):
            raise Problem(400, "definition names must be unique", errors=[("/definitions", "repeated name")])
        existing = self._definition_names(version)
        for index, name in enumerate(names):
            if name in existing:
                raise Problem(409, f"the version already has a definition named {name!r}")
        with self.store.transaction():
            rows = [self.store.create(version.tenant, DEFINITION, b, schema="#/components/schemas/Definition",
                                      parent=version.id, name=b["name"], id=new_ulid()) for b in bodies]
        used = self._references(version)
        return h.CreateDefinitions201(models.DefinitionListResponse.model_validate(
            {"definitions": [self._definition_json(version, r, used) for r in rows]}))

    def _deletable(self, version: Record, rows: list[Record], force: bool) -> None:
        used = self._references(version)
        blocked = sorted(r.name or "" for r in rows if used.get(r.name or ""))
        if blocked and not force:
            raise Problem(412, f"definitions still in use: {', '.join(blocked)}")

    def delete_definitions(self, request: h.DeleteDefinitionsRequest, principal: Principal | None) -> h.DeleteDefinitionsResult:
        version = self._draft(principal, request)
        selector = as_json(request.body)
        rows = self.store.list(version.tenant, DEFINITION, version.id)[0]
        if not selector.get("all"):
            ids, names = set(selector.get("ids") or []), set(selector.get("names") or [])
            rows = [r for r in rows if r.id in ids or r.name in names]
        self._deletable(version, rows, bool(request.force))
        with self.store.transaction():
            for row in rows:
                self.store.delete(row)
        return h.DeleteDefinitions204()

    def get_definition(self, request: h.GetDefinitionRequest, principal: Principal | None) -> h.GetDefinitionResult:
        version = self._owner(principal, request)
        row = self._find(version, DEFINITION, request.definition_name)
        return h.GetDefinition200(models.DefinitionResponse.model_validate(self._definition_json(version, row, self._references(version))))

    def update_definition(self, request: h.UpdateDefinitionRequest, principal: Principal | None) -> h.UpdateDefinitionResult:
        version = self._draft(principal, request)
        row = self._find(version, DEFINITION, request.definition_name)
        body = as_json(request.body)
        if body["name"] != row.name and self._references(version).get(row.name or ""):
            raise Problem(400, "a definition in use cannot be renamed", errors=[("/name", "referenced by actions or triggers")])
        updated = self.store.update(row, {**row.body, **body}, schema="#/components/schemas/Definition", name=body["name"],
                                    conflict=f"the version already has a definition named {body['name']!r}")
        return h.UpdateDefinition200(models.DefinitionResponse.model_validate(self._definition_json(version, updated, self._references(version))))

    def delete_definition(self, request: h.DeleteDefinitionRequest, principal: Principal | None) -> h.DeleteDefinitionResult:
        version = self._draft(principal, request)
        row = self._find(version, DEFINITION, request.definition_name)
        self._deletable(version, [row], force=False)
        self.store.delete(row)
        return h.DeleteDefinition204()

    # -- credentials --------------------------------------------------------------------------------------------

    def _credential_body(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("expiresAt"):  # stored in one UTC format, so the database can find the expired ones
            body["expiresAt"] = sortable(datetime.fromisoformat(str(body["expiresAt"]).replace("Z", "+00:00")))
        shape = CREDENTIAL_DATA[body["type"]]
        data = body.get("data") or {}
        try:
            shape.model_validate(data)
        except ValueError as exc:
            raise Problem(400, f"data does not fit a {body['type']} credential",
                          errors=[("/data", str(exc).splitlines()[0])]) from None
        schema = self.store.walker.deref({"$ref": f"#/components/schemas/{shape.__name__.removesuffix('Request')}"})
        missing = [name for name in schema.get("x-required-on-write") or [] if name not in data]
        if missing:
            raise Problem(400, f"a {body['type']} credential needs its secret",
                          errors=[(f"/data/{name}", "required when writing") for name in missing])
        return body

    def _usages(self, tenant: str, credential_id: str) -> list[dict[str, str]]:
        connections = self.store.list(tenant, CONNECTION, parent=None)[0]
        return [{"connectionId": c.id, "connectorId": c.parent} for c in connections
                if credential_id in _credential_ids(c.body)]

    def _live(self, row: Record) -> bool:
        """Whether a credential is still there: one past its `expiresAt` is deleted now, as the vendor says it is
        ("the time this credential should be automatically deleted"), and answers as if it never was."""
        expires = row.body.get("expiresAt")
        moment = datetime.fromisoformat(str(expires).replace("Z", "+00:00")) if expires else None
        if moment and (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)) <= utcnow():
            self.store.delete(row)
            return False
        return True

    def _credential(self, tenant: str, credential_id: str) -> Record:
        row = self.store.get(tenant, CREDENTIAL, credential_id)
        if not self._live(row):
            raise Problem(404, f"no credential {credential_id!r}")
        return row

    def _credential_json(self, row: Record, with_usages: bool = False) -> dict[str, Any]:
        # no `errors`: this server does not validate a credential against its system (absent: not validated)
        body = {**row.body, "id": row.id, "organisationId": row.tenant}
        if with_usages:
            body["usages"] = self._usages(row.tenant, row.id)
        return body

    def list_credentials(self, request: h.ListCredentialsRequest, principal: Principal | None) -> h.ListCredentialsResult:
        tenant = tenant_of(principal, request.organisation_id)
        self.store.purge(tenant, CREDENTIAL, "expiresAt", sortable(utcnow()))  # expired ones are deleted
        offset, size = cursor_window(request.first, request.after, request.before)
        page, total = self.store.list(tenant, CREDENTIAL, offset=offset, limit=size,
                                      equals=[("type", request.type_)] if request.type_ else [])
        return h.ListCredentials200(models.CredentialPageResponse.model_validate(
            {**cursor_page(offset, len(page), total), "items": [self._credential_json(r) for r in page]}))

    def create_credential(self, request: h.CreateCredentialRequest, principal: Principal | None) -> h.CreateCredentialResult:
        tenant = tenant_of(principal, request.organisation_id)
        body = self._credential_body(as_json(request.body))
        row = self.store.create(tenant, CREDENTIAL, body, schema="#/components/schemas/Credential", id=new_ulid())
        return h.CreateCredential201(models.CredentialResponse.model_validate(self._credential_json(row)))

    def get_credential(self, request: h.GetCredentialRequest, principal: Principal | None) -> h.GetCredentialResult:
        tenant = tenant_of(principal, request.organisation_id)
        row = self._credential(tenant, request.credential_id)
        return h.GetCredential200(models.CredentialResponse.model_validate(self._credential_json(row, with_usages=True)))

    def update_credential(self, request: h.UpdateCredentialRequest, principal: Principal | None) -> h.UpdateCredentialResult:
        tenant = tenant_of(principal, request.organisation_id)
        row = self._credential(tenant, request.credential_id)
        body = self._credential_body(as_json(request.body))
        updated = self.store.update(row, body, schema="#/components/schemas/Credential")
        return h.UpdateCredential200(models.CredentialResponse.model_validate(self._credential_json(updated)))

    def delete_credential(self, request: h.DeleteCredentialRequest, principal: Principal | None) -> h.DeleteCredentialResult:
        tenant = tenant_of(principal, request.organisation_id)
        row = self._credential(tenant, request.credential_id)
        if self._usages(tenant, row.id):
            raise Problem(409, "a connection uses this credential")
        self.store.delete(row)
        return h.DeleteCredential204()


def _immutable(version: Record) -> Problem:
    return Problem(409, f"version {version.name!r} is published, and published versions are immutable: unpublish it "
                        "or create a new version", errors=[("#path/version", "published")])


def _bindings(body: dict[str, Any]) -> list[dict[str, Any]]:
    credentials = body.get("credentials") or {}
    return list(credentials.get("action") or []) + list(credentials.get("trigger") or [])


def _config_ids(body: dict[str, Any]) -> set[str]:
    return {b["authSchemeConfigId"] for b in _bindings(body)}


def _credential_ids(body: dict[str, Any]) -> set[str]:
    return {b["credentialId"] for b in _bindings(body)}
