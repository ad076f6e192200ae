"""`make reliability` figures: how much a stalled outbound call or a locked database delays unrelated requests,
and what a 50 MB unauthenticated body costs. Printed as a table; numbers are for the note, never asserted
(the machines are shared and noisy).

Runs the real app under uvicorn on a loopback port (SQLite in a temporary directory, or DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "generated"), str(ROOT)]

from app.auth import issue_key  # noqa: E402
from app.db import fresh_engine  # noqa: E402
from app.keys import ALL_SCOPES  # noqa: E402
from app.main import create  # noqa: E402
from tests.conftest import serving  # noqa: E402

ENV = "env-1"
SERVICES = f"/environments/{ENV}/externalServices"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def latencies(client: httpx.AsyncClient, count: int = 100) -> list[float]:
    async def one() -> float:
        start = time.perf_counter()
        answer = await client.get(SERVICES)
        assert answer.status_code == 200, answer.text
        return time.perf_counter() - start

    results = []
    for _ in range(count // 10):  # ten at a time, as concurrent callers would
        results += await asyncio.gather(*(one() for _ in range(10)))
    return results


def p99(values: list[float]) -> str:
    return f"{statistics.quantiles(values, n=100)[98] * 1000:.0f} ms"


async def measure(app: object, base_url: str, key: str, database: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:

        entered, release = threading.Semaphore(0), threading.Event()

        def stalling(request: httpx.Request) -> httpx.Response:
            entered.release()
            release.wait(60)
            return httpx.Response(200, json={})

        def all_stalled() -> None:  # measured once every call hangs, not while the others are still arriving
            for _ in range(5):
                entered.acquire(timeout=30)

        app.state.handlers.external_services.transport = httpx.MockTransport(stalling)  # type: ignore[attr-defined]
        service = {"name": "Stall", "authSchemes": [], "variables": {},
                   "requests": [{"name": "stall", "method": "GET", "url": "https://bank.example.com/x"}]}
        created = (await client.post(SERVICES, json=service)).json()  # before the idle figure: same lists
        await latencies(client, 20)  # warm up
        rows.append(("unrelated GET p99, idle", p99(await latencies(client))))
        stalled = [asyncio.ensure_future(client.post(f"{SERVICES}/{created['id']}/requests/stall", json={}))
                   for _ in range(5)]
        await asyncio.get_running_loop().run_in_executor(None, all_stalled)
        await latencies(client, 20)  # warmed up as the idle figure was: the burst of five grew the pool past its size
        rows.append(("unrelated GET p99, 5 outbound calls stalled", p99(await latencies(client))))
        release.set()
        await asyncio.gather(*stalled)

        if database == "sqlite":
            locker = sqlite3.connect(app.state.engine.url.database, isolation_level=None)  # type: ignore[attr-defined]
            locker.execute("BEGIN EXCLUSIVE")
            write = asyncio.ensure_future(client.post(SERVICES, json={**service, "name": "Locked out"}))
            rows.append(("unrelated GET p99, database locked by a writer", p99(await latencies(client))))
            locker.execute("COMMIT")
            locker.close()
            await write

    host, port = base_url.removeprefix("http://").split(":")
    before = rss_mib()
    start = time.perf_counter()
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(f"POST {SERVICES} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {50 << 20}\r\n\r\n".encode())
        sent, chunk = 0, b"x" * (1 << 20)
        raw.settimeout(0.001)
        answer = b""
        while b"\r\n\r\n" not in answer and sent < 50 << 20:
            try:
                raw.sendall(chunk)
                sent += len(chunk)
            except (BlockingIOError, socket.timeout, BrokenPipeError, ConnectionResetError):
                pass
            try:
                answer += raw.recv(65536)
            except (BlockingIOError, socket.timeout):
                pass
        elapsed = time.perf_counter() - start
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    rows.append(("50 MB body without a key", f"{status}, {elapsed * 1000:.0f} ms, "
                                            f"{sent >> 20} MiB sent, +{rss_mib() - before:.1f} MiB server RSS"))
    return rows


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="specgen-reliability-"))
    engine = fresh_engine(os.environ.get("DATABASE_URL", ""), data)
    database = engine.dialect.name
    app = create(engine, data_dir=data, public_url="http://127.0.0.1")
    key = issue_key(engine, ENV, ALL_SCOPES)
    with serving(app) as base_url:
        rows = asyncio.run(measure(app, base_url, key, database))
    print(f"\nreliability figures ({database}):")
    for name, value in rows:
        print(f"  {name:<48} {value}")


if __name__ == "__main__":
    main()
