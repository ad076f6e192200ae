"""Every error the server answers is application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("specgen.server")

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raise from a handler to answer with a documented error status."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        errors: Sequence[tuple[str, str]] = (),
        title: str = "",
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(detail or title)
        self.status = status
        self.detail = detail
        self.errors = tuple(errors)
        self.title = title or _phrase(status)
        self.headers = dict(headers or {})


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    body["instance"] = request.url.path
    if problem.errors:
        body["errors"] = [{"pointer": pointer, "detail": detail} for pointer, detail in problem.errors]
    headers = {**problem.headers, **({"WWW-Authenticate": "Bearer"} if problem.status == 401 else {})}
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def pointer_of(location: Sequence[int | str]) -> str:
    """FastAPI's error location → JSON pointer: ('body', 'name') → /name, ('query', 'limit') → #query/limit."""
    if not location:
        return ""
    where, *rest = location
    escaped = "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in rest)
    return escaped or "/" if where == "body" else f"#{where}{escaped}"


def install(app: FastAPI, allowed_methods: Callable[[str], str | None]) -> None:
    """Problem+json for every error; `allowed_methods(path)` fills the `Allow` header of a 405."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(request, exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [(pointer_of(error.get("loc", ())), str(error.get("msg", "invalid"))) for error in exc.errors()]
        return problem_response(request, Problem(400, "The request could not be completed.", errors=errors))

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (methods := allowed_methods(request.url.path)):
            headers["Allow"] = methods
        return problem_response(request, Problem(exc.status_code, str(exc.detail), headers=headers))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


class FaultsAnswered:
    """ASGI middleware: an exception no handler caught is answered here, as problem+json on a connection that stays
    open (Starlette's outermost handler would close it). An infrastructure fault (an instance of `unavailable`, such
    as a database that is locked, read-only or down) is 503 with `Retry-After`; anything else is 500, logged with
    its traceback."""

    def __init__(self, app: ASGIApp, unavailable: tuple[type[BaseException], ...] = (), retry_after: int = 5):
        self.app = app
        self.unavailable = unavailable
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            if isinstance(exc, self.unavailable):
                logger.warning("%s %s: unavailable: %s", scope["method"], scope["path"], exc)
                problem = Problem(
                    503,
                    "A service this API depends on is unavailable; try again later.",
                    headers={"Retry-After": str(self.retry_after)},
                )
            else:
                logger.exception("%s %s: unhandled error", scope["method"], scope["path"])
                problem = Problem(500, "The server failed to handle this request.")
            await problem_response(StarletteRequest(scope), problem)(scope, receive, send)


def _phrase(status: int) -> str:
    """The status's reason phrase; a status outside the registry (419, 499) still gets a title."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
