import pytest

from generator.build_ir import _route_path
from generator.naming import class_name, py_literal, snake_name, unique


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("filter[system_template_id]", "filter_system_template_id"),
        ("filter[forSystemTemplate]", "filter_for_system_template"),
        ("NamedCredentialReferenceId", "named_credential_reference_id"),
        ("environmentId", "environment_id"),
        ("id", "id_"),
        ("type", "type_"),
        ("format", "format_"),
        ("class", "class_"),
        ("2fa", "field_2_fa"),
        ("X-API-Key", "x_api_key"),
        ("auth-scheme-configs", "auth_scheme_configs"),
        ("HTTPConnector", "http_connector"),
        ("$ref", "ref"),
        ("", "field"),
    ],
)
def test_snake_name(raw: str, expected: str) -> None:
    assert snake_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("External Data Sources", "ExternalDataSources"),
        ("versori connectors", "VersoriConnectors"),
        ("list_external_services", "ListExternalServices"),
        ("3d-models", "Model3DModels"),
        ("None", "None_"),
    ],
)
def test_class_name(raw: str, expected: str) -> None:
    assert class_name(raw) == expected


def test_collisions_are_resolved_in_order() -> None:
    assert unique(["a", "b", "a", "a", "a_2"]) == ["a", "b", "a_3", "a_4", "a_2"]


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/anything/{id}/{action}/{id}", "/anything/{id}/{action}/{id__2}"),
        ("/a/{x}/{x}/{x}", "/a/{x}/{x__2}/{x__3}"),
        ("/sources/{id}", "/sources/{id}"),
    ],
)
def test_repeated_path_variables_get_route_names_of_their_own(path: str, route: str) -> None:
    assert _route_path(path) == route


@pytest.mark.parametrize(
    "text", ["a", "it's", 'say "hi"', "both ' and \"", "back\\slash", "nl\n", "é", "\\'", "\\' and \"", "x\\\\\"'"]
)
def test_string_literals_read_back_and_prefer_double_quotes(text: str) -> None:
    literal = py_literal(text)
    assert eval(literal) == text
    assert literal.startswith('"') or '"' in text and "'" not in text
