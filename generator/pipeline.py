"""load → validate → build IR → emit → format → write, top to bottom."""

from __future__ import annotations

import filecmp
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .build_ir import build_api
from .diagnostics import SpecError
from .lint import errors, lint
from .load import LoadedSpec, load_spec
from .models import emit_models
from .render import TEMPLATES, render, template_files
from .write import MANIFEST, finish, is_up_to_date, write_package

Progress = Callable[[str], None]
GENERATOR_DIR = Path(__file__).resolve().parent


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Outcome:
    destination: Path
    skipped: bool  # nothing changed since the last run
    files: tuple[str, ...]


def toolchain_digest() -> str:
    """Generator code, templates and the versions of the tools whose output we commit."""
    from importlib.metadata import version

    h = hashlib.sha256()
    for path in sorted(GENERATOR_DIR.glob("*.py")) + template_files(TEMPLATES):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for dist in ("datamodel-code-generator", "black", "jinja2"):
        h.update(f"{dist}=={version(dist)}".encode())
    return h.hexdigest()


def inputs_digest(root: Path, relative_files: list[str], package: str) -> str:
    h = hashlib.sha256(toolchain_digest().encode())
    h.update(package.encode())
    for name in relative_files:
        path = root.parent / name
        h.update(name.encode())
        h.update(path.read_bytes() if path.is_file() else b"<missing>")
    return h.hexdigest()


def _recorded_inputs(destination: Path) -> list[str]:
    try:
        return list(json.loads((destination / MANIFEST).read_text(encoding="utf-8")).get("input_files") or [])
    except (OSError, ValueError):
        return []


def _display_source(spec_path: Path) -> str:
    try:
        return str(spec_path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return spec_path.name


def build_files(spec: LoadedSpec, package: str, source: str, progress: Progress = _quiet) -> dict[str, str]:
    progress("validate")
    problems = errors(lint(spec, house_rules=False))
    if problems:
        raise SpecError(problems)
    progress("models")
    models = emit_models(spec.document, spec.display(spec.root))
    progress("ir")
    api, warnings = build_api(spec.document, models, package)
    for warning in warnings:
        print(f"specgen: warning: {warning}", file=sys.stderr)
    progress("render")
    files = {"models.py": models.source, "openapi.json": json.dumps(spec.document, indent=2) + "\n", **render(api)}
    progress("format")
    return finish(files, source)


def generate(spec_path: str | Path, out_dir: str | Path, package: str, *, force: bool = False,
             progress: Progress = _quiet) -> Outcome:
    spec_path = Path(spec_path)
    destination = Path(out_dir) / package
    recorded = _recorded_inputs(destination)
    if not force and recorded and is_up_to_date(destination, inputs_digest(spec_path.resolve(), recorded, package)):
        progress("up to date")
        return Outcome(destination, True, ())
    progress("load")
    spec = load_spec(spec_path)
    files = build_files(spec, package, _display_source(spec_path), progress)
    input_files = [spec.display(p) for p in spec.files]
    progress("write")
    write_package(destination, files, inputs_digest(spec.root, input_files, package), input_files)
    return Outcome(destination, False, tuple(sorted(files)))


def check(spec_path: str | Path, out_dir: str | Path, package: str, progress: Progress = _quiet) -> list[str]:
    """Regenerate into a temporary folder and list every file that differs from what is committed."""
    destination = Path(out_dir) / package
    with tempfile.TemporaryDirectory(prefix="specgen-check-") as tmp:
        fresh = generate(spec_path, tmp, package, force=True, progress=progress).destination
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
