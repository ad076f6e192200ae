"""One small base for the sync and async clients: URL, auth, timeouts, retries, errors, parsing."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any, TypeVar, cast
from urllib.parse import quote

import httpx
from pydantic import MISSING, BaseModel, TypeAdapter
from pydantic_core import to_jsonable_python

from ._spec import SCHEMES, USER_AGENT
from .errors import ConnectionFailed, error_for

__all__ = [
    "AsyncBase",
    "SyncBase",
    "cast",
    "encode",
    "field_value",
    "header_values",
    "parse",
    "query",
    "quote",
]  # resources use these
T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
Query = list[tuple[str, str]]


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def parse(annotation: Any, response: httpx.Response) -> Any:
    """The response body as its documented type; raises the typed error for an error status."""
    if response.is_error:
        raise error_for(response)
    if annotation is None or not response.content:
        return None
    if annotation is bytes:
        return response.content
    if annotation is str and not response.headers.get("content-type", "").split(";")[0].strip().endswith("json"):
        return response.text
    return _adapter(annotation).validate_python(response.json())


def dump(body: Any) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return to_jsonable_python(body, by_alias=True)


def encode(body: Any, encoding: str, content_type: str) -> dict[str, Any]:
    """httpx arguments that send `body` as the operation declares it: JSON, a form, multipart, text or bytes."""
    if body is None:
        return {}
    if encoding == "json":
        return {"json": dump(body)}
    if encoding in ("text", "binary"):
        return {"content": body.encode() if isinstance(body, str) else body, "headers": {"Content-Type": content_type}}
    fields = body.model_dump(by_alias=True, exclude_unset=True) if isinstance(body, BaseModel) else dict(body)
    pairs = [
        (name, item)
        for name, value in fields.items()
        if value is not None
        for item in (value if isinstance(value, (list, tuple)) else [value])
    ]
    if encoding == "form":
        data: dict[str, list[str]] = {}
        for name, item in pairs:
            data.setdefault(name, []).append(_form_text(item))
        return {"data": data}
    # multipart: bytes travel as files, other fields as parts without a file name
    return {
        "files": [(name, (name, item) if isinstance(item, bytes) else (None, _form_text(item))) for name, item in pairs]
    }


def _form_text(value: Any) -> str:
    """A form field's text: as JSON would write the value (ISO dates, enum values), objects as JSON text."""
    plain = to_jsonable_python(value, by_alias=True)
    return json.dumps(plain) if isinstance(plain, (dict, list)) else _text(plain)


def query(*params: tuple[str, Any, bool, str]) -> Query:
    """(name, value, explode, style) → query pairs: arrays repeat the name when exploded, else join with commas;
    objects as their style writes them (`deepObject`: `name[key]`; `form`: keys as parameters, or `key,value`
    pairs joined when not exploded)."""
    pairs: Query = []
    for name, value, explode, style in params:
        if value is None:
            continue
        if isinstance(value, (BaseModel, dict)):
            fields = {key: item for key, item in dump(value).items() if item is not None}
            if style == "deepObject":
                pairs.extend((f"{name}[{key}]", _text(item)) for key, item in fields.items())
            elif explode:
                pairs.extend((key, _text(item)) for key, item in fields.items())
            else:
                pairs.append((name, ",".join(_text(part) for pair in fields.items() for part in pair)))
        elif isinstance(value, (list, tuple)):
            items = [_text(v) for v in value]
            pairs.extend((name, item) for item in items) if explode else pairs.append((name, ",".join(items)))
        else:
            pairs.append((name, _text(value)))
    return pairs


def header_values(*params: tuple[str, Any]) -> dict[str, str]:
    """(name, value) → header (or cookie) values as sent: absent ones left out, arrays joined with commas."""
    return {
        name: ",".join(_text(v) for v in value) if isinstance(value, (list, tuple)) else _text(value)
        for name, value in params
        if value is not None
    }


def field_value(model: Any, path: tuple[str, ...]) -> Any:
    """A response field by its path of names in the document (`("_embedded", "items")`; fields may be aliased
    in Python); None where any step is absent."""
    for wire_name in path:
        if isinstance(model, dict):
            model = model.get(wire_name)
            continue
        fields = getattr(type(model), "model_fields", {})
        attribute = next((a for a, info in fields.items() if info.alias == wire_name or a == wire_name), None)
        value = getattr(model, attribute) if attribute is not None else None
        model = None if value is MISSING else value  # MISSING is truthy: absent must read as None here
        if model is None:
            return None
    return model


def _text(value: Any) -> str:
    if isinstance(value, (BaseModel, dict)):  # an object in a query array travels as JSON text
        return json.dumps(dump(value), separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "value"):
        return str(value.value)
    return str(value)


class BaseClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        bearer_token: str | None = None,
        credentials: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        headers: Mapping[str, str] | None = None,
    ):
        """`api_key` and `bearer_token` fill every scheme of their kind; `credentials` sets one by scheme name."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.headers = {"User-Agent": USER_AGENT, **dict(headers or {})}
        self.cookies: dict[str, str] = {}
        self.auth_query: Query = []
        chosen = dict(credentials or {})
        for name, (kind, _where, _wire, http_scheme) in SCHEMES.items():
            if name in chosen:
                continue
            if kind == "apiKey" and api_key is not None:
                chosen[name] = api_key
            elif kind != "apiKey" and http_scheme in ("bearer", "") and bearer_token is not None:
                chosen[name] = bearer_token
        for name, value in sorted(chosen.items()):
            kind, where, wire, http_scheme = SCHEMES[name]
            if kind != "apiKey":
                self.headers["Authorization"] = f"{(http_scheme or 'bearer').capitalize()} {value}"
            elif where == "header":
                self.headers[wire] = value
            elif where == "query":
                self.auth_query.append((wire, value))
            else:
                self.cookies[wire] = value

    def arguments(
        self, body: Mapping[str, Any] | None, headers: Mapping[str, str], cookies: Mapping[str, str]
    ) -> dict[str, Any]:
        """httpx arguments for one call: the body's, its headers with the operation's header parameters, and
        cookie parameters beside the client's own cookies (httpx sends no jar cookies once a Cookie header is set)."""
        arguments = dict(body or {})
        merged = {**arguments.get("headers", {}), **headers}
        if cookies:
            merged["Cookie"] = "; ".join(f"{name}={value}" for name, value in {**self.cookies, **cookies}.items())
        if merged:
            arguments["headers"] = merged
        return arguments

    def retry_delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Exponential backoff with full jitter; a Retry-After header wins when the server sends one."""
        if response is not None and (after := response.headers.get("retry-after")):
            try:
                return max(0.0, float(after))
            except ValueError:
                try:
                    return max(0.0, parsedate_to_datetime(after).timestamp() - time.time())
                except (TypeError, ValueError):
                    pass
        return random.uniform(0, self.backoff * 2**attempt)

    def should_retry(self, attempt: int, retryable: bool, response: httpx.Response | None) -> bool:
        if not retryable or attempt >= self.max_retries:
            return False
        return response is None or response.status_code in RETRY_STATUSES


class SyncBase(BaseClient):
    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None, **options: Any):
        super().__init__(base_url, **options)
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=self.headers,
            cookies=self.cookies,
            timeout=self.timeout,
            transport=transport,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] = {},
        cookies: Mapping[str, str] = {},
        retryable: bool,
    ) -> httpx.Response:
        attempt = 0
        arguments = self.arguments(body, headers, cookies)
        while True:
            response: httpx.Response | None = None
            try:
                response = self.http.request(method, path, params=tuple(params) + tuple(self.auth_query), **arguments)
            except httpx.TransportError as exc:
                if not self.should_retry(attempt, retryable, None):
                    raise ConnectionFailed(f"{method.upper()} {path}: {exc}") from exc
            if response is not None and not self.should_retry(attempt, retryable, response):
                return response
            time.sleep(self.retry_delay(attempt, response))
            attempt += 1

    def close(self) -> None:
        self.http.close()


class AsyncBase(BaseClient):
    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None, **options: Any):
        super().__init__(base_url, **options)
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self.headers,
            cookies=self.cookies,
            timeout=self.timeout,
            transport=transport,
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] = {},
        cookies: Mapping[str, str] = {},
        retryable: bool,
    ) -> httpx.Response:
        attempt = 0
        arguments = self.arguments(body, headers, cookies)
        while True:
            response: httpx.Response | None = None
            try:
                response = await self.http.request(
                    method, path, params=tuple(params) + tuple(self.auth_query), **arguments
                )
            except httpx.TransportError as exc:
                if not self.should_retry(attempt, retryable, None):
                    raise ConnectionFailed(f"{method.upper()} {path}: {exc}") from exc
            if response is not None and not self.should_retry(attempt, retryable, response):
                return response
            await asyncio.sleep(self.retry_delay(attempt, response))
            attempt += 1

    async def aclose(self) -> None:
        await self.http.aclose()
