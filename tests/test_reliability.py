"""Under attack and under faults: no request can stall, poison or reach past the server (SQLite and PostgreSQL).

Each test is a reproducer of a way the server once broke. No assertion here is a timing: a request that must not
be delayed is shown to finish while the one that stalls is still held, by an event the test releases afterwards.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from app.egress import UNREACHABLE
from integrations import models
from integrations.server import Limits

from .conftest import Api, run, serving
from .test_server_data_sources import create_body
from .test_server_external_services import ENV, service
from .test_server_versori import ORG, http_connector

SERVICES = f"/environments/{ENV}/externalServices"


def unvalidated(api: Api, key: str | None = "admin") -> httpx.AsyncClient:
    """A plain client: these tests send and expect what the spec does not describe (413, 503, 500)."""
    headers = {"Authorization": f"Bearer {api.keys[key]}"} if key else {}
    transport = httpx.AsyncHTTPTransport() if api.over_socket else httpx.ASGITransport(app=api.app)
    return httpx.AsyncClient(base_url=api.base_url, transport=transport, headers=headers, timeout=30)


async def asgi(app: Any, method: str, path: str, headers: dict[str, str], chunks: list[bytes],
               hang: bool = False) -> tuple[int, dict[str, str], bytes, int]:
    """One request straight into the ASGI app: (status, headers, body, body bytes the app pulled). With `hang`,
    the body never finishes arriving."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    pending = list(chunks)
    pulled = 0
    sent: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pending:
            chunk = pending.pop(0)
            pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending) or hang}
        if hang:
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
            sent["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            sent["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return sent["status"], sent["headers"], sent["body"], pulled


MIB = 1 << 20


def test_an_unauthenticated_body_is_never_read(api: Api) -> None:
    fifty_mib = [b"x" * MIB] * 50

    async def scenario() -> None:
        status, _, body, pulled = await asgi(api.app, "POST", SERVICES, {"content-type": "application/json",
                                                                          "content-length": str(50 * MIB)}, fifty_mib)
        assert (status, pulled) == (401, 0), body
        status, _, _, _ = await asgi(api.app, "POST", SERVICES, {"content-type": "application/json"}, [b"{not json"])
        assert status == 401  # credentials are judged before the body is parsed

    run(scenario())


def test_bodies_are_bounded_in_size_depth_and_time(api: Api) -> None:
    auth = {"authorization": f"Bearer {api.keys['admin']}", "content-type": "application/json"}

    async def scenario() -> None:
        status, headers, _, pulled = await asgi(api.app, "POST", SERVICES, {**auth, "content-length": str(2 * MIB)},
                                                [b"x" * MIB] * 2)
        assert (status, pulled) == (413, 0) and headers["content-type"] == "application/problem+json"
        status, _, _, pulled = await asgi(api.app, "POST", SERVICES, auth, [b"x" * (MIB // 4)] * 8)  # no length
        assert status == 413 and pulled <= MIB + MIB // 4
        deep = service().model_dump(mode="json", by_alias=True, exclude_none=True)
        nested: Any = "leaf"
        for _ in range(600):
            nested = {"v": nested}
        deep["variables"] = {"deep": nested}
        status, _, body, _ = await asgi(api.app, "POST", SERVICES, auth, [json.dumps(deep).encode()])
        assert status == 400 and "nested deeper" in body.decode()
        api.app.state.limits = Limits(body_timeout=0.2)
        status, headers, _, _ = await asgi(api.app, "POST", SERVICES, auth, [b'{"name": "sl'], hang=True)
        assert status == 408 and headers["connection"] == "close"
        async with unvalidated(api) as client:
            assert (await client.get(SERVICES)).json()["count"] == 0

    run(scenario())


def test_strings_that_cannot_be_stored_are_refused_before_any_write(api: Api) -> None:
    base = service().model_dump(mode="json", by_alias=True, exclude_none=True)
    surrogate = json.dumps({**base, "variables": {"v": "x"}}).replace('"x"', '"\\ud800"')
    nul = json.dumps({**base, "variables": {"v": "a\u0000b"}})
    nul_key = json.dumps({**base, "variables": {"a\u0000": "b"}})

    async def scenario() -> None:
        async with unvalidated(api) as client:
            for text in (surrogate, nul, nul_key):
                answer = await client.post(SERVICES, content=text, headers={"content-type": "application/json"})
                assert answer.status_code == 400 and answer.json()["errors"][0]["pointer"].startswith("/variables")
            assert (await client.get(SERVICES, params={"limit": "1\u0000"})).status_code == 400
            registration = {"label": "x" * 300, "namedCredential": "Bank", "schema": "{}", "schemaType": "OpenApi"}
            assert (await client.post("/externalServiceRegistrations", json=registration)).status_code == 400
            listed = await client.get(SERVICES)
            assert listed.status_code == 200 and listed.json()["count"] == 0

    run(scenario())


def test_database_faults_are_503_with_retry_after_on_a_connection_that_stays_open(api: Api,
                                                                                 monkeypatch: Any) -> None:
    store = api.app.state.store

    def locked(*_: Any, **__: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(store, "list", locked)
    monkeypatch.setattr(store, "get", broken)
    with serving(api.app) as base_url:
        url = urlsplit(base_url)
        connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
        headers = {"Authorization": f"Bearer {api.keys['admin']}"}
        connection.request("GET", SERVICES, headers=headers)
        unavailable = connection.getresponse()
        problem = json.loads(unavailable.read())
        assert unavailable.status == 503 and unavailable.getheader("retry-after") == "5"
        assert problem["status"] == 503 and not unavailable.will_close
        connection.request("GET", f"{SERVICES}/00000000-0000-0000-0000-000000000000", headers=headers)
        crashed = connection.getresponse()
        crashed.read()
        assert crashed.status == 500 and not crashed.will_close
        connection.close()


def test_a_stalled_outbound_call_stalls_no_other_request(api: Api) -> None:
    entered, release = threading.Event(), threading.Event()

    def stalling(request: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(30)
        return httpx.Response(200, json={})

    api.app.state.handlers.external_services.transport = httpx.MockTransport(stalling)

    async def scenario() -> None:
        async with api.client() as client, unvalidated(api) as other:
            created = await client.external_services.create_external_service(environment_id=ENV, body=service())
            invoke = asyncio.ensure_future(client.external_services.invoke_external_service_request(
                environment_id=ENV, external_service_id=created.id, request_name="get_balance",
                body=models.InvokeInput(inputs={"account": "1"})))
            await asyncio.get_running_loop().run_in_executor(None, entered.wait, 30)
            try:
                answers = await asyncio.wait_for(asyncio.gather(*(other.get(SERVICES) for _ in range(20))), 20)
                assert {a.status_code for a in answers} == {200} and not invoke.done()
            finally:
                release.set()
            assert (await invoke).outputs["status"] == 200

    run(scenario())


def test_a_locked_database_stalls_no_read(api: Api) -> None:
    if api.engine.dialect.name != "sqlite":
        pytest.skip("a PostgreSQL lock that blocks writers blocks no reader by design")
    import sqlite3

    locker = sqlite3.connect(api.engine.url.database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")

    async def scenario() -> None:
        async with unvalidated(api) as client:
            body = service().model_dump(mode="json", by_alias=True, exclude_none=True)
            write = asyncio.ensure_future(client.post(SERVICES, json=body))
            try:
                answers = await asyncio.wait_for(asyncio.gather(*(client.get(SERVICES) for _ in range(20))), 20)
                assert {a.status_code for a in answers} == {200} and not write.done()
            finally:
                locker.execute("COMMIT")
            assert (await write).status_code == 201

    try:
        run(scenario())
    finally:
        locker.close()


def test_outbound_requests_reach_no_internal_address(api: Api) -> None:
    """Loopback (here: a live server), private and metadata addresses are refused with one text, and the
    service's stored key never goes to a host the caller's inputs chose."""
    seen: list[httpx.Request] = []

    def external(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    victim_hits: list[str] = []

    async def victim(scope: Any, receive: Any, send: Any) -> None:
        victim_hits.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})

    async def scenario(victim_url: str) -> None:
        async with api.client() as client:
            es = client.external_services
            requests = [{"name": "loopback", "method": "GET", "url": f"{victim_url}/admin"},
                        {"name": "metadata", "method": "GET", "url": "http://169.254.169.254/latest/meta-data/"},
                        {"name": "private", "method": "GET", "url": "http://10.0.0.1/"},
                        {"name": "by_input", "method": "GET", "url": "${inputs.url}"},
                        {"name": "keyed_by_input", "method": "GET", "url": "${inputs.url}", "authScheme": "primary key"},
                        {"name": "keyed_host", "method": "GET", "url": "https://${inputs.host}/a",
                         "authScheme": "primary key"}]
            created = await es.create_external_service(environment_id=ENV, body=service(requests=requests))
            details = []
            for name, inputs in (("loopback", {}), ("metadata", {}), ("private", {}),
                                 ("by_input", {"url": f"{victim_url}/x"})):
                with pytest.raises(Exception) as refused:
                    await es.invoke_external_service_request(environment_id=ENV, external_service_id=created.id,
                                                             request_name=name, body=models.InvokeInput(inputs=inputs))
                details.append(refused.value.problem["detail"])  # type: ignore[attr-defined]
            assert set(details) == {UNREACHABLE} and victim_hits == []
            api.app.state.handlers.external_services.transport = httpx.MockTransport(external)
            for name, inputs in (("keyed_by_input", {"url": "https://evil.example.com/"}),
                                 ("keyed_host", {"host": "evil.example.com"})):
                with pytest.raises(Exception) as refused:
                    await es.invoke_external_service_request(environment_id=ENV, external_service_id=created.id,
                                                             request_name=name, body=models.InvokeInput(inputs=inputs))
                assert refused.value.status_code == 400  # type: ignore[attr-defined]
            assert seen == []

    with serving(victim) as victim_url:
        run(scenario(victim_url))


def test_a_failed_multi_record_write_leaves_nothing(api: Api, monkeypatch: Any) -> None:
    handlers = api.app.state.handlers.external_data_sources

    def fail(*_: Any) -> None:
        raise RuntimeError("the job runner failed")

    monkeypatch.setattr(handlers, "_run", fail)

    async def scenario() -> None:
        async with unvalidated(api) as client:
            path = f"/api/environments/{ENV}/external_data_sources/"
            body = create_body("atomic_").model_dump(mode="json", by_alias=True, exclude_none=True)
            assert (await client.post(path, json=body)).status_code == 500
            listed = (await client.get(path)).json()
            assert listed["count"] == 0
        with api.engine.connect() as connection:
            from sqlalchemy import text

            assert connection.execute(text("select count(*) from resources")).scalar() == 0

    run(scenario())


def test_uniqueness_holds_under_concurrent_writes(api: Api) -> None:
    async def scenario() -> None:
        async with unvalidated(api) as client:
            path = f"/api/environments/{ENV}/external_data_sources/"
            body = create_body("same_").model_dump(mode="json", by_alias=True, exclude_none=True)
            answers = await asyncio.gather(*(client.post(path, json=body) for _ in range(8)))
            assert sorted(a.status_code for a in answers) == [201] + [400] * 7
            named = service().model_dump(mode="json", by_alias=True, exclude_none=True)
            answers = await asyncio.gather(*(client.post(SERVICES, json=named) for _ in range(8)))
            assert sorted(a.status_code for a in answers) == [201] + [409] * 7

    run(scenario())


def test_a_connector_read_and_put_back_keeps_its_secrets(api: Api) -> None:
    async def scenario() -> None:
        async with api.client("org") as client, unvalidated(api, "org") as raw:
            created = await client.versori_connect.create_http_connector(organisation_id=ORG, body=http_connector())
            path = f"/api/connect/v1/o/{ORG}/connectors/{created.id}"
            fetched = (await raw.get(path)).json()
            assert "grant-secret" not in json.dumps(fetched)
            assert (await raw.put(path, json=fetched)).status_code == 200
            stored = api.app.state.store.get(ORG, "connector", created.id)
            assert "grant-secret" in stored.secrets.values()

    run(scenario())


def test_slow_headers_are_timed_out() -> None:
    from app.serve import SlowClientsClosed

    assert SlowClientsClosed.header_timeout > 0
    import uvicorn

    async def app(scope: Any, receive: Any, send: Any) -> None:  # never reached
        raise AssertionError("a request with unfinished headers reached the app")

    SlowClientsClosed.header_timeout = 0.3
    try:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                                http=SlowClientsClosed)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            threading.Event().wait(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=20) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and nothing more
            assert client.recv(1024) == b""  # closed by the server, well before this socket's own 20 s
        server.should_exit = True
        thread.join(10)
    finally:
        SlowClientsClosed.header_timeout = 10.0


def test_two_workers_keep_uniqueness_and_kill_9_loses_no_acknowledged_write(tmp_path: Any) -> None:
    """`make serve`'s own entry point with two worker processes on one SQLite file: concurrent creates of one
    name have one winner across processes; after kill -9 every write that was answered 201 is in the database."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from sqlalchemy import text

    from app.auth import issue_key
    from app.db import make_engine
    from app.keys import ALL_SCOPES

    url = f"sqlite:///{tmp_path / 'served.db'}"
    engine = make_engine(url)
    key = issue_key(engine, ENV, ALL_SCOPES)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PORT": str(port), "WORKERS": "2", "DATABASE_URL": url, "SPECGEN_DATA_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join(["generated", "."])}
    server = subprocess.Popen([sys.executable, "-m", "app.serve"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)

        async def scenario() -> list[str]:
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
                path = f"/api/environments/{ENV}/external_data_sources/"
                body = create_body("shared_").model_dump(mode="json", by_alias=True, exclude_none=True)
                answers = await asyncio.gather(*(client.post(path, json=body) for _ in range(8)))
                assert sorted(a.status_code for a in answers) == [201] + [400] * 7
                named = [service(f"Service {n}").model_dump(mode="json", by_alias=True, exclude_none=True)
                         for n in range(30)]
                created = await asyncio.gather(*(client.post(SERVICES, json=b) for b in named))
                return [a.json()["id"] for a in created if a.status_code == 201]

        acknowledged = run(scenario())
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
        with make_engine(url).connect() as connection:
            stored = {row[0] for row in connection.execute(text("select id from resources"))}
        assert len(acknowledged) == 30 and set(acknowledged) <= stored
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


def test_error_pointers_point_into_the_request_and_slash_less_paths_are_answered(api: Api) -> None:
    async def scenario() -> None:
        async with unvalidated(api) as client:
            body = service().model_dump(mode="json", by_alias=True, exclude_none=True)
            body["authSchemes"][1]["tokenEndpoint"] = 7  # in the OAUTH_2 member of a discriminated union
            del body["authSchemes"][1]["clientId"]
            problem = (await client.post(SERVICES, json=body)).json()
            pointers = {error["pointer"] for error in problem["errors"]}
            assert pointers == {"/authSchemes/1/tokenEndpoint", "/authSchemes/1/clientId"}, pointers
            assert not any("API_KEY" in p or "OAUTH_2" in p for p in pointers)
            slashless = await client.get(f"/api/environments/{ENV}/external_data_sources", follow_redirects=False)
            assert slashless.status_code == 200 and slashless.json()["count"] == 0

    run(scenario())


def test_importing_a_version_without_a_description_leaves_a_record_that_fits_its_schema(api: Api) -> None:
    from .test_server_versori import ORG2

    async def scenario() -> None:
        async with api.client("org") as client:
            vc = client.versori_connect
            public = await vc.create_http_connector(organisation_id=ORG, body=http_connector(public=True))
            await vc.create_connector_version(organisation_id=ORG, connector_id=public.id,
                                              body=models.ConnectorVersionCreate(name="2.0.0"))
        async with api.client("org2") as other:
            imported = await other.versori_connect.import_public_connector_version(
                organisation_id=ORG2, connector_id=public.id, version="2.0.0")
            assert [v.name for v in imported.versions] == ["2.0.0"]
            listed = await other.versori_connect.list_connectors(organisation_id=ORG2)
            assert [c.id for c in listed.connectors] == [imported.id]

    run(scenario())


def test_one_default_version_under_concurrent_requests(api: Api) -> None:
    async def scenario() -> None:
        async with api.client("org") as client:
            vc = client.versori_connect
            connector = await vc.create_http_connector(organisation_id=ORG, body=http_connector())
            names = [f"1.{n}.0" for n in range(6)]
            for name in names:
                await vc.create_connector_version(organisation_id=ORG, connector_id=connector.id,
                                                  body=models.ConnectorVersionCreate(name=name))
        async with unvalidated(api, "org") as raw:
            base = f"/api/connect/v1/o/{ORG}/connectors/{connector.id}/versions"
            answers = await asyncio.gather(*(raw.put(f"{base}/{name}", json={"isDefault": True}) for name in names))
            assert {a.status_code for a in answers} <= {200, 503}  # a lost SQLite race is a retryable 503
            versions = (await raw.get(base, params={"first": 50})).json()["items"]
            assert sum(v["isDefault"] for v in versions) == 1

    run(scenario())
