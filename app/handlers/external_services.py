"""000: external services, and invoking their requests against the real external service."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from integrations import models
from integrations.server import Principal, Problem
from integrations.server import handlers as h

from ..common import as_json, tenant_of
from ..egress import UNREACHABLE, CheckedTransport, Egress, Refused
from ..redaction import pointer_tokens
from ..store import Record, Store, iso

KIND = "external_service"
SCHEMA = "#/components/schemas/ExternalService"
PLACEHOLDER = re.compile(r"\$\{(inputs|variables)\.([A-Za-z0-9_.-]+)\}")


def _check(body: dict[str, Any]) -> None:
    for field in ("authSchemes", "requests"):
        names = [item.get("name") for item in body.get(field) or []]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise Problem(400, f"{field} names must be unique", errors=[(f"/{field}", f"repeated: {repeated}")])
    schemes = {s.get("name") for s in body.get("authSchemes") or []}
    for index, request in enumerate(body.get("requests") or []):
        if request.get("authScheme") and request["authScheme"] not in schemes:
            raise Problem(400, "unknown auth scheme", errors=[(f"/requests/{index}/authScheme", "names no authScheme")])


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number
        return parts.scheme.lower(), (parts.hostname or "").lower(), -1


def _secret_names(record: Record) -> list[str]:
    """`<scheme>.<field>` for each stored write-only value (`/authSchemes/0/key` → `primary key.key`)."""
    schemes = record.body.get("authSchemes") or []
    names = []
    for pointer in record.secrets:
        parts = pointer_tokens(pointer)
        if len(parts) == 3 and parts[0] == "authSchemes" and parts[1].isdigit() and int(parts[1]) < len(schemes):
            names.append(f"{schemes[int(parts[1])].get('name', '')}.{parts[2]}")
    return sorted(names)


class ExternalServices:
    """Invocations connect only where `egress` permits; `transport` replaces the network (tests)."""

    def __init__(self, store: Store, egress: Egress, transport: httpx.BaseTransport | None = None):
        self.store = store
        self.egress = egress
        self.transport = transport

    def _response(self, record: Record) -> models.ExternalServiceResponse:
        body = {**record.body, "id": record.id, "environment": {"id": record.tenant},
                "secrets": _secret_names(record),
                "createdAt": iso(record.created_at), "updatedAt": iso(record.updated_at)}
        return models.ExternalServiceResponse.model_validate(body)

    def list_external_services(self, request: h.ListExternalServicesRequest, principal: Principal | None) -> h.ListExternalServicesResult:
        tenant = tenant_of(principal, request.environment_id)
        rows, total = self.store.list(tenant, KIND, offset=request.offset, limit=request.limit)
        items = [as_json(self._response(r)) for r in rows]
        return h.ListExternalServices200(models.ExternalServiceListResponse.model_validate(
            {"_embedded": {"externalServices": items}, "count": total, "size": len(items)}))

    def create_external_service(self, request: h.CreateExternalServiceRequest, principal: Principal | None) -> h.CreateExternalServiceResult:
        tenant = tenant_of(principal, request.environment_id)
        body = as_json(request.body)
        _check(body)
        record = self.store.create(tenant, KIND, body, schema=SCHEMA, name=body["name"],
                                   conflict=f"an external service named {body['name']!r} exists in this environment")
        return h.CreateExternalService201(self._response(record))

    def get_external_service(self, request: h.GetExternalServiceRequest, principal: Principal | None) -> h.GetExternalServiceResult:
        tenant = tenant_of(principal, request.environment_id)
        return h.GetExternalService200(self._response(self.store.get(tenant, KIND, str(request.external_service_id))))

    def update_external_service(self, request: h.UpdateExternalServiceRequest, principal: Principal | None) -> h.UpdateExternalServiceResult:
        tenant = tenant_of(principal, request.environment_id)
        record = self.store.get(tenant, KIND, str(request.external_service_id))
        body = as_json(request.body)
        _check(body)
        updated = self.store.update(record, body, schema=SCHEMA, name=body["name"],
                                    conflict=f"an external service named {body['name']!r} exists in this environment")
        return h.UpdateExternalService200(self._response(updated))

    def delete_external_service(self, request: h.DeleteExternalServiceRequest, principal: Principal | None) -> h.DeleteExternalServiceResult:
        tenant = tenant_of(principal, request.environment_id)
        self.store.delete(self.store.get(tenant, KIND, str(request.external_service_id)))
        return h.DeleteExternalService204()

    def invoke_external_service_request(self, request: h.InvokeExternalServiceRequestInput, principal: Principal | None) -> h.InvokeExternalServiceRequestResult:
        tenant = tenant_of(principal, request.environment_id)
        service = self.store.get(tenant, KIND, str(request.external_service_id)).full()
        template = next((r for r in service.get("requests") or [] if r.get("name") == request.request_name), None)
        if template is None:
            raise Problem(404, f"the service has no request named {request.request_name!r}")
        inputs = as_json(request.body).get("inputs") or {}
        values = {"inputs": inputs, "variables": service.get("variables") or {}}

        def fill(text: str, where: str) -> str:
            def one(match: re.Match[str]) -> str:
                found = values[match.group(1)].get(match.group(2))
                if found is None:
                    raise Problem(400, f"{where} needs {match.group(0)}",
                                  errors=[(f"/inputs/{match.group(2)}", "required by the request")])
                return str(found)

            return PLACEHOLDER.sub(one, text)

        url = fill(template["url"], "url")
        headers = {k: fill(v, f"header {k}") for k, v in (template.get("headers") or {}).items()}
        content = fill(template["body"], "body") if template.get("body") else None
        if template.get("authScheme"):
            self._check_destination(template["url"], url, values["variables"])
        try:
            with httpx.Client(timeout=10.0, transport=self.transport or CheckedTransport(self.egress),
                              follow_redirects=False, trust_env=False) as client:
                auth = self._auth(client, service, template.get("authScheme"), headers)
                response = client.request(template["method"], url, headers=headers, content=content, auth=auth)
        except (httpx.HTTPError, Refused):
            raise Problem(400, UNREACHABLE) from None
        try:
            payload = response.json()
        except ValueError:
            raise Problem(400, "the external service did not answer with JSON") from None
        outputs = {"status": response.status_code, "headers": dict(sorted(response.headers.items())), "body": payload}
        return h.InvokeExternalServiceRequest200(models.InvokeResult(outputs=outputs))

    @staticmethod
    def _check_destination(template: str, url: str, variables: dict[str, Any]) -> None:
        """A request that carries the service's stored credentials goes only to the origin its definition names:
        the URL with the definition's own variables filled in. Where the caller's inputs would pick the scheme,
        host or port, the request is refused rather than handing the credentials to a host the caller chose."""
        defined = PLACEHOLDER.sub(
            lambda m: str(variables.get(m.group(2), "")) if m.group(1) == "variables" else m.group(0), template)
        origin = _origin(defined)
        if "${" in urlsplit(defined).netloc or not origin[1] or _origin(url) != origin:
            raise Problem(400, "a request with an auth scheme must go to the host its definition names",
                          errors=[("/inputs", "would choose the destination of the service's credentials")])

    def _auth(self, client: httpx.Client, service: dict[str, Any], scheme_name: str | None,
                    headers: dict[str, str]) -> httpx.Auth | None:
        """Apply the named auth scheme; OAUTH_2 exchanges its client credentials for a token first."""
        scheme = next((s for s in service.get("authSchemes") or [] if s.get("name") == scheme_name), None)
        if scheme is None:
            return None
        if scheme["type"] == "API_KEY":
            headers.setdefault("X-API-Key", scheme["key"])
        elif scheme["type"] == "BEARER":
            headers["Authorization"] = f"Bearer {scheme['token']}"
        elif scheme["type"] == "BASIC":
            return httpx.BasicAuth(scheme["username"], scheme["password"])
        elif scheme["type"] == "OAUTH_2":
            form = {"grant_type": "client_credentials"}
            if scheme.get("scope"):
                form["scope"] = " ".join(scheme["scope"])
            auth: httpx.Auth | None = None
            if scheme["tokenEndpointAuthType"] == "client_secret_basic":
                auth = httpx.BasicAuth(scheme["clientId"], scheme["clientSecret"])
            else:
                form |= {"client_id": scheme["clientId"], "client_secret": scheme["clientSecret"]}
            token = client.post(scheme["tokenEndpoint"], data=form, auth=auth or httpx.USE_CLIENT_DEFAULT)
            try:
                headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            except (ValueError, KeyError, TypeError):
                raise Problem(400, f"the token endpoint answered {token.status_code} without an access_token") from None
        return None
