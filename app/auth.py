"""API keys: random tokens, stored hashed, each bound to one tenant and a set of scopes."""

from __future__ import annotations

import hashlib
import secrets

from anyio import to_thread
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from integrations.server import Principal

from .db import ApiKey

KEY_PREFIX = "sk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(engine: Engine, tenant: str, scopes: list[str], label: str = "") -> str:
    """Create a key and return it; only its hash is stored, so this is the one time it can be seen."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with Session(engine) as session:
        session.add(ApiKey(key_hash=hash_key(key), tenant=tenant, scopes=sorted(set(scopes)), label=label))
        session.commit()
    return key


class KeyAuthenticator:
    """Both security schemes (bearer and X-API-Key) carry the same keys."""

    def __init__(self, engine: Engine):
        self.engine = engine

    async def authenticate(self, scheme: str, credential: str) -> Principal | None:
        return await to_thread.run_sync(self._lookup, credential)  # the database call must not block the loop

    def _lookup(self, credential: str) -> Principal | None:
        with Session(self.engine) as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(credential)))
            if row is None:
                return None
            return Principal(tenant=row.tenant, scopes=frozenset(row.scopes), subject=f"key:{row.id}")
