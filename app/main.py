"""The application: generated routers + these handlers + a database. `create(...)` is what servers and tests run."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError

from integrations.server import Handlers, create_app, openapi_document

from .auth import KeyAuthenticator
from .crypto import Vault, load_key
from .db import DATA_DIR, make_engine
from .egress import Egress
from .handlers.data_sources import ExternalDataSources
from .handlers.external_services import ExternalServices
from .handlers.patchworks import PatchworksConnectors
from .handlers.registrations import ExternalServiceRegistrations
from .handlers.versori import VersoriConnect
from .store import Store

PUBLIC_URL = os.environ.get("SPECGEN_PUBLIC_URL", "http://127.0.0.1:8000")
# The database driver's errors that mean the database, not the request, failed (locked, read-only, down): 503.
DATABASE_FAULTS = (OperationalError, InterfaceError, InternalError)


def create(engine: Engine | None = None, *, data_dir: Path = DATA_DIR, public_url: str = PUBLIC_URL,
           egress: Egress | None = None) -> FastAPI:
    """The app; `egress` (default: SPECGEN_EGRESS_ALLOW, else public addresses only) bounds outbound calls."""
    engine = engine or make_engine()
    egress = egress or Egress.from_environment()
    store = Store(engine, Vault(load_key(data_dir)), openapi_document())
    handlers = Handlers(
        external_services=ExternalServices(store, egress),
        external_service_registrations=ExternalServiceRegistrations(store),
        external_data_sources=ExternalDataSources(store, public_url, egress),
        versori_connect=VersoriConnect(store, public_url),
        patchworks_connectors=PatchworksConnectors(store, public_url),
    )
    app = create_app(handlers, KeyAuthenticator(engine), unavailable=DATABASE_FAULTS)
    app.state.engine = engine
    app.state.store = store
    app.state.handlers = handlers
    return app
