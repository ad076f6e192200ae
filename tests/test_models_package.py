"""The models package: one module per model (a cycle of models shares one), each imported on first use, and
enums that no component names as `Literal` aliases with one name per set of values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from generator import models as models_stage
from generator import pipeline
from generator.diagnostics import SpecError
from generator.models import _cycles, _module, _units

HERE = Path(__file__).parent

SPEC = """
openapi: 3.1.0
info: {title: Zoo, version: '1'}
paths:
  /pets:
    get:
      operationId: list_pets
      parameters:
        - {name: kind, in: query, schema: {type: string, enum: [cat, dog]}}
        - {name: order, in: query, schema: {type: string, enum: [asc, desc]}}
        - {name: size, in: query, schema: {$ref: '#/components/schemas/Size'}}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}
  /keepers:
    get:
      operationId: list_keepers
      parameters:
        - {name: kind, in: query, schema: {type: string, enum: [cat, dog]}}
        - {name: sort, in: query, schema: {type: string, enum: [name, -name]}}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Keeper'}}}
components:
  schemas:
    Size: {type: string, enum: [s, m, l]}
    ListKeepersSort: {type: string}
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        owner: {$ref: '#/components/schemas/Keeper'}
        size: {$ref: '#/components/schemas/Size'}
    Keeper:
      type: object
      properties:
        name: {type: string}
        pets: {type: array, items: {$ref: '#/components/schemas/Pet'}}
    Ticket:
      type: object
      properties:
        price: {type: integer}
"""


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("zoo")
    (root / "openapi.yaml").write_text(SPEC)
    pipeline.generate(root / "openapi.yaml", root / "out", "zoo", force=True)
    return root / "out"


def run(package: Path, code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=package, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_models_that_refer_to_each_other_share_a_module_and_others_have_their_own(package: Path) -> None:
    modules = sorted(p.name for p in (package / "zoo" / "models").glob("_*.py") if p.name != "__init__.py")
    assert modules == ["_discriminated.py", "_list_keepers_sort.py", "_literals.py", "_pet.py", "_size.py", "_ticket.py"]
    assert "class Keeper(" in (package / "zoo" / "models" / "_pet.py").read_text()
    assert "from ._size import Size" in (package / "zoo" / "models" / "_pet.py").read_text()


def test_a_model_loads_only_the_modules_it_needs(package: Path) -> None:
    loaded = run(package, "import sys, zoo.models as m; m.Pet; print(sorted(n for n in sys.modules if n.startswith('zoo.models.')))")
    assert loaded == "['zoo.models._pet', 'zoo.models._size']"
    assert run(package, "from zoo.models import Ticket; print(Ticket(price=3).price)") == "3"
    assert run(package, "import zoo.models as m; print(sorted(m.__all__) == sorted(dir(m)))") == "True"


def test_an_unknown_model_is_an_attribute_error(package: Path) -> None:
    assert run(package, "import zoo.models as m\ntry:\n    m.Nope\nexcept AttributeError as e:\n    print(e)") == \
        "module 'zoo.models' has no attribute 'Nope'"


def test_the_client_imports_no_model_until_an_operation_needs_it(package: Path) -> None:
    loaded = run(package, "import sys, zoo.client; print([n for n in sys.modules if n.startswith('zoo.models.')])")
    assert loaded == "[]"


def test_inline_enums_get_one_alias_per_set_of_values_clear_of_model_names(package: Path) -> None:
    literals = (package / "zoo" / "models" / "_literals.py").read_text()
    assert 'ListPetsKind: TypeAlias = Literal["cat", "dog"]' in literals  # first use names it ...
    assert "ListKeepersKind" not in literals  # ... and the same values elsewhere reuse that name
    assert 'ListKeepersSort2: TypeAlias = Literal["name", "-name"]' in literals  # a model is ListKeepersSort
    assert 'ListPetsSize: TypeAlias = Literal["s", "m", "l"]' in literals  # parameters see strings, not the enum
    resources = (package / "zoo" / "client" / "resources.py").read_text()
    assert "kind: models.ListPetsKind | None = None" in resources


def test_the_package_passes_mypy_strict(package: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "zoo"], cwd=package,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_cycles_are_found_without_recursion() -> None:
    chain = [[i + 1] for i in range(5000)] + [[0]]  # one cycle through 5001 nodes: deeper than the recursion limit
    assert _cycles(chain) == [list(range(5001))]
    assert _cycles([[1], [0], [3], [], [4]]) == [[0, 1], [2], [3], [4]]


def test_model_rebuild_calls_follow_their_model_and_docstrings_their_alias() -> None:
    source = (
        "from __future__ import annotations\nfrom pydantic import BaseModel\nfrom typing_extensions import TypeAliasType\n"
        "\n\nclass Node(BaseModel):\n    child: Node | None = None\n\n\n"
        'Name = TypeAliasType("Name", str)\n"""\nA name.\n"""\n\n\nNode.model_rebuild()\n'
    )
    emitted = [{"class_name": "Node", "source_path": ["components", "schemas", "Node"]},
               {"class_name": "Name", "source_path": ["components", "schemas", "Name"]}]
    models = _module(_units(source), emitted)
    assert models.request_class == models.response_class == {"Node": "Node", "Name": "Name"}
    assert models.modules == {"Node": "_node", "Name": "_name"}
    assert models.files["models/_node.py"].rstrip().endswith("Node.model_rebuild()")
    assert '"""\nA name.\n"""' in models.files["models/_name.py"]
    assert "BaseModel" not in models.files["models/_name.py"]  # each module imports what it uses


def test_a_forward_reference_in_a_string_ties_the_cycle_together() -> None:
    source = (
        "from __future__ import annotations\nfrom pydantic import BaseModel\nfrom typing_extensions import TypeAliasType\n"
        '\n\nPredicateList = TypeAliasType("PredicateList", list["Predicate"])\n'
        "\n\nclass Predicate(BaseModel):\n    either: PredicateList | None = None\n"
    )
    emitted = [{"class_name": name, "source_path": ["components", "schemas", name]} for name in ("PredicateList", "Predicate")]
    assert _module(_units(source), emitted).modules == {"PredicateList": "_predicate_list", "Predicate": "_predicate_list"}


def test_dotted_component_names_stay_in_one_package(tmp_path: Path) -> None:
    """datamodel-code-generator would make `media.v1.thing` a module path (Stripe, Twilio, Kubernetes)."""
    pipeline.generate(HERE / "fixtures" / "dotted" / "openapi.yaml", tmp_path, "dot", force=True)
    resources = (tmp_path / "dot" / "client" / "resources.py").read_text()
    assert ") -> models.MediaV1Thing:" in resources
    code = ("from dot import models; t = models.MediaV1Thing.model_validate({'id': '1', 'owner': {'name': 'n'}}); "
            "print(type(t.owner).__name__, t.owner.name)")
    assert run(tmp_path, code) == "MediaV1Owner2 n"  # media_v1_owner (a string) is MediaV1Owner


def test_patterns_pydantic_cannot_compile_are_left_out_with_a_warning(tmp_path: Path) -> None:
    outcome = pipeline.generate(HERE / "fixtures" / "patterns" / "openapi.yaml", tmp_path, "pat", force=True)
    unchecked = sorted((w.line, w.pointer) for w in outcome.warnings if w.rule == "pattern-unsupported")
    assert unchecked == [(8, "/paths/~1a/get/parameters"), (18, "/components/schemas/Thing/properties/code/pattern"),
                         (19, "/components/schemas/Thing/properties/big/pattern")]
    code = ("import pat.models as m, pat.server as s\n"
            "class Stub:\n    async def get_a(self, request, principal): ...\n"
            "s.create_app(s.Handlers(default=Stub()), None)\n"
            "print(m.Thing(code='x', fine='1').code)\n"
            "try:\n    m.Thing(fine='x')\nexcept ValueError:\n    print('checked')")  # the pattern that compiles stays
    assert run(tmp_path, code) == "x\nchecked"


def test_a_field_named_config_is_aliased(tmp_path: Path) -> None:
    """pydantic reads a class attribute `Config` as its old-style configuration (AWS specs name fields so)."""
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
                    "    Channel: {type: object, properties: {Config: {type: object, properties: {Sns: {type: string}}}}}\n")
    pipeline.generate(spec, tmp_path / "out", "cfg", force=True)
    code = "from cfg import models; c = models.Channel.model_validate({'Config': {'Sns': 'x'}}); print(c.Config_.Sns)"
    assert run(tmp_path / "out", code) == "x"


def test_models_datamodel_code_generator_cannot_split_are_one_per_schema_with_a_warning(tmp_path: Path) -> None:
    """Its Request/Response split of readOnly models loses a class on this shape (a oneOf member with readOnly
    properties deep inside): one model per schema then, which is safe as the spec has no writeOnly property."""
    outcome = pipeline.generate(HERE / "fixtures" / "unsplit" / "openapi.yaml", tmp_path, "uns", force=True)
    assert [w.rule for w in outcome.warnings if w.rule == "models-unsplit"] == ["models-unsplit"]
    code = ("import uns.server as s\nfrom uns import models\n"
            "class Stub:\n    async def update_affinity(self, request, principal): ...\n"
            "s.create_app(s.Handlers(default=Stub()), None)\n"
            "print(models.MediaItem.model_validate({'type': 't', 'identifier': 'i', 'artist': 'a'}).artist)\n"
            "print(models.MediaItem.model_validate({'type': 't', 'identifier': 'i'}).identifier)")
    assert run(tmp_path, code) == "a\ni"  # a required readOnly property is optional: requests leave it out


def test_no_fallback_lets_a_write_only_property_reach_a_response(tmp_path: Path) -> None:
    """With a writeOnly property under the schemas it cannot split, neither one model per schema nor any value
    is safe: generation stops, naming the schema."""
    spec = tmp_path / "openapi.yaml"
    text = (HERE / "fixtures" / "unsplit" / "openapi.yaml").read_text()
    spec.write_text(text.replace("        identifier:\n", "        secret: {type: string, writeOnly: true}\n"
                                                         "        identifier:\n", 1))
    with pytest.raises(SpecError) as failed:
        pipeline.generate(spec, tmp_path / "out", "wo", force=True)
    assert [d.rule for d in failed.value.diagnostics] == ["models"]
    assert "can not resolve classes" in failed.value.diagnostics[0].message


def test_a_type_that_is_neither_a_type_name_nor_a_list_of_them_is_dropped_with_a_warning(tmp_path: Path) -> None:
    """codat's accounting spec writes a schema where its `type` should be: datamodel-code-generator cannot read
    it at all, so the rest of the spec would not generate."""
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
                    "    Item:\n      type: object\n      properties: {name: {type: string}}\n"
                    "      definitions:\n        itemType:\n          type: {type: string, enum: [a, b]}\n")
    outcome = pipeline.generate(spec, tmp_path / "out", "typ", force=True)
    assert [(w.rule, w.pointer) for w in outcome.warnings if w.rule == "type-invalid"] == [
        ("type-invalid", "/components/schemas/Item/definitions/itemType/type")]
    assert run(tmp_path / "out", "from typ import models; print(models.Item(name='n').name)") == "n"


def test_readonly_variants_of_inline_objects_are_not_looked_for_as_files(tmp_path: Path) -> None:
    """datamodel-code-generator took an inline readOnly object's variant path (`links`) for a file and stopped
    with "$ref file not found" (influxdata, twinehealth): the variants generate, readOnly fields out of requests."""
    pipeline.generate(HERE / "fixtures" / "variants" / "openapi.yaml", tmp_path, "var", force=True)
    code = ("from var import models\n"
            "print(sorted(models.OrganizationRequest.model_fields), sorted(models.OrganizationResponse.model_fields))")
    request, response = run(tmp_path, code).split("] [")
    assert "'id'" not in request and "'id'" in response and "'links'" in response


def test_a_schema_datamodel_code_generator_cannot_model_is_any_value_with_a_warning(tmp_path: Path) -> None:
    """`required: name` (a string, not a list) stops datamodel-code-generator on that schema: the rest of the
    spec still generates, and the warning names the schema it gave up on."""
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
                    "    Good:\n      type: object\n      properties:\n        name: {type: string}\n"
                    "        odd: {$ref: '#/components/schemas/Odd'}\n"
                    "    Odd:\n      type: object\n      properties:\n        broken: {type: object, required: name}\n")
    outcome = pipeline.generate(spec, tmp_path / "out", "mf", force=True)
    assert [(w.rule, w.pointer) for w in outcome.warnings if w.rule == "model-failed"] == [
        ("model-failed", "/components/schemas/Odd")]
    code = "from mf import models; print(models.Good(name='n', odd=[1, 'any']).odd)"
    assert run(tmp_path / "out", code) == "[1, 'any']"


def test_a_cached_warning_of_an_inline_schema_follows_its_operation_to_a_new_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The models are cached by what is modelled, which a path's name is not: their warnings are placed anew."""
    spec = tmp_path / "openapi.yaml"
    text = ("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: get_a\n"
            "      responses:\n        '200':\n          description: ok\n          content:\n"
            "            application/json:\n              schema:\n                type: object\n"
            "                properties:\n                  kind: {type: {type: string}}\n")
    spec.write_text(text)
    monkeypatch.setenv("SPECGEN_CACHE", str(tmp_path / "cache"))
    first = pipeline.generate(spec, tmp_path / "out", "inl", force=True)
    spec.write_text(text.replace("  /a:", "  /b:"))
    monkeypatch.setattr(models_stage, "_generated_in_shards", None)  # the models come from the cache
    second = pipeline.generate(spec, tmp_path / "out", "inl", force=True)
    assert [w.pointer for w in first.warnings if w.rule == "type-invalid"] == [
        "/paths/~1a/get/responses/200/content/application~1json/schema/properties/kind/type"]
    assert [w.pointer for w in second.warnings if w.rule == "type-invalid"] == [
        "/paths/~1b/get/responses/200/content/application~1json/schema/properties/kind/type"]


def test_a_fallback_in_an_inline_schema_is_reported_where_its_operation_writes_it(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      operationId: get_a\n"
                    "      responses:\n        '200':\n          description: ok\n          content:\n"
                    "            application/json:\n              schema:\n                type: object\n"
                    "                properties:\n                  kind: {type: {type: string}}\n")
    outcome = pipeline.generate(spec, tmp_path / "out", "inl", force=True)
    assert [(w.pointer, w.line) for w in outcome.warnings if w.rule == "type-invalid"] == [
        ("/paths/~1a/get/responses/200/content/application~1json/schema/properties/kind/type", 15)]


@pytest.mark.parametrize(("schema", "expected"), [
    # a dotted schema: under the name the spec writes
    ("    microsoft.graph.rgb:\n      type: object\n      properties:\n        b: {type: integer, format: uint8}\n",
     ("/components/schemas/microsoft.graph.rgb/properties/b", 9)),
    # at a schema, never at an example that holds the word
    ("    Field:\n      type: object\n      example: {name: b, format: uint8}\n      properties:\n"
     "        b: {type: integer, format: uint8}\n", ("/components/schemas/Field/properties/b", 10)),
])
def test_an_unknown_format_is_reported_at_the_first_schema_that_has_it(tmp_path: Path, schema: str,
                                                                       expected: tuple[str, int]) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n" + schema)
    outcome = pipeline.generate(spec, tmp_path / "out", "fmt", force=True)
    assert [(w.pointer, w.line) for w in outcome.warnings if w.rule == "unknown-format"] == [expected]


def test_a_discriminator_datamodel_code_generator_wrote_no_tagged_union_for_is_reported(tmp_path: Path) -> None:
    """A oneOf that is a part of allOf: datamodel-code-generator writes a plain union of the combined models, which
    specgen cannot tag, so a value is any option that admits it: said, where the discriminator is written."""
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n"
                    "    A: {type: object, required: [kind], properties: {kind: {type: string}, a: {type: integer}}}\n"
                    "    B: {type: object, required: [kind], properties: {kind: {type: string}, b: {type: integer}}}\n"
                    "    X:\n      allOf:\n"
                    "        - oneOf: [{$ref: '#/components/schemas/A'}, {$ref: '#/components/schemas/B'}]\n"
                    "          discriminator: {propertyName: kind}\n"
                    "        - {type: object, properties: {extra: {type: string}}}\n"
                    "    AB:\n      oneOf: [{$ref: '#/components/schemas/A'}, {$ref: '#/components/schemas/B'}]\n"
                    "      discriminator: {propertyName: kind}\n")
    outcome = pipeline.generate(spec, tmp_path / "out", "ign", force=True)
    assert [(w.pointer, w.line) for w in outcome.warnings if w.rule == "discriminator-ignored"] == [
        ("/components/schemas/X/allOf/0/discriminator", 11)]  # AB is tagged
    assert run(tmp_path / "out", "from ign import models; print(models.AB.__value__.__metadata__[0].tags)") == \
        "{'A': <class 'ign.models._a.A'>, 'B': <class 'ign.models._b.B'>}"


SUBTYPES = """
openapi: 3.0.3
info: {title: t, version: '1'}
paths: {}
components:
  schemas:
    Animal:
      type: object
      required: [kind]
      properties: {kind: {type: string}, name: {type: string}}
      discriminator: {propertyName: kind}
    Mammal:
      allOf: [{$ref: '#/components/schemas/Animal'}, {type: object, properties: {fur: {type: string}}}]
    Dog:
      allOf: [{$ref: '#/components/schemas/Mammal'}, {type: object, properties: {bark: {type: string}}}]
    Bird:
      allOf:
        - $ref: '#/components/schemas/Animal'
        - {type: object, properties: {kind: {type: string, enum: [bird]}, wings: {type: integer}}}
    Node:
      type: object
      properties: {type: {type: string}, children: {type: array, items: {$ref: '#/components/schemas/Node'}}}
      discriminator: {propertyName: type}
    Leaf:
      allOf: [{$ref: '#/components/schemas/Node'}, {type: object, properties: {value: {type: integer}}}]
    Rock:
      type: object
      required: [kind]
      properties: {kind: {type: string}, weight: {type: number}}
    Thing:
      oneOf: [{$ref: '#/components/schemas/Animal'}, {$ref: '#/components/schemas/Rock'}]
      discriminator: {propertyName: kind}
    AnyAnimalRequest: {type: object, properties: {taken: {type: string}}}
    Zoo:
      type: object
      properties:
        animals: {type: array, items: {$ref: '#/components/schemas/Animal'}}
        star: {description: the star, allOf: [{$ref: '#/components/schemas/Animal'}]}
        tree: {$ref: '#/components/schemas/Node'}
        thing: {$ref: '#/components/schemas/Thing'}
"""


def test_every_use_of_a_discriminated_parent_is_the_union_of_it_and_all_its_subtypes(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(SUBTYPES)
    pipeline.generate(spec, tmp_path / "out", "sub", force=True)
    code = """
import json
from sub import models as m
zoo = m.Zoo.model_validate({
    "animals": [{"kind": "Dog", "bark": "woof"}, {"kind": "bird", "wings": 2}, {"kind": "Animal", "name": "x"},
                {"kind": "okapi", "name": "y"}],  # a grandchild; a tag fixed by enum; the parent; a tag naming none
    "star": {"kind": "Mammal", "fur": "red"},  # a $ref wrapped in allOf with a description
    "thing": {"kind": "Rock", "weight": 1.5}})
print([type(a).__name__ for a in zoo.animals], type(zoo.star).__name__, type(zoo.thing).__name__)
deep = {"children": []}
for _ in range(30):  # no tags anywhere: the parent, at once (every option at every level: 2**30 tries)
    deep = {"children": [deep]}
print(type(m.Zoo.model_validate({"tree": deep}).tree).__name__)
print(json.dumps(m.Zoo(animals=[m.Dog(kind="Dog", bark="w")]).model_dump(mode="json", exclude_unset=True)))
print(sorted(n for n in m.__all__ if n.startswith("AnyAnimal")))
"""
    assert run(tmp_path / "out", code).splitlines() == [
        "['Dog', 'Bird', 'Animal', 'Animal'] Mammal Rock",
        "Node",
        '{"animals": [{"kind": "Dog", "bark": "w"}]}',
        "['AnyAnimal2', 'AnyAnimalRequest']"]  # the union's name clear of a schema's Request variant
