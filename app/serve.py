"""`make serve`: the API on 127.0.0.1 (PORT, default 8000) with a SQLite file in .data/ (or DATABASE_URL).

Serving defaults that keep slow or idle clients from holding the server: headers must arrive within
`SlowClientsClosed.header_timeout` seconds, a body within the app's `Limits.body_timeout`, an idle keep-alive
connection is closed after 5 s, and at most LIMIT_CONCURRENCY connections are served at once (more get 503).
"""

from __future__ import annotations

import asyncio
import os

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .db import database_url

LIMIT_CONCURRENCY = 1000


class SlowClientsClosed(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request headers are not complete in time."""

    header_timeout = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a request's headers are in
            self._header_deadline.cancel()
        elif self._header_deadline.cancelled():  # the next request on a kept-alive connection has begun
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._header_deadline.cancel()
        super().connection_lost(exc)

    def _headers_late(self) -> None:
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    workers = int(os.environ.get("WORKERS", "1"))
    print(f"database: {database_url()}")
    print("create an API key:  make key TENANT=env-1   (Versori: TENANT=<organisation ULID>)")
    print(f"then:  curl -H 'Authorization: Bearer <key>' http://127.0.0.1:{port}/environments/env-1/externalServices")
    print(f"docs:  http://127.0.0.1:{port}/docs")
    uvicorn.run("app.main:create", factory=True, host="127.0.0.1", port=port, workers=workers,
                http=SlowClientsClosed, timeout_keep_alive=5, limit_concurrency=LIMIT_CONCURRENCY)


if __name__ == "__main__":
    main()
