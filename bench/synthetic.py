"""A valid OpenAPI 3.1 document with N CRUD resources, for measuring how generation scales with spec size."""

from __future__ import annotations

import json
import sys
from typing import Any


def resource(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    name = f"Resource{i}"
    schema = {
        "type": "object",
        "required": ["name", "kind"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "readOnly": True},
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "count": {"type": "integer", "minimum": 0},
            "kind": {"type": "string", "enum": ["a", "b", "c"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"type": ["string", "null"]},
        },
    }
    page = {"type": "object", "required": ["count", "results"],
            "properties": {"count": {"type": "integer"}, "results": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}}}
    ref = {"$ref": f"#/components/schemas/{name}"}
    body = {"required": True, "content": {"application/json": {"schema": ref}}}
    ok = {"description": "ok", "content": {"application/json": {"schema": ref}}}
    errors = {"404": {"description": "not found"}}
    tag = [f"resource{i}"]
    item_param = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]
    paths = {
        f"/resources{i}": {
            "get": {"operationId": f"list_resource{i}", "tags": tag, "summary": "List", "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}Page"}}}}, **errors}},
            "post": {"operationId": f"create_resource{i}", "tags": tag, "summary": "Create", "requestBody": body,
                     "responses": {"201": ok, **errors}},
        },
        f"/resources{i}/{{id}}": {
            "parameters": item_param,
            "get": {"operationId": f"get_resource{i}", "tags": tag, "summary": "Get", "responses": {"200": ok, **errors}},
            "put": {"operationId": f"update_resource{i}", "tags": tag, "summary": "Update", "requestBody": body,
                    "responses": {"200": ok, **errors}},
            "delete": {"operationId": f"delete_resource{i}", "tags": tag, "summary": "Delete",
                       "responses": {"204": {"description": "gone"}, **errors}},
        },
    }
    return {name: schema, f"{name}Page": page}, paths


def document(count: int) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for i in range(count):
        more_schemas, more_paths = resource(i)
        schemas.update(more_schemas)
        paths.update(more_paths)
    return {"openapi": "3.1.0", "info": {"title": f"Synthetic {count}", "version": "1"},
            "servers": [{"url": "http://127.0.0.1:8000"}], "paths": paths, "components": {"schemas": schemas}}


if __name__ == "__main__":
    json.dump(document(int(sys.argv[1])), sys.stdout, indent=1)
