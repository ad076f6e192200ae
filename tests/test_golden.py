"""Golden trees: each fixture spec under tests/golden/ generates exactly its reviewed `expected/` package
(`make golden` rewrites them after a deliberate change). One fixture per oneOf/anyOf/allOf/discriminator pattern,
and each pattern's models are also checked for what matters: the payload lands in the right class."""

from __future__ import annotations

import asyncio
import difflib
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError

from generator import pipeline
from generator.write import MANIFEST

from .packages import NoCredentials, generated

ROOT = Path(__file__).parent.parent
CASES = sorted(p.parent.name for p in (ROOT / "tests" / "golden").glob("*/openapi.yaml"))


@pytest.mark.parametrize("case", CASES)
def test_output_matches_the_reviewed_tree(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the header names the spec relative to the working directory, as `make golden` does
    fresh = pipeline.generate(Path("tests/golden") / case / "openapi.yaml", tmp_path, "expected", force=True).destination
    expected = ROOT / "tests" / "golden" / case / "expected"
    names = sorted({str(p.relative_to(d)) for d in (fresh, expected) for p in d.rglob("*")
                    if p.is_file() and p.name != MANIFEST and "__pycache__" not in p.parts})
    for name in names:
        want = (expected / name).read_text() if (expected / name).is_file() else ""
        got = (fresh / name).read_text() if (fresh / name).is_file() else ""
        diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True), f"expected/{name}", f"now/{name}"))
        assert not diff, f"{case}: output changed; review and run `make golden`\n{diff[:3000]}"


@pytest.fixture
def models(request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    folder = str(ROOT / "tests" / "golden" / request.param)
    sys.path.insert(0, folder)
    forget_package("expected")
    try:
        yield importlib.import_module("expected.models")
    finally:
        sys.path.remove(folder)
        forget_package("expected")


def forget_package(name: str) -> None:
    """Each golden tree is a package named `expected`: drop every module of the previous one."""
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]


@pytest.mark.parametrize("models", ["oneof_mapping"], indirect=True)
def test_oneof_with_mapping_picks_the_mapped_class(models: ModuleType) -> None:
    pets = TypeAdapter(models.Pet)
    assert type(pets.validate_python({"petType": "cat", "lives": 9})).__name__ == "Cat"
    assert type(pets.validate_python({"petType": "dog", "bark": "woof"})).__name__ == "Dog"
    for bad in ({"petType": "cow"}, {"petType": "cat", "lives": 10}, {"petType": "dog", "bark": "meow"}):
        with pytest.raises(ValidationError):
            pets.validate_python(bad)


@pytest.mark.parametrize("models", ["oneof_implicit"], indirect=True)
def test_oneof_without_mapping_uses_schema_names(models: ModuleType) -> None:
    shapes = TypeAdapter(models.Shape)
    assert type(shapes.validate_python({"kind": "Circle", "radius": 1.5})).__name__ == "Circle"
    assert type(shapes.validate_python({"kind": "Square", "side": 2})).__name__ == "Square"
    with pytest.raises(ValidationError):
        shapes.validate_python({"kind": "Circle", "radius": 0})


@pytest.mark.parametrize("models", ["allof_inheritance"], indirect=True)
def test_allof_children_keep_the_base_fields_and_their_own(models: ModuleType) -> None:
    car = models.CarResponse.model_validate({"vehicleType": "car", "wheels": 4, "seats": 5, "id": "c1"})
    assert (car.wheels, car.seats, car.id) == (4, 5, "c1")
    with pytest.raises(ValidationError):  # seats is required by the child, wheels by the base
        models.CarResponse.model_validate({"vehicleType": "car", "wheels": 4})
    with pytest.raises(ValidationError):
        models.TruckResponse.model_validate({"vehicleType": "car", "wheels": 6, "payload": 1.0})
    assert "id" not in models.CarRequest.model_fields  # readOnly stays out of requests


@pytest.mark.parametrize("models", ["anyof_nullable_30"], indirect=True)
def test_anyof_and_30_nullable(models: ModuleType) -> None:
    note = models.NoteResponse.model_validate({"body": {"text": "long enough to not be a short string"}, "tags": None,
                                               "due": None})
    assert note.tags is None and note.due is None
    assert models.NoteResponse.model_validate({"body": "short", "tags": ["a", 1]}).tags == ["a", 1]
    with pytest.raises(ValidationError):  # neither a ≤10-character string nor an object with text
        models.NoteResponse.model_validate({"body": "far too long a string"})
    assert "secret" in models.NoteRequest.model_fields and "secret" not in models.NoteResponse.model_fields


@pytest.mark.parametrize("models", ["discriminator_shared"], indirect=True)
def test_a_discriminator_picks_by_tag_but_never_narrows_its_options(models: ModuleType) -> None:
    """Created and Deleted are options of Event (mapped tags) and of Notice (schema names): each union dispatches on
    its own tags, and the options stay as written (`kind` is any string), alone or in either union; a value whose
    tag names no option is refused at once, one without a tag is an option's that does not require it."""
    events, notices = TypeAdapter(models.Event), TypeAdapter(models.Notice)
    assert models.Created.model_validate({"kind": "anything"}).kind == "anything"
    assert type(events.validate_python({"kind": "deleted", "reason": "spam"})).__name__ == "Deleted"
    assert type(notices.validate_python({"kind": "Deleted", "reason": "spam"})).__name__ == "Deleted"
    # the tag decides where several options admit the value (a smart union would take Deleted: more fields set)
    assert type(events.validate_python({"kind": "created", "reason": "spam"})).__name__ == "Created"
    with pytest.raises(ValidationError) as refused:  # the option the tag names refuses it: its errors, no other's
        events.validate_python({"kind": "deleted"})
    assert [e["loc"] for e in refused.value.errors()] == [("deleted", "reason")]
    for unnamed in ({"kind": "created", "id": "e1"}, {"kind": 5}):  # Notice's tags are the schemas' names
        with pytest.raises(ValidationError, match="does not match any of the expected tags") as refused:
            notices.validate_python(unnamed)
        assert len(refused.value.errors()) == 1
    assert type(notices.validate_python({"at": "noon"})).__name__ == "Pinged"  # the one option not requiring `kind`
    with pytest.raises(ValidationError, match="Unable to extract tag"):  # Created and Deleted require it
        events.validate_python({"id": "e1"})
    assert events.dump_python(models.Deleted(kind="deleted", reason="r")) == {"kind": "deleted", "reason": "r"}
    assert models.Created(kind="k", specgen_tag_0="mine").specgen_tag_0 == "mine"  # a property named like a tag
    # Pinged declares no `kind`: written out as an option of Notice it carries its tag, alone it is as written
    assert notices.dump_python(models.Pinged(at="noon")) == {"at": "noon", "kind": "Pinged"}
    assert models.Pinged(at="noon").model_dump() == {"at": "noon"} and "kind" not in models.Pinged.model_fields
    assert type(notices.validate_python({"kind": "Pinged"})).__name__ == "Pinged"


@pytest.mark.parametrize("models", ["discriminator_shared"], indirect=True)
def test_a_discriminator_on_an_allof_parent_admits_the_parent(models: ModuleType) -> None:
    owners = models.Owner
    assert type(owners.model_validate({"pet": {"petType": "cat", "lives": 9}}).pet).__name__ == "Cat"
    assert type(owners.model_validate({"pet": {"petType": "dog", "name": "Rex"}}).pet).__name__ == "Pet"
    assert type(owners.model_validate({"pet": {"petType": "Pet", "name": "Rex"}}).pet).__name__ == "Pet"  # its name
    for refused in ({"petType": "cat"}, {"name": "Rex"}):  # Cat needs lives; Pet requires petType
        with pytest.raises(ValidationError):
            owners.model_validate({"pet": refused})
    assert owners(pet=models.Cat(petType="cat", lives=3)).model_dump() == {"pet": {"petType": "cat", "lives": 3}}
    # in an array too (datamodel-code-generator alone types each item as a Cat), each pet by its own tag
    pets = owners.model_validate({"pets": [{"petType": "cat", "lives": 9}, {"petType": "dog", "name": "Rex"}]}).pets
    assert [type(pet).__name__ for pet in pets] == ["Cat", "Pet"] and pets[1].name == "Rex"


def test_an_option_without_the_tag_property_crosses_the_wire_with_its_tag(tmp_path: Path) -> None:
    """Pinged declares no `kind`: sent by the client as a Notice body, and answered by the server as one, its JSON
    still says which option it is (a server that dispatches on `kind`, as OpenAPI says it may, needs it)."""
    with generated(ROOT / "tests" / "golden" / "discriminator_shared" / "openapi.yaml", tmp_path, "tags") as package:
        server, client_module, models = package.module("server"), package.module("client"), package.module("models")
        received: list[Any] = []

        class Handlers:
            async def post_notice(self, request: Any, principal: Any) -> Any:
                received.append(request.body)
                return server.handlers.PostNotice204()

            async def latest_notice(self, request: Any, principal: Any) -> Any:
                return server.handlers.LatestNotice200(models.Pinged(at="noon"))

        app = server.create_app(server.Handlers(default=Handlers()), NoCredentials(), allow_unimplemented=True)
        wire = httpx.ASGITransport(app=app)
        sent: list[Any] = []

        class Recording(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                sent.append(json.loads(request.content) if request.content else None)
                return await wire.handle_async_request(request)

        async def calls() -> None:
            async with client_module.AsyncClient("http://t", transport=Recording()) as client:
                await client.default.post_notice(body=models.Pinged(at="dawn"))
                assert sent[-1] == {"at": "dawn", "kind": "Pinged"} and received == [models.Pinged(at="dawn")]
                assert await client.default.latest_notice() == models.Pinged(at="noon")
            async with httpx.AsyncClient(transport=wire, base_url="http://t") as raw:
                assert (await raw.get("/notices")).json() == {"at": "noon", "kind": "Pinged"}

        asyncio.run(calls())
