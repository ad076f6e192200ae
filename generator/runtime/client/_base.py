"""One small base for the sync and async clients: URL, auth, timeouts, retries, errors, parsing."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache, wraps
from typing import Any, Generic, ParamSpec, TypedDict, TypeVar, Unpack, cast
from urllib.parse import quote

import httpx
from pydantic import MISSING, BaseModel, TypeAdapter
from pydantic_core import to_jsonable_python

from ._spec import SCHEMES, USER_AGENT
from .errors import ConnectionFailed, UnexpectedResponse, error_for

__all__ = [
    "AsyncBase",
    "Options",
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
P = ParamSpec("P")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|"}  # else a comma
Query = list[tuple[str, str]]
Security = tuple[tuple[str, ...], ...]  # an operation's alternatives, each the schemes it needs; () in it: none


@cache
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def parse(annotation: Any, response: httpx.Response, redirects: tuple[int | str, ...] = ()) -> Any:
    """The response body as its documented type (`annotation`, or where successes differ, the one a dict of status
    → type gives the status that came, None for a success without a body); None for a documented redirect, whose
    Location `with_raw_response` shows; the typed error for an error status, UnexpectedResponse for anything the
    operation does not document."""
    if response.is_error:
        raise error_for(response)
    if 300 <= response.status_code < 400:
        if response.status_code in redirects or "3XX" in redirects:
            return None
        raise UnexpectedResponse(response, None, f"status {response.status_code} is not documented")
    if not response.is_success:
        raise UnexpectedResponse(response, None, f"status {response.status_code} is not documented")
    if isinstance(annotation, dict):
        code = str(response.status_code)
        key = next((k for k in (code, f"{code[0]}XX", "default") if k in annotation), None)
        if key is None:
            raise UnexpectedResponse(response, None, f"status {code} is not documented")
        annotation = annotation[key]
    if annotation is None:
        return None
    if not response.content:
        raise UnexpectedResponse(response, None, "no body where the operation documents one")
    if annotation is bytes:
        return response.content
    if annotation is str and not response.headers.get("content-type", "").split(";")[0].strip().endswith("json"):
        return response.text
    try:
        return _adapter(annotation).validate_python(json.loads(response.content, parse_float=_json_number))
    except ValueError as exc:  # not JSON, or not the documented type (pydantic's ValidationError is a ValueError)
        raise UnexpectedResponse(response, None, f"the body is not the documented type: {exc}") from exc


def dump(body: Any, annotation: Any = None) -> Any:
    """JSON of a value: a model with only the fields that were set; as its declared type (`annotation`) where
    given, so that an option of a discriminated union carries its tag."""
    if annotation is not None:
        return _adapter(annotation).dump_python(body, mode="json", by_alias=True, exclude_unset=True, warnings=False)
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return to_jsonable_python(body, by_alias=True)


def encode(body: Any, encoding: str, content_type: str, annotation: Any = None) -> dict[str, Any]:
    """httpx arguments that send `body` as the operation declares it (of type `annotation`): JSON, a form,
    multipart, text or bytes."""
    if body is None:
        return {}
    if encoding == "json":
        return {"json": dump(body, annotation)}
    if encoding in ("text", "binary"):
        return {"content": body.encode() if isinstance(body, str) else body, "headers": {"Content-Type": content_type}}
    if annotation is not None:  # as its declared type: an option of a discriminated union carries its tag
        fields = _adapter(annotation).dump_python(body, by_alias=True, exclude_unset=True, warnings=False)
    else:
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
    """(name, value, explode, style) → query pairs: arrays repeat the name when exploded, else join with commas
    (spaces, pipes in the delimited styles); objects as their style writes them (`deepObject`: `name[key]`;
    `form`: keys as parameters, or `key,value` pairs joined so when not exploded)."""
    pairs: Query = []
    for name, value, explode, style in params:
        if value is None:
            continue
        delimiter = DELIMITERS.get(style, ",")
        if isinstance(value, (BaseModel, dict)):
            fields = {key: item for key, item in dump(value).items() if item is not None}
            if style == "deepObject":
                pairs.extend((f"{name}[{key}]", _text(item)) for key, item in fields.items())
            elif explode:
                pairs.extend((key, _text(item)) for key, item in fields.items())
            else:
                pairs.append((name, delimiter.join(_text(part) for pair in fields.items() for part in pair)))
        elif isinstance(value, (list, tuple)):
            items = [_text(v) for v in value]
            pairs.extend((name, item) for item in items) if explode else pairs.append((name, delimiter.join(items)))
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
    if isinstance(value, (BaseModel, dict, list, tuple)):  # an object or array in a query array: JSON text
        return json.dumps(dump(value), separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "value"):
        return str(value.value)
    return str(value)


class Options(TypedDict, total=False):
    """The client's settings, by name (see `BaseClient`): a misspelt one is a type error, not a silent no-op."""

    api_key: str | None
    bearer_token: str | None
    credentials: Mapping[str, str] | None
    timeout: float
    max_retries: int
    backoff: float
    max_retry_after: float
    headers: Mapping[str, str] | None


_CAPTURED: ContextVar[list[httpx.Response] | None] = ContextVar("captured_responses", default=None)


def _record(response: httpx.Response) -> httpx.Response:
    if (captured := _CAPTURED.get()) is not None:
        captured.append(response)
    return response


@dataclass(frozen=True)
class RawResponse(Generic[T]):
    """An operation's typed result beside the HTTP response it was read from (the last attempt's)."""

    parsed: T
    http: httpx.Response

    @property
    def status_code(self) -> int:
        return self.http.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http.headers


@contextmanager
def _capturing() -> Iterator[list[httpx.Response]]:
    """Record the responses of the calls made in the block, per thread and per task."""
    captured: list[httpx.Response] = []
    token = _CAPTURED.set(captured)
    try:
        yield captured
    finally:
        _CAPTURED.reset(token)


def _last(captured: list[httpx.Response], operation: Callable[..., Any]) -> httpx.Response:
    if not captured:  # an `iter_…` helper: it calls nothing until iterated
        raise TypeError(f"{getattr(operation, '__name__', operation)!r} made no HTTP call; pass an operation method")
    return captured[-1]


def with_raw_response(operation: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    """The operation, answering its result with the HTTP response's status and headers (openai's
    `with_raw_response`), typed as the operation is:

        raw = with_raw_response(client.things.get_thing)(thing_id="1")
        raw.parsed.name, raw.status_code, raw.headers["etag"]
    """

    @wraps(operation)
    def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        with _capturing() as captured:
            result = operation(*args, **kwargs)
        return RawResponse(result, _last(captured, operation))

    return call


def async_with_raw_response(operation: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """`with_raw_response` for the async client: `await async_with_raw_response(client.things.get_thing)(...)`."""

    @wraps(operation)
    async def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        with _capturing() as captured:
            result = await operation(*args, **kwargs)
        return RawResponse(result, _last(captured, operation))

    return call


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
        max_retry_after: float = 60.0,
        headers: Mapping[str, str] | None = None,
    ):
        """`api_key` and `bearer_token` fill every scheme of their kind; `credentials` sets one by scheme name.
        `timeout` is a deadline for a whole call, retries and a slowly dripping body included; a `Retry-After`
        longer than `max_retry_after` seconds is not waited for (the error is raised at once)."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.headers = {"User-Agent": USER_AGENT, **dict(headers or {})}
        chosen = dict(credentials or {})
        for name, (kind, _where, _wire, http_scheme) in SCHEMES.items():
            if name in chosen:
                continue
            if kind == "apiKey" and api_key is not None:
                chosen[name] = api_key
            elif kind != "apiKey" and http_scheme in ("bearer", "") and bearer_token is not None:
                chosen[name] = bearer_token
        self.credentials = {name: value for name, value in chosen.items()  # a client certificate is the transport's
                            if name in SCHEMES and SCHEMES[name][0] != "mutualTLS"}

    def authorization(self, security: Security | None) -> tuple[dict[str, str], Query, dict[str, str]]:
        """Headers, query and cookies that present the credentials one call needs: those of the first of its
        security alternatives this client holds every credential for (none for an operation anyone may call);
        `None` (a call made by hand) presents them all. A credential is never sent where it is not asked for. A
        client certificate (mutualTLS) is the transport's (`httpx.HTTPTransport(cert=...)`): taken as held, after
        the alternatives the client's own credentials meet."""
        held = {*self.credentials, *(name for name, scheme in SCHEMES.items() if scheme[0] == "mutualTLS")}
        met = [r for r in security or () if r and all(name in self.credentials for name in r)] or [
            r for r in security or () if r and all(name in held for name in r)]
        if security is None:
            wanted: tuple[str, ...] = tuple(sorted(self.credentials))
        elif met:
            wanted = met[0]
        elif not security or any(not r for r in security):  # anyone may call it
            wanted = ()
        else:  # none can be met: what the client has of the closest, and the server says what is missing
            wanted = max(security, key=lambda r: sum(name in held for name in r))
        headers: dict[str, str] = {}
        query: Query = []
        cookies: dict[str, str] = {}
        for name in wanted:
            if name not in self.credentials:
                continue
            kind, where, wire, http_scheme = SCHEMES[name]
            value = self.credentials[name]
            if kind != "apiKey":
                headers["Authorization"] = f"{(http_scheme or 'bearer').capitalize()} {value}"
            elif where == "header":
                headers[wire] = value
            elif where == "query":
                query.append((wire, value))
            else:
                cookies[wire] = value
        return headers, query, cookies

    def arguments(
        self, body: Mapping[str, Any] | None, headers: Mapping[str, str], cookies: Mapping[str, str]
    ) -> dict[str, Any]:
        """httpx arguments for one call: the body's, its headers with the operation's header parameters, and its
        cookie parameters and credentials as one Cookie header."""
        arguments = dict(body or {})
        merged = {**arguments.get("headers", {}), **headers}
        if cookies:
            merged["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        if merged:
            arguments["headers"] = merged
        return arguments

    @contextmanager
    def responses(self) -> Iterator[list[httpx.Response]]:
        """The HTTP responses of the calls made inside the block (each attempt's, in order): status, headers and
        body beside the typed results. Per thread and per task, so concurrent calls elsewhere do not mix in.

            with client.responses() as seen:
                page = client.things.list_things()
            seen[-1].headers["x-rate-limit-remaining"]
        """
        with _capturing() as captured:
            yield captured

    def next_delay(
        self, attempt: int, retryable: bool, response: httpx.Response | None, deadline: float
    ) -> float | None:
        """Seconds to wait before trying again, or None to stop: the call is not retryable, its retries are spent,
        the status is final, a Retry-After exceeds `max_retry_after`, or the wait would pass the deadline.
        Exponential backoff with full jitter, unless the server's Retry-After says how long."""
        if not retryable or attempt >= self.max_retries:
            return None
        if response is not None and response.status_code not in RETRY_STATUSES:
            return None
        delay = random.uniform(0, self.backoff * 2**attempt)
        if response is not None and (after := response.headers.get("retry-after")):
            try:
                delay = max(0.0, float(after))
            except ValueError:
                try:
                    delay = max(0.0, parsedate_to_datetime(after).timestamp() - time.time())
                except (TypeError, ValueError):
                    pass
            if delay > self.max_retry_after:
                return None
        return delay if time.monotonic() + delay < deadline else None

    @staticmethod
    def settled(method: str, attempt: int, response: httpx.Response) -> httpx.Response:
        """A DELETE retried after an attempt that may have gone through finds nothing to delete: that is the
        outcome asked for, not a NotFoundError."""
        if method.upper() == "DELETE" and attempt > 0 and response.status_code == 404:
            return httpx.Response(204, request=response.request)
        return response


def _json_number(text: str) -> int | float:
    """To JSON Schema `2942.0` is the integer 2942: read as one, as the server reads bodies."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _complete(streamed: httpx.Response, content: bytes) -> httpx.Response:
    """A response whose body was read (and decoded) chunk by chunk against the deadline, as a plain response."""
    encoded = ("content-encoding", "content-length", "transfer-encoding")
    headers = [(key, value) for key, value in streamed.headers.multi_items() if key.lower() not in encoded]
    return httpx.Response(streamed.status_code, headers=headers, content=content, request=streamed.request)


class SyncBase(BaseClient):
    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None, **options: Unpack[Options]):
        super().__init__(base_url, **options)
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=self.headers,
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
        security: Security | None = None,
    ) -> httpx.Response:
        attempt = 0
        auth_headers, auth_query, auth_cookies = self.authorization(security)
        arguments = self.arguments(body, {**auth_headers, **headers}, {**auth_cookies, **cookies})
        deadline = time.monotonic() + self.timeout
        while True:
            response: httpx.Response | None = None
            failure: httpx.TransportError | None = None
            try:
                response = self._send(method, path, tuple(params) + tuple(auth_query), arguments, deadline)
            except httpx.TransportError as exc:
                failure = exc
            delay = self.next_delay(attempt, retryable, response, deadline)
            if delay is None:
                if response is None:
                    raise ConnectionFailed(f"{method.upper()} {path}: {failure}") from failure
                return self.settled(method, attempt, response)
            time.sleep(delay)
            attempt += 1

    def _send(
        self, method: str, path: str, params: tuple[tuple[str, str], ...], arguments: dict[str, Any], deadline: float
    ) -> httpx.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise httpx.TimeoutException("the call's deadline passed")
        with self.http.stream(method, path, params=params, timeout=remaining, **arguments) as streamed:
            chunks = []
            for chunk in streamed.iter_bytes():
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the call's deadline passed while the body was arriving")
                chunks.append(chunk)
        return _record(_complete(streamed, b"".join(chunks)))

    def close(self) -> None:
        self.http.close()


class AsyncBase(BaseClient):
    def __init__(
        self, base_url: str, *, transport: httpx.AsyncBaseTransport | None = None, **options: Unpack[Options]
    ):
        super().__init__(base_url, **options)
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            headers=self.headers,
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
        security: Security | None = None,
    ) -> httpx.Response:
        attempt = 0
        auth_headers, auth_query, auth_cookies = self.authorization(security)
        arguments = self.arguments(body, {**auth_headers, **headers}, {**auth_cookies, **cookies})
        deadline = time.monotonic() + self.timeout
        while True:
            response: httpx.Response | None = None
            failure: httpx.TransportError | None = None
            try:
                response = await self._send(method, path, tuple(params) + tuple(auth_query), arguments, deadline)
            except httpx.TransportError as exc:
                failure = exc
            delay = self.next_delay(attempt, retryable, response, deadline)
            if delay is None:
                if response is None:
                    raise ConnectionFailed(f"{method.upper()} {path}: {failure}") from failure
                return self.settled(method, attempt, response)
            await asyncio.sleep(delay)
            attempt += 1

    async def _send(
        self, method: str, path: str, params: tuple[tuple[str, str], ...], arguments: dict[str, Any], deadline: float
    ) -> httpx.Response:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise httpx.TimeoutException("the call's deadline passed")
        async with self.http.stream(method, path, params=params, timeout=remaining, **arguments) as streamed:
            chunks = []
            async for chunk in streamed.aiter_bytes():
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the call's deadline passed while the body was arriving")
                chunks.append(chunk)
        return _record(_complete(streamed, b"".join(chunks)))

    async def aclose(self) -> None:
        await self.http.aclose()
