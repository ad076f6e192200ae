"""Which keeps the event loop free faster: plain `def` handlers with synchronous SQLAlchemy in worker threads (what
`app/` does), or `async def` handlers with SQLAlchemy's asyncio engine (aiosqlite, psycopg's async mode)?

`make bench-io`: the same read (one row by key) and write (one insert) served by uvicorn on loopback, 32
concurrent callers, on SQLite and PostgreSQL (TEST_DATABASE_URL, set by scripts/with-postgres.sh). Prints
requests per second and p99 latency, threads then async, and their ratio. Numbers only; nothing is asserted.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Integer, String, create_engine, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import serving  # noqa: E402

REQUESTS, CONCURRENCY, ROWS = 2000, 32, 1000


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "bench_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))


def threads_app(url: str) -> FastAPI:
    engine = create_engine(url, pool_size=20, max_overflow=20) if not url.startswith("sqlite") else create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30})
    app = FastAPI()

    @app.get("/items/{item_id}")
    def read(item_id: int) -> dict[str, Any]:
        with Session(engine) as session:
            item = session.scalar(select(Item).where(Item.id == item_id))
            return {"id": item.id, "name": item.name} if item else {}

    @app.post("/items")
    def write() -> dict[str, Any]:
        with Session(engine) as session:
            item = Item(name="new")
            session.add(item)
            session.commit()
            return {"id": item.id}

    return app


def async_app(url: str) -> FastAPI:
    url = url.replace("sqlite://", "sqlite+aiosqlite://", 1).replace("+psycopg:", "+psycopg_async:", 1)
    engine = create_async_engine(url, pool_size=20, max_overflow=20) if "sqlite" not in url else create_async_engine(
        url, connect_args={"timeout": 30})
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> dict[str, Any]:
        async with sessions() as session:
            item = await session.scalar(select(Item).where(Item.id == item_id))
            return {"id": item.id, "name": item.name} if item else {}

    @app.post("/items")
    async def write() -> dict[str, Any]:
        async with sessions() as session:
            item = Item(name="new")
            session.add(item)
            await session.commit()
            return {"id": item.id}

    return app


async def load(base_url: str, method: str) -> tuple[float, float]:
    """(requests per second, p99 seconds) for REQUESTS calls from CONCURRENCY callers."""
    latencies: list[float] = []
    queue = iter(range(REQUESTS))

    async def caller(client: httpx.AsyncClient) -> None:
        for n in queue:
            start = time.perf_counter()
            response = await (client.get(f"/items/{n % ROWS + 1}") if method == "read" else client.post("/items"))
            response.raise_for_status()
            latencies.append(time.perf_counter() - start)

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(caller(client) for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return REQUESTS / elapsed, statistics.quantiles(latencies, n=100)[98]


def prepare(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Item(name=f"item {n}") for n in range(ROWS))
        session.commit()
    if url.startswith("sqlite"):
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    engine.dispose()


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="specgen-bench-io-"))
    databases = {"sqlite": f"sqlite:///{folder / 'io.db'}"}
    if os.environ.get("TEST_DATABASE_URL"):
        databases["postgresql"] = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    print(f"handler I/O: {REQUESTS} requests, {CONCURRENCY} concurrent callers, uvicorn on loopback\n")
    print("| database | operation | threads (def + sync) | async (async def + asyncio engine) | threads / async |")
    print("| --- | --- | --- | --- | --- |")
    for database, url in databases.items():
        for method in ("read", "write"):
            results = {}
            for style, build in (("threads", threads_app), ("async", async_app)):
                prepare(url)
                with serving(build(url)) as base_url:
                    asyncio.run(load(base_url, method))  # warm-up, then the measured run
                    results[style] = asyncio.run(load(base_url, method))
            (t_rate, t_p99), (a_rate, a_p99) = results["threads"], results["async"]
            print(f"| {database} | {method} | {t_rate:.0f} req/s, p99 {t_p99 * 1000:.0f} ms "
                  f"| {a_rate:.0f} req/s, p99 {a_p99 * 1000:.0f} ms | {t_rate / a_rate:.2f}× throughput |")


if __name__ == "__main__":
    main()
