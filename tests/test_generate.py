"""The pipeline end to end on a small spec: determinism, atomic writes, no-op runs, staleness checks, types."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import pipeline
from generator.diagnostics import SpecError

HERE = Path(__file__).parent
ROOT = HERE.parent
SMALL = HERE / "fixtures" / "small" / "openapi.yaml"


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    target = tmp_path / "spec" / "openapi.yaml"
    target.parent.mkdir()
    shutil.copy(SMALL, target)
    return target


def test_two_runs_give_byte_identical_output(tmp_path: Path, spec_copy: Path) -> None:
    first = pipeline.generate(spec_copy, tmp_path / "a", "small", force=True).destination
    second = pipeline.generate(spec_copy, tmp_path / "b", "small", force=True).destination
    assert tree(first) == tree(second)
    assert all(b"DO NOT EDIT" in content for name, content in tree(first).items() if name.endswith(".py"))
    assert not any(str(tmp_path).encode() in content for content in tree(first).values())


def test_unchanged_inputs_skip_generation(tmp_path: Path, spec_copy: Path) -> None:
    assert not pipeline.generate(spec_copy, tmp_path, "small").skipped
    assert pipeline.generate(spec_copy, tmp_path, "small").skipped
    spec_copy.write_text(spec_copy.read_text().replace("List pets", "List all pets"))
    assert not pipeline.generate(spec_copy, tmp_path, "small").skipped


def test_a_hand_edit_is_detected_and_undone(tmp_path: Path, spec_copy: Path) -> None:
    out = pipeline.generate(spec_copy, tmp_path, "small").destination
    models = out / "models" / "__init__.py"
    models.write_text(models.read_text() + "\n# edited\n")
    assert pipeline.check(spec_copy, tmp_path, "small") == [f"{models}: differs from a fresh generation (hand edit or stale)"]
    assert not pipeline.generate(spec_copy, tmp_path, "small").skipped  # a touched output is not "up to date"
    assert pipeline.check(spec_copy, tmp_path, "small") == []


def test_a_spec_edit_not_yet_generated_is_detected(tmp_path: Path, spec_copy: Path) -> None:
    pipeline.generate(spec_copy, tmp_path, "small")
    spec_copy.write_text(spec_copy.read_text().replace("name: {type: string, minLength: 1}", "name: {type: string, minLength: 2}"))
    stale = pipeline.check(spec_copy, tmp_path, "small")
    assert any(line.endswith("models/_pet_request.py: differs from a fresh generation (hand edit or stale)") for line in stale)


def test_a_failed_generation_leaves_the_output_as_it_was(tmp_path: Path, spec_copy: Path) -> None:
    out = pipeline.generate(spec_copy, tmp_path, "small").destination
    before = tree(out)
    spec_copy.write_text(spec_copy.read_text().replace("openapi: 3.1.0", "openapi: 3.1.0\npaths: 7"))
    with pytest.raises(SpecError):
        pipeline.generate(spec_copy, tmp_path, "small")
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small", "spec"]  # no staging folder left behind


def test_a_failure_in_the_models_worker_leaves_the_output_as_it_was(tmp_path: Path, spec_copy: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import write

    out = pipeline.generate(spec_copy, tmp_path, "small").destination
    before = tree(out)
    real = write.format_modules

    def failing_on_models(modules: dict[str, str]) -> dict[str, str]:
        if any(name.startswith("models/_") for name in modules):
            raise OSError("disk full")
        return real(modules)

    monkeypatch.setattr(write, "format_modules", failing_on_models)
    spec_copy.write_text(spec_copy.read_text().replace("name: {type: string, minLength: 1}",
                                                       "name: {type: string, minLength: 2}"))
    with pytest.raises(RuntimeError, match="in a worker process: OSError: disk full"):
        pipeline.generate(spec_copy, tmp_path, "small")
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small", "spec"]


def test_a_failed_first_generation_leaves_no_output_folder(tmp_path: Path, spec_copy: Path) -> None:
    spec_copy.write_text(spec_copy.read_text().replace("openapi: 3.1.0", "openapi: 3.1.0\npaths: 7"))
    with pytest.raises(SpecError):
        pipeline.generate(spec_copy, tmp_path / "out" / "deeper", "small")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec"]


def test_two_parts_of_a_package_never_write_one_file() -> None:
    from generator.write import Package, joined

    models = Package({"models/_pet.py": "a", "openapi.json": "{}"}, {"models/_pet.py": "1"},
                     digests={"models/_pet.py": "da", "openapi.json": "dj"})
    rendered = Package({"models/__init__.py": "b"}, {"models/__init__.py": "2"}, digests={"models/__init__.py": "db"})
    whole = joined([models, rendered])
    assert list(whole.files) == ["models/__init__.py", "models/_pet.py", "openapi.json"]
    assert whole.digests == {"models/__init__.py": "db", "models/_pet.py": "da", "openapi.json": "dj"}
    with pytest.raises(RuntimeError, match="two parts of the package write openapi.json"):
        joined([models, Package({"openapi.json": "[]"}, {})])


def test_cli_reports_a_broken_spec_without_a_traceback(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "generator", "generate", str(HERE / "failures" / "bad_ref" / "openapi.yaml"),
         "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert run.returncode == 2
    assert "paths.yaml:8: error: file not found: schemas.yaml [ref-resolves]" in run.stderr
    assert "Traceback" not in run.stderr


def test_generated_code_passes_mypy_strict(tmp_path: Path, spec_copy: Path) -> None:
    pipeline.generate(spec_copy, tmp_path, "small")
    pipeline.generate(HERE / "fixtures" / "bodies" / "openapi.yaml", tmp_path, "bodies")  # form, multipart, text, bytes
    for folder, package in ((tmp_path, "small"), (tmp_path, "bodies"), (ROOT / "generated", "integrations")):
        run = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", package],
            capture_output=True, text=True, cwd=folder,
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_handlers_type_check_against_the_generated_interfaces() -> None:
    """mypy --strict over app/: a handler that no longer fits its generated interface fails here."""
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "app"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "MYPYPATH": str(ROOT / "generated")},
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_request_and_response_models_split_on_read_and_write_only(tmp_path: Path, spec_copy: Path) -> None:
    pipeline.generate(spec_copy, tmp_path, "small")
    sys.path.insert(0, str(tmp_path))
    try:
        from small import models  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(tmp_path))
    assert "id" not in models.PetRequest.model_fields
    assert "microchipSecret" not in models.PetResponse.model_fields
    pet = models.PetRequest.model_validate({"name": "Tom", "microchipSecret": "s", "animal": {"kind": "cat", "name": "Tom"}})
    assert type(pet.animal).__name__ == "Cat"
    with pytest.raises(Exception):
        models.PetRequest.model_validate({"name": "Tom", "animal": {"kind": "cow", "name": "x"}})


def test_every_component_used_by_an_operation_has_a_typed_model() -> None:
    from generator.build_ir import build_api
    from generator.load import load_spec
    from generator.models import emit_models

    spec = load_spec(ROOT / "spec" / "openapi.yaml")
    api, warnings = build_api(spec.document, emit_models(spec.document, "openapi.yaml"), "integrations")
    assert warnings == []
    bodies = [op.request_body.annotation for tag in api.tags for op in tag.operations if op.request_body]
    bodies += [r.annotation for tag in api.tags for op in tag.operations for r in op.responses if r.annotation]
    assert bodies and "Any" not in bodies


def test_concrete_paths_are_routed_before_templated_ones() -> None:
    from generator.build_ir import build_api
    from generator.load import load_spec
    from generator.models import emit_models

    spec = load_spec(ROOT / "spec" / "openapi.yaml")
    api, _ = build_api(spec.document, emit_models(spec.document, "openapi.yaml"), "integrations")
    paths = [op.path for tag in api.tags if tag.name == "External Data Sources" for op in tag.operations]
    base = "/api/environments/{environment_id}/external_data_sources/"
    assert paths.index(base + "wizard/") < paths.index(base + "{id}/")
    assert paths.index(base + "connections/") < paths.index(base + "{id}/")


def test_a_regeneration_formats_only_modules_that_changed(tmp_path: Path, spec_copy: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import write

    out = pipeline.generate(spec_copy, tmp_path, "small").destination
    unchanged = out / "models" / "_pet_request.py"
    inode = unchanged.stat().st_ino
    log = tmp_path / "formatted.txt"  # the models are formatted in a worker process: it tells the test here

    def formatted() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    def spied(modules: dict[str, str]) -> dict[str, str]:
        with log.open("a") as told:
            told.writelines(f"{name}\n" for name in modules)
        return real(modules)

    real = write.format_modules
    monkeypatch.setattr(write, "format_modules", spied)
    spec_copy.write_text(spec_copy.read_text().replace("List pets", "List all pets"))
    pipeline.generate(spec_copy, tmp_path, "small")
    assert formatted() and "models/_pet_request.py" not in formatted() and "client/resources.py" in formatted()
    assert unchanged.stat().st_ino == inode  # linked into the new tree, not written again
    log.unlink()
    (out / "server" / "handlers.py").write_text("# edited by hand\n")  # a touched file is never reused
    (out / "models" / "_pet_request.py").write_text("# edited by hand\n")
    spec_copy.write_text(spec_copy.read_text().replace("List all pets", "List every pet"))
    pipeline.generate(spec_copy, tmp_path, "small")
    assert {"server/handlers.py", "models/_pet_request.py"} <= set(formatted())
    fresh = pipeline.generate(spec_copy, tmp_path / "fresh", "small", force=True).destination
    assert tree(fresh) == tree(out)


INVALID_BUT_USABLE = """openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /a:
    get:
      operationId: get_a
      parameters:
        - {name: n, in: query, schema: {type: integer, default: 'one'}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: integer, minimum: 'zero'}}}}
"""


def test_validator_findings_are_warnings_unless_strict(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(INVALID_BUT_USABLE)
    command = [sys.executable, "-m", "generator", "generate", str(spec), "--out", str(tmp_path / "out"), "--package", "p"]
    strict = subprocess.run([*command, "--strict"], capture_output=True, text=True, cwd=ROOT)
    assert strict.returncode == 2 and not (tmp_path / "out").exists()
    assert "openapi.yaml:10:87: error: 'zero' is not of type 'number' [openapi-schema]" in strict.stderr
    lenient = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert lenient.returncode == 0, lenient.stderr
    assert "openapi.yaml:10:87: warning: 'zero' is not of type 'number' [openapi-schema]" in lenient.stderr
    assert "2 warning(s) (--strict makes them errors)" in lenient.stdout
    assert (tmp_path / "out" / "p" / "client" / "resources.py").is_file()


def test_a_worker_failure_is_one_line_with_its_traceback_kept_for_verbose() -> None:
    with pipeline.InChild(lambda: 1 // 0) as worker, pytest.raises(RuntimeError) as caught:
        worker.result()
    assert str(caught.value) == "in a worker process: ZeroDivisionError: integer division or modulo by zero"
    assert "Traceback" in caught.value.__notes__[0]


def test_a_worker_collects_no_garbage_and_its_parent_still_does() -> None:
    import gc

    with pipeline.InChild(gc.isenabled) as worker:
        assert worker.result() is False
    assert gc.isenabled()


def test_a_worker_its_parent_ends_cleans_up_after_itself(tmp_path: Path) -> None:
    """As the models' worker, formatting in a temporary folder with ruff, when building the IR fails."""
    import tempfile
    import time

    marker = tmp_path / "pid"
    waiting = f"import os, time; open({str(marker)!r}, 'w').write(str(os.getpid())); time.sleep(60)"

    def format_in_a_temporary_folder() -> None:
        with tempfile.TemporaryDirectory(dir=tmp_path):
            subprocess.run([sys.executable, "-c", waiting], check=True)

    with pipeline.InChild(format_in_a_temporary_folder):
        for _ in range(200):
            if marker.exists() and marker.read_text():
                break
            time.sleep(0.05)
    assert [p.name for p in tmp_path.iterdir()] == ["pid"]  # the folder is gone
    with pytest.raises(ProcessLookupError):  # and so is the process it waited for
        os.kill(int(marker.read_text()), 0)


def test_a_worker_error_says_all_it_said() -> None:
    def fail() -> None:
        raise ValueError("ruff refused:\nmodels/_pet.py:1:1: invalid syntax")

    with pipeline.InChild(fail) as worker, pytest.raises(RuntimeError) as caught:
        worker.result()
    assert str(caught.value) == "in a worker process: ValueError: ruff refused:\nmodels/_pet.py:1:1: invalid syntax"


def test_a_pool_worker_frees_the_garbage_of_its_last_run_before_the_next() -> None:
    def two_runs() -> tuple[bool, bool]:
        import weakref

        from generator.forking import between_runs

        class Node:
            pass

        between_runs()  # the first run: nothing to free
        node = Node()
        node.itself = node  # type: ignore[attr-defined]
        ref = weakref.ref(node)
        del node
        kept = ref() is not None  # garbage, not collected while it works
        between_runs()
        return kept, ref() is None

    with pipeline.InChild(two_runs) as worker:
        assert worker.result() == (True, True)


def test_a_worker_may_run_at_a_lower_priority_than_its_parent() -> None:
    with pipeline.InChild(lambda: os.nice(0), niceness=pipeline.VALIDATION_NICENESS) as worker:
        assert worker.result() == min(os.nice(0) + pipeline.VALIDATION_NICENESS, 19)
    with pipeline.InChild(lambda: os.nice(0)) as worker:
        assert worker.result() == os.nice(0)


def test_an_operation_edit_reuses_the_models_without_their_tools(tmp_path: Path, spec_copy: Path) -> None:
    """Models, and pydantic's verdicts on patterns, are cached by what they are made from: a warm run after an
    edit to one operation imports neither datamodel-code-generator nor pydantic."""
    env = {**os.environ, "SPECGEN_CACHE": str(tmp_path / "cache")}
    run = ("import sys; from generator import pipeline; pipeline.generate(sys.argv[1], sys.argv[2], 'small'); "
           "print(sorted({m.split('.')[0] for m in sys.modules} & {'datamodel_code_generator', 'pydantic_core'}))")
    command = [sys.executable, "-c", run, str(spec_copy), str(tmp_path / "out")]
    first = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["['datamodel_code_generator',", "'pydantic_core']"]
    spec_copy.write_text(spec_copy.read_text().replace("List pets", "List all pets"))
    second = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert second.stdout.strip() == "[]"
    assert b"List all pets" in (tmp_path / "out" / "small" / "client" / "resources.py").read_bytes()


def test_pattern_verdicts_are_remembered_between_runs(tmp_path: Path) -> None:
    env = {**os.environ, "SPECGEN_CACHE": str(tmp_path)}
    ask = "import sys; from generator.models import pattern_problems; print(pattern_problems(['^a+$', '(?=b)b']))"
    verdicts = "{'^a+$': None, '(?=b)b': 'look-around, including look-ahead and look-behind, is not supported'}"
    assert subprocess.run([sys.executable, "-c", ask], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip() == verdicts
    without_pydantic = "import sys; sys.modules['pydantic_core'] = None; " + ask.removeprefix("import sys; ")
    assert subprocess.run([sys.executable, "-c", without_pydantic], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip() == verdicts


def test_the_models_cache_tells_a_hoisted_schema_from_a_component(tmp_path: Path) -> None:
    """The same schemas, one written inline in its operation, the other a component: `AnyPet` holds the component
    (a subtype) and not the inline body, whichever the cache saw first."""
    fixtures = HERE / "fixtures" / "hoisted"
    env = {**os.environ, "SPECGEN_CACHE": str(tmp_path / "cache")}
    for name in ("inline", "component"):
        subprocess.run([sys.executable, "-m", "generator", "-q", "generate", str(fixtures / f"{name}.yaml"),
                        "--out", str(tmp_path / name), "--package", "h", "--force"], env=env, cwd=ROOT, check=True)
    union = (tmp_path / "component" / "h" / "models" / "_any_pet.py").read_text()
    assert "CreateDogBody" in union
    assert "CreateDogBody" not in (tmp_path / "inline" / "h" / "models" / "_any_pet.py").read_text()


@pytest.mark.parametrize("text", ["", "List pets.", "x" * 108, "x" * 109, "word " * 30, "a\tb", "two\nlines",
                                  "trailing nbsp\u00a0", " leading", 'says """ and \\', "inner\u00a0space"])
def test_docstring_prose_is_wrapped_as_textwrap_wraps_it(text: str) -> None:
    import textwrap

    from generator.render import _doc, _paragraph

    indent = " " * 8
    assert _paragraph(text, indent) == textwrap.fill(_doc(text), width=116, initial_indent=indent,
                                                     subsequent_indent=indent).lstrip(" ")
