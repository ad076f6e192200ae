"""Each house rule fires on the broken spec, at the right file, line and pointer; our own spec is clean."""

from pathlib import Path
from typing import Any

import pytest

from generator.diagnostics import SpecError
from generator.lint import is_secret_name, lint
from generator.load import load_spec

HERE = Path(__file__).parent
ROOT = HERE.parent


def findings(path: Path) -> list[tuple[str, int, str, str]]:
    return [(d.rule, d.line, d.pointer, d.message) for d in lint(load_spec(path))]


def test_project_spec_is_valid_and_passes_house_rules() -> None:
    assert lint(load_spec(ROOT / "spec" / "openapi.yaml")) == []


def test_every_house_rule_fires_on_the_broken_spec() -> None:
    found = findings(HERE / "failures" / "broken" / "openapi.yaml")
    rules = {rule for rule, *_ in found}
    assert rules == {
        "operation-id",
        "operation-tag",
        "operation-summary",
        "operation-security",
        "operation-2xx",
        "operation-400",
        "link-operation",
        "secret-write-only",
        "write-only-required",
        "nullable-31",
        "required-cycle",
        "object-type-implied",
        "example-valid",
        "no-unused-component",
    }
    messages = {(rule, line, pointer) for rule, line, pointer, _ in found}
    assert ("operation-2xx", 32, "/paths/~1other/get/responses") in messages  # only a 404
    assert ("operation-400", 13, "/paths/~1things/get/responses") in messages
    assert ("link-operation", 24, "/paths/~1things/post/responses/201/links/ReadIt/operationId") in messages
    assert ("operation-id", 8, "/paths/~1things/get/operationId") in messages  # not snake_case
    assert ("operation-id", 19, "/paths/~1things/post") in messages  # missing
    assert ("operation-tag", 28, "/paths/~1other/get/tags") in messages  # undeclared tag
    assert ("secret-write-only", 45, "/components/schemas/Thing/properties/password") in messages
    assert ("write-only-required", 41, "/components/schemas/Thing/required") in messages
    assert ("nullable-31", 48, "/components/schemas/Thing/properties/nickname/nullable") in messages
    assert ("example-valid", 50, "/components/schemas/Thing/examples/0") in messages
    assert ("required-cycle", 53, "/components/schemas/Loop") in messages
    assert ("object-type-implied", 58, "/components/schemas/Untyped") in messages
    assert not [p for r, _, p in messages if r == "object-type-implied" and "Extended" in p]  # beside a $ref
    assert ("object-type-implied", 69, "/components/schemas/Choices/oneOf/1") in messages  # a string is no reason
    assert ("no-unused-component", 51, "/components/schemas/Unused") in messages
    # tokenEndpoint and a boolean `secret` flag are not secrets
    assert not any("tokenEndpoint" in p or p.endswith("/secret") for _, _, p, _ in found)


def test_a_ref_to_a_missing_target_names_file_line_and_pointer() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(HERE / "failures" / "bad_ref" / "openapi.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.rule) == ("paths.yaml", 8, "ref-resolves")
    assert diagnostic.pointer == "/paths/~1things/get/responses/200/content/application~1json/schema"
    assert "schemas.yaml" in diagnostic.message


def test_duplicate_operation_ids_are_rejected(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n"
        "    get: {operationId: same, responses: {'200': {description: ok}}}\n"
        "    put: {operationId: same, responses: {'200': {description: ok}}}\n"
    )
    assert any("same" in d.message and "not unique" in d.message for d in lint(load_spec(spec)))


def test_yaml_syntax_error_names_file_and_line() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(HERE / "failures" / "bad_yaml" / "openapi.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.rule) == ("openapi.yaml", 4, "yaml-syntax")


def test_validator_errors_are_placed_in_the_source(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      responses:\n"
        "        '200': {descripton: typo}\n"
    )
    found = lint(load_spec(spec))
    assert found and all(d.rule == "openapi-schema" for d in found)
    assert any(d.line == 7 for d in found), [str(d) for d in found]


def test_unicode_patterns_are_checked_with_ecma_semantics(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    Name:\n"
        "      type: string\n      pattern: '^[\\p{L}\\p{Zs}]+$'\n      examples: ['Café au lait', 'a<b']\n"
    )
    found = [d for d in lint(load_spec(spec)) if d.rule == "example-valid"]
    assert [d.pointer for d in found] == ["/components/schemas/Name/examples/1"]


def test_examples_follow_the_direction_of_read_only_and_write_only_requirements(tmp_path: Path) -> None:
    """A required readOnly property is required only in responses, a required writeOnly one only in requests: a
    request example may omit the first, a response example the second, and a component's own example either."""
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        "paths:\n  /things:\n    post:\n"
        "      requestBody:\n        content:\n          application/json:\n"
        "            schema: {$ref: '#/components/schemas/Thing'}\n"
        "            examples: {sent: {value: {name: a, secret: s}}, bad: {value: {name: a}}}\n"
        "      responses:\n        '201':\n          description: made\n          content:\n"
        "            application/json:\n              schema: {$ref: '#/components/schemas/Thing'}\n"
        "              examples: {made: {value: {id: '1', name: a}}, bad: {value: {name: a, secret: s}}}\n"
        "components:\n  schemas:\n    Thing:\n      type: object\n      required: [id, name, secret]\n"
        "      properties:\n        id: {type: string, readOnly: true}\n        name: {type: string}\n"
        "        secret: {type: string, writeOnly: true}\n"
        "      examples: [{name: a, secret: s}, {id: '1', name: a}, {name: a}]\n"
    )
    found = sorted(d.pointer for d in lint(load_spec(spec)) if d.rule == "example-valid")
    assert found == [
        "/components/schemas/Thing/examples/2",
        "/paths/~1things/post/requestBody/content/application~1json/examples/bad/value",
        "/paths/~1things/post/responses/201/content/application~1json/examples/bad/value",
    ]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("clientSecret", True),
        ("client_secret", True),
        ("password", True),
        ("accessToken", True),
        ("api_key", True),
        ("privateKey", True),
        ("tokenEndpoint", False),
        ("tokenEndpointAuthType", False),
        ("secrets", False),
        ("keyboard", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_json_specs_load_fast_and_still_place_errors_on_their_lines(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text('{\n "openapi": "3.1.0",\n "info": {"title": "t", "version": "1"},\n "paths": {\n  "/a": {\n'
                    '   "get": {\n    "responses": {\n     "200": {"descripton": "typo"}\n    }\n   }\n  }\n }\n}\n')
    found = lint(load_spec(spec))
    assert found and {(d.file, d.line) for d in found} == {("openapi.json", 8)}, [str(d) for d in found]


@pytest.mark.parametrize(
    ("name", "text", "line", "rule"),
    [
        ("openapi.json", '{\n "openapi": "3.1.0",\n "info": {\n}\n,}\n', 5, "json-syntax"),
        ("openapi.json", '{\n "openapi": "3.1.0",\n "openapi": "3.0.0"\n}\n', 3, "yaml-syntax"),
        ("openapi.yaml", "openapi: 3.1.0\ninfo: {}\ninfo: {}\n", 3, "yaml-syntax"),
    ],
)
def test_syntax_errors_and_duplicate_keys_name_their_line(tmp_path: Path, name: str, text: str, line: int,
                                                          rule: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path / name)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.rule) == (name, line, rule)


def test_yaml_is_read_as_yaml_1_2(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "x-values: {on: on, yes: yes, octal: 010, code: 200, when: 2024-01-02}\n"
        "x-scopes: [read:all, write:all]\n"  # libyaml refuses `:` in flow scalars; YAML 1.2 allows it
    )
    document = load_spec(spec).document
    assert document["x-values"] == {"on": "on", "yes": "yes", "octal": 10, "code": 200, "when": "2024-01-02"}
    assert document["x-scopes"] == ["read:all", "write:all"]


def test_merge_keys_keep_the_written_order_and_own_keys_win(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "x-base: &base {'400': a, '404': b}\n"
        "x-responses:\n  '200': ok\n  <<: *base\n  '404': own\n"
    )
    assert list(load_spec(spec).document["x-responses"].items()) == [("200", "ok"), ("404", "own"), ("400", "a")]


@pytest.mark.parametrize("spec", [ROOT / "spec" / "openapi.yaml", HERE / "failures" / "broken" / "openapi.yaml",
                                  HERE / "fixtures" / "small" / "openapi.yaml"], ids=lambda p: p.parent.name)
def test_validation_gives_the_stock_validators_verdict_cold_and_warm(spec: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Our validator is openapi-spec-validator with set-based dedupe and remembered meta-schema passes."""
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    from generator.lint import spec_version, validate

    monkeypatch.setenv("SPECGEN_CACHE", str(tmp_path))
    loaded = load_spec(spec)
    stock = OpenAPIV31SpecValidator if spec_version(loaded.document) == "3.1" else OpenAPIV30SpecValidator
    expected = sorted({error.message.splitlines()[0] for error in stock(loaded.document).iter_errors()})
    cold = sorted({d.message for d in validate(loaded)})
    warm = sorted({d.message for d in validate(loaded)})
    assert cold == warm == expected
    assert list(tmp_path.glob("validation/*.json"))  # passes were remembered


def test_a_schema_that_fails_the_meta_schema_fails_again_when_cached(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.lint import validate

    monkeypatch.setenv("SPECGEN_CACHE", str(tmp_path / "cache"))
    spec = tmp_path / "openapi.yaml"
    good = ("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
            "components: {schemas: {A: {type: string}, B: {type: string, minLength: 2}}}\n")
    spec.write_text(good)
    assert validate(load_spec(spec)) == []
    spec.write_text(good.replace("minLength: 2", "minLength: -1"))
    assert [d.message for d in validate(load_spec(spec))] == ["-1 is less than the minimum of 0"]
    assert [d.message for d in validate(load_spec(spec))] == ["-1 is less than the minimum of 0"]


def test_every_validator_error_is_placed_at_its_line_and_absolute_pointer(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("""openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /a/{id}:
    get:
      operationId: get_a
      parameters:
        - {name: n, in: query, schema: {type: integer, default: 'one'}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: integer, minimum: 'zero'}}}}
  /b:
    get:
      operationId: get_a
      responses:
        '200': {description: ok}
components:
  schemas:
    X: {type: strin}
    Y: {type: string, pattern: '('}
""")
    found = {(d.line, d.pointer) for d in lint(load_spec(spec))}
    assert found == {
        (4, "/paths/~1a~1{id}"),  # path parameter not declared
        (8, "/paths/~1a~1{id}/get/parameters/0/schema"),  # default of the wrong type
        (10, "/paths/~1a~1{id}/get/responses/200/content/application~1json/schema/minimum"),
        (11, "/paths/~1b"),  # duplicate operationId
        (18, "/components/schemas/X/type"),
        (19, "/components/schemas/Y/pattern"),
    }


def test_percent_encoded_ref_fragments_resolve(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("""openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /a/{id}:
    get:
      operationId: get_a
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: object, properties: {n: {type: integer}}}}}}
  /b/{id}:
    get:
      operationId: get_b
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {$ref: '#/paths/~1a~1%7Bid%7D/get/responses/200'}
""")
    loaded = load_spec(spec)
    assert loaded.document["paths"]["/b/{id}"]["get"]["responses"]["200"] == {"$ref": "#/paths/~1a~1{id}/get/responses/200"}
    assert lint(loaded, house_rules=False) == []


def test_a_document_valid_but_for_its_prose_is_not_validated_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from generator.lint import validate

    monkeypatch.setenv("SPECGEN_CACHE", str(tmp_path / "cache"))
    spec = tmp_path / "openapi.yaml"
    text = ("openapi: 3.1.0\ninfo: {title: t, version: '1', description: first}\npaths:\n  /a:\n    get:\n"
            "      summary: List\n      responses: {'200': {description: ok}}\n"
            "components: {schemas: {A: {type: string, default: x, description: a}}}\n")
    spec.write_text(text)
    assert validate(load_spec(spec)) == []
    spec.write_text(text.replace("summary: List", "summary: List them all").replace("description: a", "description: b"))
    monkeypatch.setitem(sys.modules, "openapi_spec_validator", None)  # importing it now would fail
    assert validate(load_spec(spec)) == []
    spec.write_text(text.replace("default: x", "default: 7"))  # not prose: validated (and the import is needed)
    with pytest.raises(ImportError):
        validate(load_spec(spec))


def test_a_validator_that_fails_is_a_finding_not_a_crash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import lint as lint_module

    class Failing:
        def __init__(self, document: Any):
            pass

        def iter_errors(self) -> Any:
            raise KeyError("x-codegen-contextRoot")

    monkeypatch.setenv("SPECGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(lint_module, "_spec_validator", lambda *args: Failing)
    (diagnostic,) = lint_module.validate(load_spec(ROOT / "tests" / "fixtures" / "small" / "openapi.yaml"))
    assert (diagnostic.rule, diagnostic.message) == (
        "validator-failed", "openapi-spec-validator could not check the whole document (KeyError: 'x-codegen-contextRoot')")


def test_required_cycle_fires_only_where_no_finite_value_exists(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    ref = "{$ref: '#/components/schemas/%s'}"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
                    f"    Loop: {{type: object, required: [next], properties: {{next: {ref % 'Loop'}}}}}\n"
                    f"    A: {{type: object, required: [b], properties: {{b: {ref % 'B'}}}}}\n"
                    f"    B: {{allOf: [{ref % 'A'}]}}\n"
                    f"    Untyped: {{required: [next], properties: {{next: {ref % 'Untyped'}}}}}\n"
                    f"    Nullable: {{type: object, nullable: true, required: [n], properties: {{n: {ref % 'Nullable'}}}}}\n"
                    f"    Either: {{type: object, required: [e], properties: {{e: {ref % 'Choice'}}}}}\n"
                    f"    Choice: {{oneOf: [{ref % 'Either'}, {{type: string}}]}}\n"
                    f"    Listed: {{type: object, required: [kids], properties: {{kids: {{type: array, items: {ref % 'Listed'}}}}}}}\n"
                    f"    Inherits: {{allOf: [{ref % 'Base'}]}}\n"
                    f"    Base: {{type: object, properties: {{x: {{type: string}}}}}}\n")
    cycles = sorted(d.pointer for d in lint(load_spec(spec)) if d.rule == "required-cycle")
    assert cycles == ["/components/schemas/A", "/components/schemas/B", "/components/schemas/Loop"]


def test_a_composition_part_is_an_object_where_a_31_type_list_beside_it_says_so(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
                    "    A:\n      type: [object, 'null']\n      oneOf:\n        - properties: {a: {type: string}}\n"
                    "    B:\n      allOf:\n        - type: [object, 'null']\n        - properties: {c: {type: string}}\n"
                    "    C:\n      anyOf:\n        - {type: [string, 'null']}\n        - properties: {c: {type: string}}\n")
    implied = [d.pointer for d in lint(load_spec(spec)) if d.rule == "object-type-implied"]
    assert implied == ["/components/schemas/C/anyOf/1"]


def test_implied_objects_skip_what_a_value_must_not_be() -> None:
    from generator.lint import implied_objects

    document = {"openapi": "3.1.0", "components": {"schemas": {
        "NotAdmin": {"not": {"properties": {"admin": {"const": True}}, "required": ["admin"]}},
        "Open": {"properties": {"not": {"properties": {"x": {"type": "string"}}}}}}}}
    assert implied_objects(document) == ["/components/schemas/Open", "/components/schemas/Open/properties/not"]


def test_not_required_reads_an_annotation_beside_a_ref() -> None:
    from generator.diagnostics import not_required

    document = {"components": {"schemas": {"Secret": {"type": "string"}, "Login": {
        "type": "object", "required": ["user", "password"],
        "properties": {"user": {"type": "string"}, "password": {"$ref": "#/components/schemas/Secret", "writeOnly": True}}}}}}
    assert not_required(document, "writeOnly")["components"]["schemas"]["Login"]["required"] == ["user"]
    assert document["components"]["schemas"]["Login"]["required"] == ["user", "password"]  # a copy


def test_the_per_type_subscriptable_check_answers_as_pathables_protocol() -> None:
    from collections import OrderedDict, UserDict

    import pathable.accessors
    import pathable.protocols

    from generator.lint import _subscriptable_checked_per_type

    class WithoutItems(dict[str, Any]):
        __getitem__ = None  # type: ignore[assignment]

    values = [{}, [], "s", b"b", (), range(3), OrderedDict(), UserDict(), 1, 1.5, None, set(), object(), WithoutItems()]
    expected = [isinstance(value, pathable.protocols.Subscriptable) for value in values]
    _subscriptable_checked_per_type()
    assert pathable.accessors.Subscriptable is not pathable.protocols.Subscriptable  # it replaced the check
    assert [isinstance(value, pathable.accessors.Subscriptable) for value in values] == expected
    assert expected == [True] * 8 + [False] * 6
