"""001: external service registrations, with the schema, schemaType and serviceBinding rules enforced."""

from __future__ import annotations

import json
from typing import Any

import yaml

from integrations import models
from integrations.server import Principal, Problem
from integrations.server import handlers as h

from ..common import as_json, tenant_of
from ..store import Record, Store

KIND = "external_service_registration"
SCHEMA = "#/components/schemas/ExternalServiceRegistration"
SYSTEM_VERSION = 8  # the newest External Services system version the vendor documents


def _normalise(body: dict[str, Any]) -> dict[str, Any]:
    """Check `schema` is an OpenAPI 2/3 document and derive schemaType; check serviceBinding's shape."""
    text = body.get("schema")
    if text:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            raise Problem(400, "schema is neither JSON nor YAML", errors=[("/schema", "does not parse")]) from None
        if not isinstance(document, dict) or not ("swagger" in document or "openapi" in document):
            raise Problem(400, "schema is not an OpenAPI document", errors=[("/schema", "needs swagger or openapi")])
        version = str(document.get("swagger") or document.get("openapi") or "")
        if not version.startswith(("2.0", "3.0")):  # the seed: "OpenAPI 2.0.x or OpenAPI 3.0.x"
            raise Problem(400, f"OpenAPI {version} is not supported; send OpenAPI 2.0.x or 3.0.x",
                          errors=[("/schema", f"is OpenAPI {version}")])
        derived = "OpenApi" if version.startswith("2") else "OpenApi3"
        declared = body.get("schemaType")
        if declared == "OpenApi3" and derived == "OpenApi":  # OpenApi names 2.0.x and 3.0.x alike
            raise Problem(400, "schemaType OpenApi3 does not match the schema (OpenAPI 2.0)",
                          errors=[("/schemaType", "the schema is OpenAPI 2.0: OpenApi")])
        body["schemaType"] = declared or derived
    binding = body.get("serviceBinding")
    if binding:
        try:
            parsed = json.loads(binding)
            media = parsed["compatibleMediaTypes"]
            valid = isinstance(media, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in media.items())
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            raise Problem(400, "serviceBinding must be JSON with a compatibleMediaTypes map",
                          errors=[("/serviceBinding", 'expected {"compatibleMediaTypes": {"a/b": "c/d"}}')])
    names = [op["name"] for op in body.get("operations") or []]
    if len(names) != len(set(names)):
        raise Problem(400, "operation names must be unique", errors=[("/operations", "repeated name")])
    return body


class ExternalServiceRegistrations:
    def __init__(self, store: Store):
        self.store = store

    def _response(self, record: Record) -> models.ExternalServiceRegistrationResponse:
        return models.ExternalServiceRegistrationResponse.model_validate(
            {**record.body, "id": record.id, "systemVersion": SYSTEM_VERSION})

    def list_external_service_registrations(self, request: h.ListExternalServiceRegistrationsRequest, principal: Principal | None) -> h.ListExternalServiceRegistrationsResult:
        tenant = tenant_of(principal)
        rows, total = self.store.list(tenant, KIND, offset=request.offset, limit=request.limit)
        return h.ListExternalServiceRegistrations200(models.ExternalServiceRegistrationListResponse.model_validate(
            {"totalSize": total, "records": [as_json(self._response(r)) for r in rows]}))

    def create_external_service_registration(self, request: h.CreateExternalServiceRegistrationRequest, principal: Principal | None) -> h.CreateExternalServiceRegistrationResult:
        tenant = tenant_of(principal)
        body = _normalise(as_json(request.body))
        record = self.store.create(tenant, KIND, body, schema=SCHEMA, name=body["label"],
                                   conflict=f"a registration labelled {body['label']!r} exists")
        return h.CreateExternalServiceRegistration201(self._response(record))

    def get_external_service_registration(self, request: h.GetExternalServiceRegistrationRequest, principal: Principal | None) -> h.GetExternalServiceRegistrationResult:
        tenant = tenant_of(principal)
        return h.GetExternalServiceRegistration200(self._response(self.store.get(tenant, KIND, str(request.registration_id))))

    def update_external_service_registration(self, request: h.UpdateExternalServiceRegistrationRequest, principal: Principal | None) -> h.UpdateExternalServiceRegistrationResult:
        tenant = tenant_of(principal)
        record = self.store.get(tenant, KIND, str(request.registration_id))
        body = _normalise(as_json(request.body))
        updated = self.store.update(record, body, schema=SCHEMA, name=body["label"],
                                    conflict=f"a registration labelled {body['label']!r} exists")
        return h.UpdateExternalServiceRegistration200(self._response(updated))

    def delete_external_service_registration(self, request: h.DeleteExternalServiceRegistrationRequest, principal: Principal | None) -> h.DeleteExternalServiceRegistrationResult:
        tenant = tenant_of(principal)
        self.store.delete(self.store.get(tenant, KIND, str(request.registration_id)))
        return h.DeleteExternalServiceRegistration204()
