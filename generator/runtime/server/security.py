"""Credentials by security scheme, checked against each operation's requirements (401, then 403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import Request

from ._spec import SCHEMES
from .problems import Problem

Requirement = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant their credential belongs to and what it may do."""

    tenant: str
    scopes: frozenset[str]
    subject: str = ""


class Authenticator(Protocol):
    async def authenticate(self, scheme: str, credential: str) -> Principal | None:
        """The principal for a credential presented under `scheme`, or None when it is not valid."""
        ...


def presented(request: Request, scheme: str) -> str | None:
    """The credential sent under `scheme` (for mutualTLS, the client certificate in PEM that the ASGI TLS extension
    reports); None when none was, or the spec names a scheme it never defines (a requirement no request can meet:
    refused, not a 500)."""
    if scheme not in SCHEMES:
        return None
    kind, where, name, http_scheme = SCHEMES[scheme]
    if kind == "mutualTLS":  # the TLS layer's: the client's certificate, where the ASGI server verified one
        tls = request.scope.get("extensions", {}).get("tls") or {}
        chain = tls.get("client_cert_chain") or []
        return str(chain[0]) if chain and tls.get("client_cert_error") is None else None
    if kind == "apiKey":
        source = {"header": request.headers, "query": request.query_params, "cookie": request.cookies}[where]
        return source.get(name) or None
    value = request.headers.get("authorization", "")
    prefix, _, token = value.partition(" ")
    return token.strip() or None if prefix.lower() == (http_scheme or "bearer") else None


def requires(
    requirements: tuple[Requirement, ...], authenticator: Authenticator
) -> Callable[[Request], Awaitable[Principal | None]]:
    """A FastAPI dependency: runs before parameters are validated, so credentials are judged first."""

    async def authorize(request: Request) -> Principal | None:
        if not requirements or any(not requirement for requirement in requirements):
            return None
        lacks_scope = False  # a requirement whose credentials all passed, short of a scope
        for requirement in requirements:
            principal: Principal | None = None
            for scheme, scopes in requirement:
                credential = presented(request, scheme)
                found = await authenticator.authenticate(scheme, credential) if credential else None
                if found is None:
                    principal = None
                    break
                if not set(scopes) <= found.scopes:
                    lacks_scope, principal = True, None
                    break
                principal = found
            if principal is not None:
                return principal
        if lacks_scope:
            raise Problem(403, "Your credential lacks a scope or role this operation needs.")
        raise Problem(401, "Missing or invalid credentials.")

    return authorize
