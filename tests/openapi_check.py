"""openapi-core as an independent judge: every response the tests see is validated against the bundled spec."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from generator.conformance import use_unicode_patterns
from integrations.server import openapi_document

use_unicode_patterns()


class HttpxRequest:
    def __init__(self, request: httpx.Request):
        self.request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc.decode()}"

    @property
    def path(self) -> str:
        return self.request.url.path

    @property
    def method(self) -> str:
        return self.request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self.request.content or None

    @property
    def content_type(self) -> str:
        return self.request.headers.get("content-type", "").lower()


class HttpxResponse:
    def __init__(self, response: httpx.Response):
        self.response = response

    @property
    def data(self) -> bytes:
        return self.response.content

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def content_type(self) -> str:
        return self.response.headers.get("content-type", "").lower()

    @property
    def headers(self) -> Headers:
        return Headers(list(self.response.headers.items()))


@cache
def spec_for(host_url: str) -> OpenAPI:
    document = {**openapi_document(), "servers": [{"url": host_url}]}
    return OpenAPI.from_dict(document, config=Config(extra_media_type_deserializers={"application/problem+json": json.loads}))


def response_problems(request: httpx.Request, response: httpx.Response) -> list[str]:
    """What openapi-core finds wrong with a response (status not documented, body or content type off)."""
    wrapped = HttpxRequest(request)
    result = spec_for(wrapped.host_url).unmarshal_response(wrapped, HttpxResponse(response))
    return [f"{request.method} {request.url.path} -> {response.status_code}: {error}" for error in result.errors]


@cache
def _routes() -> tuple[tuple[Any, dict[str, Any]], ...]:
    """(compiled path pattern, path item), concrete paths before templated ones, as OpenAPI matches."""
    from starlette.routing import compile_path

    paths = openapi_document()["paths"]
    ordered = sorted(paths, key=lambda p: ([1 if s.startswith("{") else 0 for s in p.split("/")], p))
    return tuple((compile_path(path)[0], paths[path]) for path in ordered)


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    for pattern, item in _routes():
        if pattern.match(path):
            operation = item.get(method.lower()) or {}
            response = (operation.get("responses") or {}).get(str(status)) or {}
            if "$ref" in response:
                response = openapi_document()["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
            content = response.get("content") or {}
            media = content.get("application/json") or content.get("application/problem+json") or {}
            return media.get("schema")
    return None


def leaked_write_only(request: httpx.Request, response: httpx.Response) -> list[str]:
    """writeOnly properties present in a response body, found by walking the body against its schema."""
    from app.redaction import SchemaWalker

    schema = response_schema(request.method, request.url.path, response.status_code)
    if schema is None or not response.content or "json" not in response.headers.get("content-type", ""):
        return []
    _, found = SchemaWalker(openapi_document()).split(response.json(), schema, writing=False)
    return [f"{request.method} {request.url.path} -> {response.status_code}: write-only {pointer} in the response"
            for pointer in sorted(found)]


class ValidatingTransport(httpx.AsyncBaseTransport):
    """Passes requests through and records every response that does not conform to the spec."""

    def __init__(self, inner: httpx.AsyncBaseTransport, problems: list[str]):
        self.inner = inner
        self.problems = problems

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.problems.extend(response_problems(request, response))
        self.problems.extend(leaked_write_only(request, response))
        return response
