"""`make serve`: the API on 127.0.0.1:8000 with a SQLite file in .data/ (or DATABASE_URL)."""

from __future__ import annotations

import uvicorn

from .db import database_url
from .main import create


def main() -> None:
    print(f"database: {database_url()}")
    print("create an API key:  .venv/bin/python -m app.keys create --tenant env-1 --scope environment:admin")
    print("then:  curl -H 'Authorization: Bearer <key>' http://127.0.0.1:8000/environments/env-1/externalServices")
    print("docs:  http://127.0.0.1:8000/docs")
    uvicorn.run(create(), host="127.0.0.1", port=8000)


if __name__ == "__main__":
    main()
