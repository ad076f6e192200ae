"""Tables and engine. SQLite file by default; PostgreSQL when DATABASE_URL points at one."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import JSON, DateTime, Engine, Integer, LargeBinary, String, UniqueConstraint, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DATA_DIR = Path(os.environ.get("SPECGEN_DATA_DIR", ".data"))
NAME_LENGTH = 512  # of Resource.unique_name


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    """An API key, stored as its SHA-256: a leaked table does not leak keys."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    label: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Resource(Base):
    """Every resource of every API: public JSON in `body`, write-only values Fernet-encrypted in `secrets`.

    (tenant, kind, parent, unique_name) is unique, so name rules hold under concurrent requests too.
    """

    __tablename__ = "resources"
    __table_args__ = (UniqueConstraint("tenant", "kind", "parent", "unique_name", name="uq_resource_name"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    parent: Mapped[str] = mapped_column(String(64), default="", index=True)
    unique_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    body: Mapped[dict[str, object]] = mapped_column(JSON)
    secrets: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DATA_DIR / 'integrations.db'}"


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record):  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    else:
        engine = create_engine(url, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    return engine


def fresh_engine(url: str, folder: Path) -> Engine:
    """An engine on an empty database, for tests and measurements: PostgreSQL at `url` with the tables dropped and
    made again, or with no `url` a new SQLite file in `folder`."""
    if not url:
        return make_engine(f"sqlite:///{folder / 'fresh.db'}")
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return engine
