"""Schemathesis against the real application: every operation, generated valid and invalid inputs, all checks
(no 5xx, documented status, content type and headers, body schema, auth). Bounded here; `make conformance-deep`
raises the example count through CONFORMANCE_EXAMPLES."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from app.auth import issue_key
from app.db import Resource, fresh_engine
from app.keys import ALL_SCOPES
from app.main import create
from generator import conformance
from integrations.server import openapi_document

EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "12"))
STATEFUL = int(os.environ.get("CONFORMANCE_STATEFUL_EXAMPLES", "15"))
PATHS = os.environ.get("CONFORMANCE_PATHS")  # a regex: only those operations (tests/test_drift.py)
# The same examples every run, so CI is repeatable; CONFORMANCE_RANDOM=1 (make conformance-deep) explores.
DERANDOMIZE = os.environ.get("CONFORMANCE_RANDOM") != "1"
ENVIRONMENT, ORGANISATION = "env-1", "01J9Z3Q8K2W6T4Y7B5N1M0C3XD"
TENANT_PARAMETERS = {"environmentId": ENVIRONMENT, "environment_id": ENVIRONMENT, "organisation_id": ORGANISATION}

_DATA = Path(tempfile.mkdtemp(prefix="specgen-conformance-"))
# SQLite here; `make reliability` runs it on PostgreSQL too (CONFORMANCE_DATABASE_URL).
_ENGINE = fresh_engine(os.environ.get("CONFORMANCE_DATABASE_URL", ""), _DATA)
SUMMARY: list[str] = []
APP = create(_ENGINE, data_dir=_DATA, public_url="http://localhost")
KEYS = {tenant: issue_key(_ENGINE, tenant, ALL_SCOPES) for tenant in (ENVIRONMENT, ORGANISATION)}

# A schema-valid body can still break a rule JSON Schema cannot state (a request naming an auth scheme the
# service lacks, a prefix already taken); the spec documents 400 for those, so 400 is an expected answer here.
CONFIG = {"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "429"]}}}


def tenant_key(case: object) -> dict[str, str]:
    """The real credential: the key of the tenant the operation's path belongs to."""
    path = case.operation.path  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {KEYS[ORGANISATION if '/api/connect/' in path else ENVIRONMENT]}"}


def in_own_tenant(case: object) -> None:
    """Point tenant parameters at the key's tenant so requests reach real data, not only 404s (an invalid case is
    left as generated: it must be refused as it is)."""
    meta = getattr(case, "_meta", None)
    if meta is not None and str(meta.generation.mode) == "negative":
        return
    parameters = case.path_parameters  # type: ignore[attr-defined]
    for name, value in TENANT_PARAMETERS.items():
        if parameters and name in parameters:
            parameters[name] = value


def empty_database() -> None:
    """Every stateful chain starts from an empty database (keys stay), so chains are independent and replayable."""
    with _ENGINE.begin() as connection:
        connection.execute(Resource.__table__.delete())


def test_every_operation_conforms() -> None:
    """`specgen conformance` (generator.conformance) as a user runs it, on the real app in process: every
    operation with generated valid and invalid inputs, 401 without credentials, the stateful chains along links."""
    report = conformance.run(openapi_document(), app=APP, headers_for=tenant_key, before_call=in_own_tenant,
                             reset=empty_database, examples=EXAMPLES, stateful=STATEFUL, config=CONFIG,
                             derandomize=DERANDOMIZE, paths=PATHS)
    SUMMARY[:] = [f"schemathesis: {sum(o.cases for o in report.outcomes)} cases sent on {_ENGINE.dialect.name}, "
                  f"{len(report.outcomes)} checked"]
    assert not report.failed, "\n".join(report.lines())
    assert PATHS or len([o for o in report.outcomes if o.label.endswith("without credentials")]) == 78
