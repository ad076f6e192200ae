"""Where specgen keeps what it can reuse between runs (parsed files, validated schemas, models, compiled
templates). Losing it only costs time."""

from __future__ import annotations

import hashlib
import os
import sys
from functools import cache
from pathlib import Path

GENERATOR_DIR = Path(__file__).resolve().parent


def cache_dir(kind: str) -> Path:
    return Path(os.environ.get("SPECGEN_CACHE", Path.cwd() / ".cache" / "specgen")) / kind


def store(path: Path, content: str | bytes) -> None:
    """Write atomically (a concurrent run reads the old or the new content, never half), ignoring failures."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(content.encode() if isinstance(content, str) else content)
        tmp.replace(path)
    except OSError:
        pass


@cache
def toolchain_digest() -> str:
    """Generator code, templates and the versions of the tools whose output we commit (or cache)."""
    from .render import TEMPLATES, template_files

    h = hashlib.sha256()
    for path in sorted(GENERATOR_DIR.rglob("*.py")) + template_files(TEMPLATES):
        h.update(str(path.relative_to(GENERATOR_DIR.parent)).encode())
        h.update(path.read_bytes())
    for dist in ("datamodel_code_generator", "ruff", "jinja2", "pydantic", "pydantic_core"):  # patterns pydantic takes
        h.update(f"{dist}=={installed_version(dist)}".encode())
    return h.hexdigest()


@cache
def installed_version(dist: str) -> str:
    """The version of an installed distribution (its name with `_` for `-`), read off the name of its
    `.dist-info` directory: importlib.metadata would import the email package, a tenth of a no-op run."""
    for entry in sys.path:
        for found in Path(entry or ".").glob(f"{dist}-*.dist-info"):
            return found.name[len(dist) + 1:-len(".dist-info")]
    from importlib.metadata import version  # not where a wheel puts it: ask properly

    return version(dist)
