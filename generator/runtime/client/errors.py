"""Typed errors: one class per status family, each carrying the parsed problem body and the response."""

from __future__ import annotations

from typing import Any

import httpx


class ClientError(Exception):
    """Everything the client raises: catch this one to catch them all."""


class ApiError(ClientError):
    """The server answered with an error status."""

    def __init__(self, response: httpx.Response, problem: dict[str, Any] | None, reason: str = ""):
        self.response = response
        self.status_code = response.status_code
        self.problem = problem
        detail = reason or (problem or {}).get("detail") or (problem or {}).get("title") or response.reason_phrase
        errors = (problem or {}).get("errors")
        if isinstance(errors, list):  # problem+json field errors: which input was wrong, and why
            detail += "".join(
                f"; {e.get('pointer', '')}: {e.get('detail', '')}" for e in errors[:10] if isinstance(e, dict)
            )
        super().__init__(f"{response.request.method} {response.request.url.path}: {response.status_code} {detail}")


class BadRequestError(ApiError):
    pass


class AuthenticationError(ApiError):
    pass


class PermissionDeniedError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    pass


class RateLimitError(ApiError):
    pass


class ServerError(ApiError):
    pass


class UnexpectedResponse(ApiError):
    """The server answered outside what the API documents: a status the operation does not list (a redirect),
    no body where one is documented, or a body that is not the documented type."""


class ConnectionFailed(ClientError):
    """No response: the connection failed, or the call's deadline (the client's `timeout`) passed."""


BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_for(response: httpx.Response) -> ApiError:
    problem: dict[str, Any] | None = None
    try:
        parsed = response.json()
        problem = parsed if isinstance(parsed, dict) else None
    except ValueError:
        problem = None
    cls = BY_STATUS.get(response.status_code, ServerError if response.status_code >= 500 else ApiError)
    return cls(response, problem)
