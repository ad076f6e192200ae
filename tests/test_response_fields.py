"""What the server always sets is required where the client reads it: a readOnly property the spec lists as
required is a plain field of the response model (no `| MISSING`) and absent from the request model."""

from __future__ import annotations

import json
from pathlib import Path

from integrations import models

SPEC = json.loads((Path(__file__).parent.parent / "generated/integrations/openapi.json").read_text())


def read_only_required() -> list[tuple[str, str]]:
    found = []
    for name, schema in SPEC["components"]["schemas"].items():
        properties = schema.get("properties") or {}
        found += [(name, p) for p in schema.get("required") or [] if (properties.get(p) or {}).get("readOnly")]
    return found


def test_read_only_fields_the_server_always_sets_are_required_in_responses_and_absent_from_requests() -> None:
    pairs = read_only_required()
    assert ("ExternalService", "id") in pairs and ("ConnectorVersion", "isLatest") in pairs, pairs
    for schema, field in pairs:
        response = getattr(models, f"{schema}Response")
        request = getattr(models, f"{schema}Request")
        assert response.model_fields[field].is_required(), (schema, field)
        assert field not in request.model_fields, (schema, field)
