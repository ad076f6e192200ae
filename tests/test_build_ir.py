"""The IR builder on small inline specs: paging facts decided from the schema, one case per style."""

from __future__ import annotations

from typing import Any

import pytest

from generator import ir
from generator.build_ir import build_api
from generator.models import emit_models, inline_schemas


def api_of(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> ir.Api:
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths,
                "components": {"schemas": schemas or {}}}
    inline = inline_schemas(document)
    api, _ = build_api(document, emit_models(document, "t.yaml", inline), "t", inline)
    return api


def listing(parameters: list[str], page: dict[str, Any]) -> dict[str, Any]:
    return {"/things": {"get": {
        "operationId": "list_things",
        "parameters": [{"name": name, "in": "query", "schema": {"type": "integer"}} for name in parameters],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": page}}}}}}}


THING = {"type": "object", "properties": {"id": {"type": "string"}}}
ARRAY = {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}


@pytest.mark.parametrize(
    ("parameters", "page", "expected"),
    [
        (["offset", "limit"], {"type": "object", "properties": {"totalSize": {"type": "integer"}, "records": ARRAY}},
         ("offset", ("records",), "limit", (), ("totalSize",), ())),
        (["offset", "limit"], {"type": "object", "properties": {"_embedded": {"type": "object", "properties": {
            "things": ARRAY}}, "count": {"type": "integer"}}},
         ("offset", ("_embedded", "things"), "limit", (), ("count",), ())),
        (["offset", "limit"], {"type": "object", "properties": {"results": ARRAY}},
         ("offset", ("results",), "limit", (), (), ())),
        (["page", "per_page"], {"type": "object", "properties": {"data": ARRAY, "meta": {
            "type": "object", "properties": {"last_page": {"type": "integer"}}}}},
         ("page", ("data",), "per_page", (), (), ("meta", "last_page"))),
        (["page"], {"type": "object", "properties": {"items": ARRAY}}, ("page", ("items",), "", (), (), ())),
        (["after", "first"], {"type": "object", "properties": {"items": ARRAY, "next": {"type": "string"}}},
         ("cursor", ("items",), "first", ("next",), (), ())),
    ],
    ids=["offset-total", "offset-hal", "offset-no-total", "page-last-page", "page-no-size", "cursor"],
)
def test_paging_facts_come_from_the_schema(parameters: list[str], page: dict[str, Any], expected: tuple[Any, ...]) -> None:
    (tag,) = api_of(listing(parameters, page), {"Thing": THING}).tags
    pagination = tag.operations[0].pagination
    assert pagination is not None
    assert (pagination.style, pagination.items_path, pagination.size_param, pagination.next_path,
            pagination.total_path, pagination.last_page_path) == expected
    assert pagination.items_annotation == "models.Thing" and pagination.method == "iter_list_things"


@pytest.mark.parametrize("page", [
    {"type": "object", "properties": {"data": {"type": "object", "properties": {"tags": ARRAY}}}},  # one resource
    {"type": "object", "properties": {"name": {"type": "string"}}},
])
def test_a_response_without_a_list_of_items_is_not_paged(page: dict[str, Any]) -> None:
    (tag,) = api_of(listing(["page", "per_page"], page), {"Thing": THING}).tags
    assert tag.operations[0].pagination is None


def test_an_operation_named_like_a_request_does_not_stutter() -> None:
    paths = {"/invoke": {"post": {"operationId": "invoke_service_request",
                                  "responses": {"204": {"description": "done"}}}}}
    (tag,) = api_of(paths).tags
    assert (tag.operations[0].request_class, tag.operations[0].result_class) == (
        "InvokeServiceRequestInput", "InvokeServiceRequestResult")


def test_accept_content_type_and_authorization_header_parameters_are_ignored_with_a_warning() -> None:
    """OpenAPI: such header parameters "SHALL be ignored" (media types and security schemes own those headers)."""
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {
        "operationId": "get_a",
        "parameters": [{"name": name, "in": "header", "schema": {"type": "string", "enum": ["x"]}}
                       for name in ("Accept", "content-type", "Authorization", "X-Trace")],
        "responses": {"200": {"description": "ok"}}}}}}
    inline = inline_schemas(document)
    api, warnings = build_api(document, emit_models(document, "t.yaml", inline), "t", inline)
    (operation,) = api.tags[0].operations
    assert [p.name for p in operation.parameters] == ["X-Trace"]
    assert [w.rule for w in warnings].count("header-parameter-ignored") == 3


def test_only_a_structured_body_is_read_in_other_media_types_and_a_redirect_makes_the_result_optional() -> None:
    pet = {"$ref": "#/components/schemas/Pet"}
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"post": {
        "operationId": "post_a",
        "requestBody": {"content": {"text/xml": {"schema": pet}, "application/xml": {"schema": pet}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": pet}}},
                      "303": {"description": "see", "content": {"text/plain": {"schema": {"type": "string"}}}}}}}},
        "components": {"schemas": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}}}}
    inline = inline_schemas(document)
    api, warnings = build_api(document, emit_models(document, "t.yaml", inline), "t", inline)
    (operation,) = api.tags[0].operations
    assert operation.request_body is not None and operation.request_body.annotation == "str"  # text/xml, as text
    assert [m.content_type for m in operation.request_body.media] == ["text/xml"]  # XML cannot become a str
    assert "request-media-unread" in [w.rule for w in warnings]
    assert operation.client_returns == "models.Pet | None" and operation.redirects == (303,)


def test_an_open_exploded_query_object_takes_the_other_keys_and_says_unknown_ones_are_not_refused() -> None:
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {
        "operationId": "get_a", "parameters": [
            {"name": "labels", "in": "query", "schema": {"type": "object", "additionalProperties": {"type": "string"}}},
            {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok"}}}}}}
    api, warnings = build_api(document, emit_models(document, "t.yaml", {}), "t", {})
    (operation,) = api.tags[0].operations
    labels = next(p for p in operation.parameters if p.name == "labels")
    assert labels.takes_other_keys == ("limit",) and not operation.rejects_unknown_query
    assert [w.pointer for w in warnings if w.rule == "query-object-open"] == ["/paths/~1a/get/parameters"]


def test_a_requirement_no_request_can_meet_is_a_warning() -> None:
    document = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {
        "operationId": "get_a", "security": [{"basic": [], "oauth": ["read"]}, {"basic": [], "key": []}],
        "responses": {"200": {"description": "ok"}}}}},
        "components": {"securitySchemes": {
            "basic": {"type": "http", "scheme": "basic"},
            "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://t", "scopes": {}}}},
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
            "cert": {"type": "mutualTLS"}}}}
    api, warnings = build_api(document, emit_models(document, "t.yaml", {}), "t", {})
    assert [(w.pointer, w.message.split(" together")[0]) for w in warnings if w.rule == "security-unmeetable"] == [
        ("/paths/~1a/get/security/0", "one requirement asks for basic, oauth")]  # basic with X-Key can be met
    # a client certificate is the TLS layer's: met only where the ASGI server reports one, so said
    assert [w.pointer for w in warnings if w.rule == "security-unsupported"] == ["/components/securitySchemes/cert"]
    assert [s.name for s in api.security_schemes] == ["basic", "oauth", "key", "cert"]
