"""004: Patchworks connectors: Laravel-style resources with include, filter[...], sort and page/per_page."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations import models
from integrations.server import Principal, Problem
from integrations.server import handlers as h

from ..common import as_json, tenant_of
from ..store import Record, Store, iso

KIND = "patchworks_connector"
SCHEMA = "#/components/schemas/PatchworksConnectorStore"
# filter[...] → the stored field it matches. Sessions filter on session_id; the system-level filters match the
# authentication implementation, which is how this API identifies a connector's system.
FILTERS = {
    "filter_for_session": "session_id",
    "filter_platform_session": "session_id",
    "filter_system": "authentication_implementation_id",
    "filter_system_template_id": "authentication_implementation_id",
    "filter_for_system_template": "authentication_implementation_id",
    "filter_canonical_key": "authentication_implementation_id",
}


def _split_variables(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Values of variables marked secret are kept encrypted and never shown."""
    secrets = {}
    variables = []
    for index, variable in enumerate(body.get("variables") or []):
        variable = dict(variable)
        variable.setdefault("id", str(index + 1))
        if variable.get("secret") and "value" in variable:
            secrets[f"/variables/{index}/value"] = variable.pop("value")
        variables.append(variable)
    return {**body, "variables": variables}, secrets


class PatchworksConnectors:
    def __init__(self, store: Store, public_url: str):
        self.store = store
        self.public_url = public_url.rstrip("/")

    def _json(self, record: Record, include: Sequence[str] | None) -> dict[str, Any]:
        body = {k: v for k, v in record.body.items() if k not in ("variables",)}
        body |= {"id": record.id, "created_at": iso(record.created_at), "updated_at": iso(record.updated_at)}
        wanted = set(include or [])
        variables = record.body.get("variables") or []
        if "variables" in wanted or "authenticationImplementation.endpoints.variables" in wanted:
            body["variables"] = variables
        if "variables_count" in wanted:
            body["variables_count"] = len(variables)
        if "variablesExists" in wanted:
            body["variables_exists"] = bool(variables)
        for relation, field, key in (("authenticationImplementation", "authentication_implementation",
                                       "authentication_implementation_id"), ("certificate", "certificate", "certificate_id")):
            related = record.body.get(key)
            if f"{relation}_count" in wanted:
                body[f"{field}_count"] = 1 if related else 0
            if f"{relation}Exists" in wanted:
                body[f"{field}_exists"] = bool(related)
            if relation in wanted or any(name.startswith(f"{relation}.") for name in wanted):
                body[field] = {"id": related} if related else None  # the record lives outside this API
        return body

    def _one(self, record: Record, include: Sequence[str] | None = None) -> models.PatchworksConnectorResourceResponse:
        return models.PatchworksConnectorResourceResponse.model_validate({"data": self._json(record, include)})

    def _get(self, principal: Principal | None, connector: str) -> Record:
        return self.store.get(tenant_of(principal), KIND, connector)

    def patchworks_connectors_index(self, request: h.PatchworksConnectorsIndexRequest, principal: Principal | None) -> h.PatchworksConnectorsIndexResult:
        equals = [(field, getattr(request, attribute)) for attribute, field in FILTERS.items()
                  if getattr(request, attribute) is not None]
        per_page = request.per_page
        start = (request.page - 1) * per_page
        order = (("name", request.sort.startswith("-")),) if request.sort else ()
        page, total = self.store.list(tenant_of(principal), KIND, offset=start, limit=per_page, equals=equals,
                                      order=order)
        last = max(1, math.ceil(total / per_page))

        def link(number: int) -> str:
            return f"{self.public_url}/api/v1/connectors?{urlencode({'page': number, 'per_page': per_page})}"

        return h.PatchworksConnectorsIndex200(models.PatchworksConnectorCollectionResponse.model_validate({
            "data": [self._json(r, request.include) for r in page],
            "meta": {"current_page": request.page, "last_page": last, "per_page": per_page, "total": total,
                     "from": start + 1 if page else None, "to": start + len(page) if page else None},
            "links": {"first": link(1), "last": link(last), "prev": link(request.page - 1) if request.page > 1 else None,
                      "next": link(request.page + 1) if request.page < last else None}}))

    def patchworks_connectors_store(self, request: h.PatchworksConnectorsStoreRequest, principal: Principal | None) -> h.PatchworksConnectorsStoreResult:
        body, secrets = _split_variables(as_json(request.body))
        record = self.store.create(tenant_of(principal), KIND, body, schema=SCHEMA, extra_secrets=secrets)
        return h.PatchworksConnectorsStore200(self._one(record))

    def patchworks_connectors_show(self, request: h.PatchworksConnectorsShowRequest, principal: Principal | None) -> h.PatchworksConnectorsShowResult:
        return h.PatchworksConnectorsShow200(self._one(self._get(principal, request.connector), request.include))

    def patchworks_connectors_update(self, request: h.PatchworksConnectorsUpdateRequest, principal: Principal | None) -> h.PatchworksConnectorsUpdateResult:
        record = self._get(principal, request.connector)
        changes = as_json(request.body)
        merged = {**record.full(), **changes}
        body, secrets = _split_variables(merged)
        if "variables" not in changes:  # keep the stored secret values as they are
            secrets = {k: v for k, v in record.secrets.items() if k.startswith("/variables/")}
        updated = self.store.update(record, body, schema=SCHEMA, keep_secrets=True, drop_secrets="/variables/",
                                    extra_secrets=secrets)
        return h.PatchworksConnectorsUpdate200(self._one(updated))

    def patchworks_connectors_destroy(self, request: h.PatchworksConnectorsDestroyRequest, principal: Principal | None) -> h.PatchworksConnectorsDestroyResult:
        self.store.delete(self._get(principal, request.connector))
        return h.PatchworksConnectorsDestroy200(models.MessageResponse(message="Connector deleted."))

    def patchworks_connectors_test(self, request: h.PatchworksConnectorsTestRequest, principal: Principal | None) -> h.PatchworksConnectorsTestResult:
        record = self._get(principal, request.connector)
        errors = []
        try:
            ZoneInfo(str(record.body.get("timezone")))
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(("/timezone", f"unknown timezone {record.body.get('timezone')!r}"))
        if not record.body.get("authentication_implementation_id"):
            errors.append(("/authentication_implementation_id", "missing"))
        if int(record.body.get("rate_limit_duration") or 0) < 1:
            errors.append(("/rate_limit_duration", "must be at least 1"))
        if errors:
            raise Problem(400, "the connector's configuration is not usable", errors=errors)
        return h.PatchworksConnectorsTest200()
