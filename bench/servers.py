"""App factories for the server benchmark: the generated server with app/ handlers, and a hand-written minimal
FastAPI app doing the same database work (same table, same JSON), for `uvicorn --factory`."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

DATA = Path(os.environ.get("BENCH_DATA", ".cache/bench/server"))


def generated() -> FastAPI:
    from app.main import create

    return create(data_dir=DATA, public_url="http://127.0.0.1")


def handwritten() -> FastAPI:
    from app.auth import hash_key
    from app.db import ApiKey, Resource, make_engine, utcnow

    engine = make_engine()
    app = FastAPI()

    def tenant(request: Request) -> str | None:
        key = request.headers.get("x-api-key", "")
        with Session(engine) as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
            return row.tenant if row else None

    @app.get("/api/v1/connectors")
    def index(request: Request, page: int = 1, per_page: int = 15) -> Any:
        owner = tenant(request)
        if owner is None:
            return JSONResponse({"title": "Unauthorized"}, status_code=401)
        mine = (Resource.tenant == owner, Resource.kind == "patchworks_connector")
        with Session(engine) as session:  # one page from the database, as the generated server reads it
            total = session.scalar(select(func.count()).select_from(Resource).where(*mine))
            rows = list(session.scalars(select(Resource).where(*mine).order_by(Resource.seq)
                                        .offset((page - 1) * per_page).limit(per_page)))
        return {"data": [{**r.body, "id": r.id} for r in rows], "meta": {"current_page": page, "total": total}}

    @app.post("/api/v1/connectors")
    async def store(request: Request) -> Any:
        owner = tenant(request)
        if owner is None:
            return JSONResponse({"title": "Unauthorized"}, status_code=401)
        body = await request.json()
        row = Resource(id=str(uuid.uuid4()), tenant=owner, kind="patchworks_connector", parent="", unique_name=None,
                       body=body, secrets=None, created_at=utcnow(), updated_at=utcnow())
        with Session(engine) as session:
            session.add(row)
            session.commit()
            return {"data": {**body, "id": row.id}}

    return app
