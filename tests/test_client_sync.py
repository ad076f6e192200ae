"""The sync client against the real server over a uvicorn socket: CRUD, pagination, typed errors, auth."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations import models
from integrations.client import Client, NotFoundError, PermissionDeniedError

from .conftest import serving


def test_sync_client_over_a_socket(tmp_path: Path) -> None:
    from app.auth import issue_key
    from app.db import make_engine
    from app.main import create

    engine = make_engine(f"sqlite:///{tmp_path / 'sync.db'}")
    app = create(engine, data_dir=tmp_path, public_url="http://127.0.0.1")
    admin = issue_key(engine, "env-1", ["connector:read", "connector:write"])
    reader = issue_key(engine, "env-1", ["connector:read"])
    with serving(app) as base_url:
        with Client(base_url, bearer_token=admin) as client:
            p = client.patchworks_connectors
            for name in ("b", "a", "c"):
                p.patchworks_connectors_store(body=models.PatchworksConnectorStoreRequest(
                    name=name, authentication_implementation_id="1", timezone="UTC", date_format="Y-m-d",
                    rate_limit_unit="second", rate_limit_duration=1))
            assert [c.name for c in p.iter_patchworks_connectors_index(sort="name", per_page=1)] == ["a", "b", "c"]
            first = p.patchworks_connectors_index(per_page=1).data[0]
            assert p.patchworks_connectors_show(connector=first.id).data.name == first.name
            p.patchworks_connectors_destroy(connector=first.id)
            with pytest.raises(NotFoundError) as caught:
                p.patchworks_connectors_show(connector=first.id)
            assert caught.value.problem["status"] == 404
        with Client(base_url, api_key=reader) as read_only:
            with pytest.raises(PermissionDeniedError):
                read_only.patchworks_connectors.patchworks_connectors_destroy(connector="x")
    engine.dispose()
