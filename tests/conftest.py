"""Shared fixtures: the real application on a fresh database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

# (database, how the client reaches the server): in-process ASGI everywhere, a real uvicorn socket on SQLite.
SETUPS = [("sqlite", "asgi"), ("sqlite", "socket")] + (
    [("postgresql", "asgi")] if os.environ.get("TEST_DATABASE_URL") else [])


@dataclass
class Api:
    """The running application; every response a test receives is also judged by openapi-core."""

    app: Any
    engine: Any
    keys: dict[str, str]
    base_url: str = "http://testserver"
    over_socket: bool = False
    problems: list[str] = field(default_factory=list)

    def transport(self) -> httpx.AsyncBaseTransport:
        from .openapi_check import ValidatingTransport

        inner = httpx.AsyncHTTPTransport() if self.over_socket else httpx.ASGITransport(app=self.app)
        return ValidatingTransport(inner, self.problems)

    def client(self, key: str | None = "admin", **options: Any) -> Any:
        from integrations.client import AsyncClient

        options.setdefault("api_key", self.keys[key] if key else None)
        return AsyncClient(self.base_url, transport=self.transport(), **options)

    def raw(self, key: str | None = "admin") -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.AsyncClient(base_url=self.base_url, transport=self.transport(), headers=headers)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """uvicorn on a free loopback port in a background thread; yields its base URL."""
    import uvicorn

    # the app's lifespan runs, as under make serve
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _engine(backend: str, tmp_path: Path) -> Any:
    from app.db import fresh_engine

    return fresh_engine("" if backend == "sqlite" else os.environ["TEST_DATABASE_URL"], tmp_path)


@pytest.fixture(params=SETUPS, ids=lambda setup: "-".join(setup))
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    from app.auth import issue_key
    from app.keys import ALL_SCOPES
    from app.main import create

    backend, reach = request.param
    engine = _engine(backend, tmp_path)
    app = create(engine, data_dir=tmp_path, public_url="http://testserver")
    keys = {
        "admin": issue_key(engine, "env-1", ALL_SCOPES),
        "other": issue_key(engine, "env-2", ALL_SCOPES),
        "reader": issue_key(engine, "env-1", [s for s in ALL_SCOPES if s.endswith(":read")]),
        "org": issue_key(engine, "01J9Z3Q8K2W6T4Y7B5N1M0C3XD", ALL_SCOPES),
        "org2": issue_key(engine, "01J9Z3Q8K2W6T4Y7B5N1M0C3XE", ALL_SCOPES),
    }
    if reach == "socket":
        with serving(app) as base_url:
            api = Api(app, engine, keys, base_url=base_url, over_socket=True)
            yield api
    else:
        api = Api(app, engine, keys)
        yield api
    engine.dispose()
    assert api.problems == [], "responses that do not conform to the spec:\n" + "\n".join(api.problems)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own: the tests drop and make tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("TEST_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = _own_database(os.environ["TEST_DATABASE_URL"], f"specgen_{worker}")


def _own_database(url: str, name: str) -> str:
    """`url` with its database replaced by `name`, made on that server when it is missing."""
    from urllib.parse import urlparse

    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            try:
                conn.execute(f'create database "{name}"')
            except psycopg.errors.InsufficientPrivilege:
                raise pytest.UsageError(f"each pytest-xdist worker needs a database of its own, and the role of "
                                        f"TEST_DATABASE_URL may not create {name!r}: grant it CREATEDB, or run one "
                                        f"process (make test TEST_WORKERS=0)") from None
    return urlparse(url)._replace(path=f"/{name}").geturl()


SUMMARY_MODULES = ("tests.test_oas_examples", "tests.test_conformance")
_WORKER_SUMMARIES: list[str] = []


def _summary() -> list[str]:
    import sys

    return [line for name in SUMMARY_MODULES for line in getattr(sys.modules.get(name), "SUMMARY", [])]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A pytest-xdist worker hands its figures to the controller, which prints them."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["summary"] = _summary()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    _WORKER_SUMMARIES.extend(getattr(node, "workeroutput", {}).get("summary", []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The generality figure belongs in every test run's output, not only with -s."""
    for line in _summary() + sorted(_WORKER_SUMMARIES):
        terminalreporter.write_line(line)
