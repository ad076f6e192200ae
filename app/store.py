"""Generic persistence for every resource: create, read, list, update, delete, scoped to a tenant."""

from __future__ import annotations

import secrets as random_tokens
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from integrations.server import Problem

from .crypto import Vault
from .db import Resource, utcnow
from .redaction import SchemaWalker, merge

ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid() -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, Crockford base32."""
    value = (int(utcnow().timestamp() * 1000) << 80) | random_tokens.randbits(80)
    return "".join(ULID_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_uuid() -> str:
    return str(uuid.uuid4())


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC; SQLite hands back naive datetimes, which are UTC here."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Record:
    id: str
    tenant: str
    kind: str
    parent: str
    name: str | None
    body: dict[str, Any]  # public fields only
    secrets: dict[str, Any]  # JSON pointer → write-only value
    created_at: datetime
    updated_at: datetime

    def full(self) -> dict[str, Any]:
        """Body with write-only values restored: for the server's own use, never for a response."""
        merged: dict[str, Any] = merge(self.body, self.secrets)
        return merged


class Store:
    def __init__(self, engine: Engine, vault: Vault, document: dict[str, Any]):
        self.engine = engine
        self.vault = vault
        self.walker = SchemaWalker(document)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def _record(self, row: Resource) -> Record:
        return Record(row.id, row.tenant, row.kind, row.parent, row.unique_name, dict(row.body),
                      self.vault.open(row.secrets), row.created_at, row.updated_at)

    def split(self, value: dict[str, Any], schema_ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
        public, hidden = self.walker.split(value, {"$ref": schema_ref})
        assert isinstance(public, dict)
        return public, hidden

    def create(self, tenant: str, kind: str, body: dict[str, Any], *, schema: str, parent: str = "",
               name: str | None = None, id: str | None = None, conflict: str = "",
               extra_secrets: dict[str, Any] | None = None) -> Record:
        """`extra_secrets` ({json pointer: value}) holds values the schema cannot mark write-only itself."""
        public, hidden = self.split(body, schema)
        hidden |= extra_secrets or {}
        now = utcnow()
        row = Resource(id=id or new_uuid(), tenant=tenant, kind=kind, parent=parent, unique_name=name,
                       body=public, secrets=self.vault.seal(hidden), created_at=now, updated_at=now)
        with self.session() as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                raise Problem(409, conflict or f"a {kind} named {name!r} already exists") from None
            return self._record(row)

    def get(self, tenant: str, kind: str, id: str, parent: str | None = None) -> Record:
        with self.session() as session:
            row = session.scalar(select(Resource).where(Resource.id == id, Resource.kind == kind,
                                                        Resource.tenant == tenant))
            if row is None or (parent is not None and row.parent != parent):
                raise Problem(404, f"no {kind.replace('_', ' ')} {id!r}")
            return self._record(row)

    def lookup(self, kind: str, id: str) -> Record | None:
        """By id in any tenant: only for what is shared on purpose (public connectors)."""
        with self.session() as session:
            row = session.scalar(select(Resource).where(Resource.id == id, Resource.kind == kind))
            return self._record(row) if row else None

    def find(self, tenant: str, kind: str, name: str, parent: str = "") -> Record | None:
        with self.session() as session:
            row = session.scalar(select(Resource).where(Resource.tenant == tenant, Resource.kind == kind,
                                                        Resource.parent == parent, Resource.unique_name == name))
            return self._record(row) if row else None

    def list(self, tenant: str, kind: str, parent: str | None = "", *, offset: int = 0, limit: int | None = None,
             contains: str | None = None, fields: tuple[str, ...] = ("name",), order_by_name: bool = False,
             descending: bool = False) -> tuple[list[Record], int]:
        """A page and the total; `contains` filters case-insensitively on the named body fields."""
        with self.session() as session:
            query = select(Resource).where(Resource.tenant == tenant, Resource.kind == kind)
            if parent is not None:
                query = query.where(Resource.parent == parent)
            rows = [self._record(r) for r in session.scalars(query.order_by(Resource.seq))]
        if contains:
            needle = contains.lower()
            rows = [r for r in rows if any(needle in str(r.body.get(f) or "").lower() for f in fields)]
        if order_by_name:
            rows.sort(key=lambda r: (str(r.name or r.body.get("name") or "").lower(), r.id), reverse=descending)
        total = len(rows)
        end = None if limit is None else offset + limit
        return rows[offset:end], total

    def count(self, tenant: str, kind: str, parent: str) -> int:
        with self.session() as session:
            total = session.scalar(select(func.count()).select_from(Resource).where(
                Resource.tenant == tenant, Resource.kind == kind, Resource.parent == parent))
            return int(total or 0)

    def update(self, record: Record, body: dict[str, Any], *, schema: str, name: str | None = None,
               keep_secrets: bool = False, drop_secrets: str = "", conflict: str = "",
               extra_secrets: dict[str, Any] | None = None) -> Record:
        """Replace the body; with keep_secrets, write-only values not sent again are kept (PATCH semantics),
        except those under the `drop_secrets` pointer."""
        public, hidden = self.split(body, schema)
        if keep_secrets:
            kept = {k: v for k, v in record.secrets.items() if not (drop_secrets and k.startswith(drop_secrets))}
            hidden = {**kept, **hidden}
        hidden |= extra_secrets or {}
        with self.session() as session:
            row = session.scalar(select(Resource).where(Resource.id == record.id))
            if row is None:
                raise Problem(404, f"no {record.kind} {record.id!r}")
            row.body = public
            row.secrets = self.vault.seal(hidden)
            row.unique_name = name if name is not None else row.unique_name
            row.updated_at = utcnow()
            try:
                session.commit()
            except IntegrityError:
                raise Problem(409, conflict or f"a {record.kind} named {name!r} already exists") from None
            return self._record(row)

    def delete(self, record: Record) -> None:
        with self.session() as session:
            row = session.scalar(select(Resource).where(Resource.id == record.id))
            if row is not None:
                session.delete(row)
                session.commit()

    def delete_children(self, tenant: str, parent: str) -> None:
        """Remove everything under a parent, recursively (a connector's versions, their actions, ...)."""
        with self.session() as session:
            stack = [parent]
            while stack:
                current = stack.pop()
                children = list(session.scalars(select(Resource).where(Resource.tenant == tenant,
                                                                       Resource.parent == current)))
                for child in children:
                    stack.append(child.id)
                    session.delete(child)
            session.commit()
