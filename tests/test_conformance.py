"""Schemathesis against the real application: every operation, generated valid and invalid inputs, all checks
(no 5xx, documented status, content type and headers, body schema, auth). Bounded here; `make conformance-deep`
raises the example count through CONFORMANCE_EXAMPLES."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import schemathesis
from schemathesis.config import SchemathesisConfig
from hypothesis import HealthCheck, settings

from app.auth import issue_key
from app.db import Resource, fresh_engine
from app.keys import ALL_SCOPES
from app.main import create

EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "12"))
# The same examples every run, so CI is repeatable; CONFORMANCE_RANDOM=1 (make conformance-deep) explores.
DERANDOMIZE = os.environ.get("CONFORMANCE_RANDOM") != "1"
ENVIRONMENT, ORGANISATION = "env-1", "01J9Z3Q8K2W6T4Y7B5N1M0C3XD"
TENANT_PARAMETERS = {"environmentId": ENVIRONMENT, "environment_id": ENVIRONMENT, "organisation_id": ORGANISATION}

_DATA = Path(tempfile.mkdtemp(prefix="specgen-conformance-"))
# SQLite here; `make reliability` runs it on PostgreSQL too (CONFORMANCE_DATABASE_URL).
_ENGINE = fresh_engine(os.environ.get("CONFORMANCE_DATABASE_URL", ""), _DATA)
CASES = [0]  # requests sent, for the summary line
SUMMARY: list[str] = []
APP = create(_ENGINE, data_dir=_DATA, public_url="http://localhost")
KEYS = {tenant: issue_key(_ENGINE, tenant, ALL_SCOPES) for tenant in (ENVIRONMENT, ORGANISATION)}

# A schema-valid body can still break a rule JSON Schema cannot state (a request naming an auth scheme the
# service lacks, a prefix already taken); the spec documents 400 for those, so 400 is an expected answer here.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "429"]}}})
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@schema.auth()
class TenantKey:
    """The real credential: the key of the tenant the operation's path belongs to. Schemathesis knows it as auth,
    so its own auth checks (missing or wrong credentials must get 401/403) still run."""

    def get(self, case: schemathesis.Case, context: object) -> str:
        return KEYS[ORGANISATION if "/api/connect/" in case.operation.path else ENVIRONMENT]

    def set(self, case: schemathesis.Case, data: str, context: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def in_own_tenant(case: schemathesis.Case) -> None:
    """Point tenant parameters at the key's tenant so requests reach real data, not only 404s."""
    for name, value in TENANT_PARAMETERS.items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=DERANDOMIZE,
          database=None)
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    in_own_tenant(case)
    CASES[0] += 1
    SUMMARY[:] = [f"schemathesis: {CASES[0]} cases sent on {_ENGINE.dialect.name}"]
    case.call_and_validate()


class Workflows(schema.as_state_machine()):  # type: ignore[misc]
    """Stateful phase: chains operations along the spec's OpenAPI links (create → read → update → delete)."""

    def before_call(self, case: schemathesis.Case) -> None:
        in_own_tenant(case)

    def teardown(self) -> None:
        """Every run starts from an empty database (keys stay), so runs are independent and replayable."""
        with _ENGINE.begin() as connection:
            connection.execute(Resource.__table__.delete())


TestWorkflows = Workflows.TestCase
TestWorkflows.settings = settings(
    max_examples=int(os.environ.get("CONFORMANCE_STATEFUL_EXAMPLES", "15")), stateful_step_count=6, deadline=None,
    suppress_health_check=list(HealthCheck), derandomize=DERANDOMIZE, database=None)
