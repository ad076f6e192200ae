"""Generic persistence for every resource: create, read, list, update, delete, scoped to a tenant."""

from __future__ import annotations

import secrets as random_tokens
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from integrations.server import Problem

from .crypto import Vault
from .db import NAME_LENGTH, Resource, utcnow
from .redaction import SchemaWalker, merge, pointer_tokens

ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid() -> str:
    """A ULID: 48-bit millisecond time + 80 random bits, Crockford base32."""
    value = (int(utcnow().timestamp() * 1000) << 80) | random_tokens.randbits(80)
    return "".join(ULID_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def new_uuid() -> str:
    return str(uuid.uuid4())


TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # UTC, fixed width: as text, times sort as times


def sortable(moment: datetime) -> str:
    """`moment` in TIME_FORMAT (naive times are UTC), for a time the database compares as text."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).strftime(TIME_FORMAT)


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
        self._open: ContextVar[Session | None] = ContextVar(f"store-{id(self)}", default=None)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """The transaction's session inside `transaction()`, else one of its own."""
        current = self._open.get()
        if current is not None:
            yield current
            return
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every store call inside is one transaction: all of its writes are committed at the end, or none (a
        Problem or any error rolls them all back), so a multi-record write is never left half-done."""
        if self._open.get() is not None:
            yield
            return
        with Session(self.engine, expire_on_commit=False) as session:
            token = self._open.set(session)
            try:
                yield
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                self._open.reset(token)

    def _commit(self, session: Session, conflict: str | Problem = "") -> None:
        """Commit, or inside a transaction flush (constraints are checked now) and leave the commit to it. A
        uniqueness constraint the write breaks raises `conflict` (a Problem, or the detail of a 409)."""
        try:
            if self._open.get() is session:
                session.flush()
            else:
                session.commit()
        except IntegrityError:
            if not conflict:
                raise
            raise (conflict if isinstance(conflict, Problem) else Problem(409, conflict)) from None

    def _record(self, row: Resource) -> Record:
        return Record(row.id, row.tenant, row.kind, row.parent, row.unique_name, dict(row.body),
                      self.vault.open(row.secrets), row.created_at, row.updated_at)

    def split(self, value: dict[str, Any], schema_ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
        public, hidden = self.walker.split(value, {"$ref": schema_ref})
        assert isinstance(public, dict)
        return public, hidden

    def create(self, tenant: str, kind: str, body: dict[str, Any], *, schema: str, parent: str = "",
               name: str | None = None, id: str | None = None, conflict: str | Problem = "",
               extra_secrets: dict[str, Any] | None = None) -> Record:
        """`extra_secrets` ({json pointer: value}) holds values the schema cannot mark write-only itself; a name
        taken already raises `conflict` (a Problem, or the detail of a 409)."""
        _check_name(name)
        public, hidden = self.split(body, schema)
        hidden |= extra_secrets or {}
        now = utcnow()
        row = Resource(id=id or new_uuid(), tenant=tenant, kind=kind, parent=parent, unique_name=name,
                       body=public, secrets=self.vault.seal(hidden), created_at=now, updated_at=now)
        with self.session() as session:
            session.add(row)
            self._commit(session, conflict or f"a {kind} named {name!r} already exists")
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
             contains: str | None = None, fields: tuple[str, ...] = ("name",), equals: Sequence[tuple[str, str]] = (),
             order: Sequence[tuple[str, bool]] = ()) -> tuple[list[Record], int]:
        """A page and the total; `contains` filters case-insensitively on the named body fields, `equals` keeps
        the rows whose body fields have exactly those texts ((field, text) pairs), `order` sorts by body fields
        ((field, descending), case aside; `createdAt` and `updatedAt` are the record's times), oldest first after
        that. Filtered, counted and paged in SQL: only the page is read and decrypted."""
        where = [Resource.tenant == tenant, Resource.kind == kind]
        if parent is not None:
            where.append(Resource.parent == parent)
        if contains:
            needle = contains.lower()
            where.append(or_(*(func.lower(Resource.body[f].as_string()).contains(needle, autoescape=True)
                               for f in fields)))
        where += [Resource.body[field].as_string() == value for field, value in equals]
        times = {"createdAt": Resource.created_at, "updatedAt": Resource.updated_at}
        columns: list[Any] = [times.get(field, func.lower(Resource.body[field].as_string())) for field, _ in order]
        ordering = [column.desc() if descending else column for column, (_, descending) in zip(columns, order)]
        with self.session() as session:
            total = int(session.scalar(select(func.count()).select_from(Resource).where(*where)) or 0)
            if offset >= total:  # also keeps an offset no database integer holds out of SQL
                return [], total
            query = select(Resource).where(*where).order_by(*ordering, Resource.seq).offset(offset).limit(limit)
            return [self._record(r) for r in session.scalars(query)], total

    def lock(self, record: Record) -> None:
        """Inside a transaction: hold `record`'s row (an update of its updated_at) until the transaction ends, so
        writers that take the same lock first run one after the other; what they read after it is current."""
        with self.session() as session:
            session.execute(update(Resource).where(Resource.id == record.id).values(updated_at=utcnow()))
            self._commit(session)

    def purge(self, tenant: str, kind: str, field: str, until: str) -> None:
        """Delete the records whose body `field` (a UTC time in TIME_FORMAT) is at or before `until`."""
        with self.session() as session:
            moment = Resource.body[field].as_string()
            stale = select(Resource).where(Resource.tenant == tenant, Resource.kind == kind, moment.is_not(None),
                                           moment <= until)
            for row in session.scalars(stale):
                session.delete(row)
            self._commit(session)

    def count(self, tenant: str, kind: str, parent: str) -> int:
        with self.session() as session:
            total = session.scalar(select(func.count()).select_from(Resource).where(
                Resource.tenant == tenant, Resource.kind == kind, Resource.parent == parent))
            return int(total or 0)

    def update(self, record: Record, body: dict[str, Any], *, schema: str, name: str | None = None,
               keep_secrets: bool = False, drop_secrets: str = "", conflict: str | Problem = "",
               extra_secrets: dict[str, Any] | None = None) -> Record:
        """Replace the body; with keep_secrets, write-only values not sent again are kept (PATCH semantics, and a
        PUT of what a GET returned), except those under the `drop_secrets` pointer and those whose list item is
        now another one (its `id` or `name` changed: a reordered list does not hand a secret to its neighbour)."""
        _check_name(name)
        public, hidden = self.split(body, schema)
        if keep_secrets:
            kept = {k: v for k, v in record.secrets.items() if not (drop_secrets and k.startswith(drop_secrets))
                    and _same_owner(k, record.body, public)}
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
            self._commit(session, conflict or f"a {record.kind} named {name!r} already exists")
            return self._record(row)

    def delete(self, record: Record) -> None:
        with self.session() as session:
            row = session.scalar(select(Resource).where(Resource.id == record.id))
            if row is not None:
                session.delete(row)
                self._commit(session)

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
            self._commit(session)


def _check_name(name: str | None) -> None:
    """Names are unique per parent in a column of NAME_LENGTH characters; a longer one is the caller's error (the
    spec bounds every name it documents, this bounds the ones that come from free-form input)."""
    if name is not None and len(name) > NAME_LENGTH:
        raise Problem(400, f"a name is at most {NAME_LENGTH} characters", errors=[("/name", "too long")])


def _same_owner(pointer: str, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether the object holding the write-only value at `pointer` is the same one in both bodies: every list item
    on the way has the same `id` (or `name`) in both."""
    old: Any = before
    new: Any = after
    for key in pointer_tokens(pointer)[:-1]:
        if isinstance(old, list) and isinstance(new, list) and key.isdigit():
            index = int(key)
            if index >= len(old) or index >= len(new):
                return False
            old, new = old[index], new[index]
            if isinstance(old, dict) and isinstance(new, dict):
                identity = "id" if "id" in old else "name"
                if old.get(identity) != new.get(identity):
                    return False
        elif isinstance(old, dict) and isinstance(new, dict) and key in old and key in new:
            old, new = old[key], new[key]
        else:
            return False
    return True
