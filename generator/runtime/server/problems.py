"""Every error the server answers is application/problem+json (RFC 9457)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
        self.title = title or HTTPStatus(status).phrase
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

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(request, Problem(500, "The server failed to handle this request."))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)
