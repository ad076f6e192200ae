"""datamodel-code-generator run on shares of the schemas at once, merged into the models one run writes: the same
component classes, inline models that two runs named alike numbered apart, and a failure in a worker reported as
one run reports it."""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from generator import models as models_stage
from generator.diagnostics import SpecError
from generator.models import (
    ModelsModule,
    _in_definition_order,
    _shares,
    _Unit,
    emit_models,
)

OWNER_LITERAL = {"type": "string", "const": "Owner"}  # a tag that names the class of an inline model: data


def _document() -> dict[str, Any]:
    """Two families of schemas that share only `Tag`, each with an inline `owner` object (both named Owner)."""
    pet_owner = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    car_owner = {"type": "object", "properties": {"licence": {"type": "string"}}, "required": ["licence"]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shards", "version": "1"},
        "paths": {},
        "components": {"schemas": {
            "Pet": {"type": "object", "required": ["owner"], "properties": {
                "owner": pet_owner, "tag": {"$ref": "#/components/schemas/Tag"},
                "friends": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                "description": {"type": "string", "description": "x" * 300}}},
            "Tag": {"type": "object", "required": ["label"], "properties": {"label": {"type": "string"}},
                    "example": {"$ref": "#/components/examples/not-a-schema"}},
            "Car": {"type": "object", "required": ["owner", "kind"], "properties": {
                "owner": car_owner, "kind": OWNER_LITERAL, "tag": {"$ref": "#/components/schemas/Tag"},
                "wheels": {"type": "integer", "description": "y" * 200}}},
            "Boat": {"type": "object", "properties": {"hull": {"$ref": "#/components/schemas/Hull"}}},
            "Hull": {"type": "object", "properties": {"example": {"$ref": "#/components/schemas/Tag"},
                                                      "Owner": {"type": "string"}}},  # a field, named like a model
        }},
    }


def _package(models: ModelsModule, root: Path, name: str) -> SimpleNamespace:
    """The models package, written under `root` and imported: each model from its module."""
    for path, source in {"__init__.py": "", "models/__init__.py": "", **models.files}.items():
        (root / name / path).parent.mkdir(parents=True, exist_ok=True)
        (root / name / path).write_text(source, encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        return SimpleNamespace(**{model: getattr(importlib.import_module(f"{name}.models.{module}"), model)
                                  for model, module in models.modules.items()})
    finally:
        sys.path.remove(str(root))


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECGEN_CACHE", str(tmp_path / "cache"))


def test_the_schemas_are_shared_out_with_what_they_refer_to() -> None:
    schemas = _document()["components"]["schemas"]
    shares = _shares(schemas, 2)
    assert shares is not None
    (pets, pet_document), (cars, car_document) = sorted(shares, key=lambda share: "Pet" not in share[0])
    assert "Pet" in pets and "Car" in cars
    assert sorted(pets + cars) == sorted(schemas)  # each schema has one owner
    assert {"Pet", "Tag"} <= pet_document and {"Car", "Tag"} <= car_document  # and goes where it is referred to
    assert "Hull" in (pet_document if "Boat" in pets else car_document)  # through a property named `example`


def test_a_reference_outside_the_schemas_keeps_one_run() -> None:
    schemas = _document()["components"]["schemas"]
    schemas["Car"]["properties"]["wheels"] = {"$ref": "wheels.yaml#/Wheels"}
    assert _shares(schemas, 2) is None
    schemas["Car"]["properties"]["wheels"] = {"$anchor": "wheels", "type": "integer"}
    assert _shares(schemas, 2) is None


def test_the_merged_models_are_those_of_one_run(tmp_path: Path) -> None:
    document = _document()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither run warns, nor does the merge
        whole = emit_models(document, "openapi.json", shards=1)
        sharded = emit_models(document, "openapi.json", shards=2)
    assert sharded.request_class == whole.request_class and sharded.response_class == whole.response_class
    assert sorted(sharded.modules) == sorted(whole.modules)
    assert [name for name in sorted(sharded.modules) if name.startswith(("Owner", "Tag"))] == ["Owner", "Owner2", "Tag"]
    assert sharded.warnings == whole.warnings == []
    for name, built in (("shards_whole", whole), ("shards_merged", sharded)):
        package = _package(built, tmp_path, name)
        pet = package.Pet.model_validate({"owner": {"name": "Rex"}, "tag": {"label": "good"}, "friends": [
            {"owner": {"name": "Ann"}}]})
        car = package.Car.model_validate({"owner": {"licence": "B"}, "kind": "Owner", "tag": {"label": "fast"}})
        assert pet.owner.name == "Rex" and pet.friends[0].owner.name == "Ann" and car.owner.licence == "B"
        assert type(pet.tag) is type(car.tag) is package.Tag  # one class, whichever run made it
        assert type(pet.owner) is not type(car.owner)  # two inline models, both first named Owner
        assert car.model_dump(mode="json") == {"owner": {"licence": "B"}, "kind": "Owner", "tag": {"label": "fast"}}
        with pytest.raises(ValueError):
            package.Car.model_validate({"owner": {"licence": "B"}, "kind": "Owner2"})  # the tag is as written


def test_the_number_of_runs_is_part_of_what_the_models_are_cached_by(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[int] = []
    real = models_stage._generated_in_shards

    def counted(rest: dict[str, Any], split: bool, count: int) -> Any:
        runs.append(count)
        return real(rest, split, count)

    monkeypatch.setattr(models_stage, "_generated_in_shards", counted)
    for count in (1, 2, 1, 2):
        emit_models(_document(), "openapi.json", shards=count)
    assert runs == [1, 2]  # the third and fourth are read from the cache, each its own


def test_a_model_is_defined_after_the_models_its_definition_runs() -> None:
    child = _Unit("Child", "class Child(Base):\n    pass\n", {"Base"}, "", {"Base"})
    user = _Unit("User", "class User(BaseModel):\n    child: Child\n", {"Child"}, "", set())
    base = _Unit("Base", "class Base(BaseModel):\n    pass\n", set(), "", set())
    assert [unit.name for unit in _in_definition_order([child, user, base])] == ["User", "Base", "Child"]


def test_a_failure_in_a_worker_is_the_error_of_the_schema_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    real = models_stage._generate

    def failing(modelled: str, metadata: Path, split: bool = True) -> Any:
        if '"Car"' in modelled and '"wheels"' in modelled:  # until the fallback makes Car any value
            raise ValueError("cannot model #/components/schemas/Car as it is")
        return real(modelled, metadata, split)

    monkeypatch.setattr(models_stage, "_generate", failing)
    built = emit_models(_document(), "openapi.json", shards=2)
    assert [(w.pointer, w.rule) for w in built.warnings] == [("/components/schemas/Car", "model-failed")]
    assert "Pet" in built.modules and "Car" in built.modules  # Car is any value, the rest as before

    monkeypatch.setattr(models_stage, "_replaced", lambda document, tokens: None)  # no fallback: the error stands
    document = _document()
    document["info"]["version"] = "2"  # not the cached run
    with pytest.raises(SpecError, match="cannot model #/components/schemas/Car"):
        emit_models(document, "openapi.json", shards=2)


def test_the_merged_units_are_those_the_merged_module_reads_as() -> None:
    document = _document()
    rest = {"openapi": document["openapi"], "info": document["info"], "components": document["components"]}
    source, _, parsed = models_stage._generated_in_shards(rest, True, 2)
    assert parsed is not None
    assert parsed[0] and parsed == models_stage._units(source)  # so `_module` need not parse it again
