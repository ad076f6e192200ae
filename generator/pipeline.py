"""load → validate → build IR → emit → format → write, top to bottom."""

from __future__ import annotations

import filecmp
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import toolchain_digest
from .config import Settings
from .diagnostics import Diagnostic, Level, SpecError
from .forking import InChild
from .write import LastRun, Package, Staging, finish, is_up_to_date, joined

if TYPE_CHECKING:  # the stages are imported once a run has work to do: a no-op run stays fast
    from .load import LoadedSpec

Progress = Callable[[str], None]
VALIDATION_NICENESS = 10


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Outcome:
    destination: Path
    skipped: bool  # nothing changed since the last run
    files: tuple[str, ...]
    warnings: tuple[Diagnostic, ...] = ()
    added: tuple[tuple[str, str], ...] = ()  # ("METHOD /path", "tag.method") of operations new since the last run
    removed: tuple[tuple[str, str], ...] = ()  # ... and of those gone


def inputs_digest(root: Path, relative_files: list[str], package: str) -> str:
    h = hashlib.sha256(toolchain_digest().encode())
    h.update(package.encode())
    for name in relative_files:
        path = root.parent / name
        h.update(name.encode())
        h.update(path.read_bytes() if path.is_file() else b"<missing>")
    return h.hexdigest()


def _display_source(spec_path: Path) -> str:
    try:
        return str(spec_path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return spec_path.name


def build_files(spec: LoadedSpec, package: str, source: str, staging: Staging, validation: InChild, *,
                strict: bool = False, progress: Progress = _quiet) -> tuple[Package, list[Diagnostic]]:
    """Every output file, written in `staging`, and the warnings of every stage; what the last run wrote is
    reused where nothing changed.

    `validation` runs beside, on another core, as do the formatting and writing of the models (thousands of
    modules in a big API) while the IR is built and rendered. The validator's findings explain a failure of the
    stages better than the failure does; where the stages succeed they are warnings, as are the stages' own
    findings (a renamed model, a type that fell back to Any), unless `strict` makes every warning an error."""
    from .build_ir import build_api
    from .models import emit_models, inline_schemas
    from .render import render

    try:
        progress("models")
        inline = inline_schemas(spec.document)
        models = emit_models(spec.document, spec.display(spec.root), inline)
        progress("ir, render and format")
        with InChild(partial(_staged_models, staging, models.files, spec.document, source)) as models_written:
            api, findings = build_api(spec.document, models, package, inline)
            rendered = finish(render(api), source, staging.last)
            staging.write(rendered)
            parts = [models_written.result(), rendered]
        operations = {f"{op.method.upper()} {op.path}": f"{tag.py_name}.{op.py_name}"
                      for tag in api.tags for op in tag.operations}
        finished = replace(joined(parts), operations=dict(sorted(operations.items())))
    except Exception:
        if problems := [*validation.result()[0], *validation.result()[1]]:
            raise SpecError(problems) from None
        raise
    progress("validation")
    validator_findings, house_errors = validation.result()
    if house_errors:  # configured as errors: they fail generate as they fail lint and check
        raise SpecError(house_errors)
    warnings = [replace(d, level=Level.WARNING) for d in validator_findings]
    warnings += [spec.diagnostic(f.pointer, f.rule, f.message, level=Level.WARNING) for f in models.warnings + findings]
    if strict and warnings:
        raise SpecError([replace(d, level=Level.ERROR) for d in warnings])
    return finished, warnings


def _staged_models(staging: Staging, models: dict[str, str], document: dict[str, object], source: str) -> Package:
    """The models' modules and the bundled document, formatted and written in `staging` (in a worker)."""
    package = finish({**models, "openapi.json": json.dumps(document, indent=2) + "\n"}, source, staging.last)
    staging.write(package)
    return package


def validation_findings(spec_path: Path, settings: Settings) -> tuple[list[Diagnostic], list[Diagnostic]]:
    """The validator's findings (at their configured levels), and the house rules' findings `settings` make
    errors (none run otherwise: their warnings are `lint`'s to show). Run in a worker process from the start, it
    loads the spec on its own, so importing the validator overlaps the parent's own imports and load."""
    from .lint import VALIDATOR_RULES, errors, lint
    from .load import load_spec

    found = lint(load_spec(spec_path), settings, house_rules=settings.enforces_house_rules())
    return [d for d in found if d.rule in VALIDATOR_RULES], errors([d for d in found if d.rule not in VALIDATOR_RULES])


def generate(spec_path: str | Path, out_dir: str | Path, package: str, *, force: bool = False, strict: bool = False,
             settings: Settings | None = None, progress: Progress = _quiet) -> Outcome:
    spec_path = Path(spec_path)
    destination = Path(out_dir) / package
    last = LastRun.read(destination)
    if not force and last.input_files and is_up_to_date(
            last, inputs_digest(spec_path.resolve(), list(last.input_files), package)):
        progress("up to date")
        return Outcome(destination, True, ())
    progress("load, and validate beside")
    # Validation yields to datamodel-code-generator's runs, on which the end of generation waits, and takes the
    # cores they leave idle (while the parent alone loads or renders).
    validating = partial(validation_findings, spec_path, settings or Settings())
    with InChild(validating, niceness=VALIDATION_NICENESS) as validation, Staging(destination, last) as staging:
        from .load import load_spec

        spec = load_spec(spec_path)
        built, warnings = build_files(spec, package, _display_source(spec_path), staging, validation, strict=strict,
                                      progress=progress)
        input_files = [spec.display(p) for p in spec.files]
        progress("write")
        staging.commit(built, inputs_digest(spec.root, input_files, package), input_files)
    before = last.operations if last.operations is not None else built.operations  # a first run adds nothing
    added = tuple(pair for pair in built.operations.items() if pair not in before.items())  # a rename: one of each
    removed = tuple(pair for pair in before.items() if pair not in built.operations.items())
    return Outcome(destination, False, tuple(built.files), tuple(warnings), added, removed)


def check(spec_path: str | Path, out_dir: str | Path, package: str, settings: Settings | None = None,
          progress: Progress = _quiet) -> list[str]:
    """Regenerate into a temporary folder and list every file that differs from what is committed."""
    destination = Path(out_dir) / package
    with tempfile.TemporaryDirectory(prefix="specgen-check-") as tmp:
        fresh = generate(spec_path, tmp, package, force=True, settings=settings, progress=progress).destination
        differences = []
        names = {str(p.relative_to(fresh)) for p in fresh.rglob("*") if p.is_file()}
        if destination.is_dir():
            names |= {
                str(p.relative_to(destination))
                for p in destination.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts
            }
        for name in sorted(names):
            a, b = fresh / name, destination / name
            if not a.is_file():
                differences.append(f"{destination / name}: not produced by the generator (delete it or regenerate)")
            elif not b.is_file():
                differences.append(f"{destination / name}: missing (run make generate)")
            elif not filecmp.cmp(a, b, shallow=False):
                differences.append(f"{destination / name}: differs from a fresh generation (hand edit or stale)")
        return differences


def stderr_progress(enabled: bool) -> Progress:
    if not enabled:
        return _quiet

    def show(stage: str) -> None:
        print(f"specgen: {stage}", file=sys.stderr, flush=True)

    return show
