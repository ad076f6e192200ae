"""Generated packages for tests: generate a fixture spec into a folder, import its parts, check its types."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from generator import pipeline


@dataclass(frozen=True)
class Package:
    folder: Path  # the folder holding the package (what goes on sys.path)
    name: str
    warnings: tuple[str, ...]  # what generation warned of, as the command line prints it

    def module(self, part: str) -> ModuleType:
        return importlib.import_module(f"{self.name}.{part}")


@contextmanager
def generated(spec: Path, folder: Path, name: str) -> Iterator[Package]:
    """`spec` generated as package `name` in `folder`, importable while the context lasts."""
    shutil.copy(spec, folder / "openapi.yaml")
    outcome = pipeline.generate(folder / "openapi.yaml", folder, name, force=True)
    sys.path.insert(0, str(folder))
    try:
        yield Package(folder, name, tuple(str(warning) for warning in outcome.warnings))
    finally:
        sys.path.remove(str(folder))


def mypy_strict(folder: Path, name: str) -> str:
    """mypy --strict's report on package `name` in `folder` ("" when it finds nothing)."""
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", name], cwd=folder,
                          capture_output=True, text=True)
    return "" if done.returncode == 0 else done.stdout


class NoCredentials:
    """An authenticator for specs without security: no credential is ever valid."""

    async def authenticate(self, scheme: str, credential: str) -> Any:
        return None
