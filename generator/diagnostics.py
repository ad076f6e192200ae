"""Problems found in a spec, as values: each names where (file, line, JSON pointer) and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Level(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int
    pointer: str
    rule: str
    message: str
    level: Level = Level.ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.level.value}: {self.message} [{self.rule}] at {self.pointer or '/'}"


@dataclass(frozen=True)
class Finding:
    """A warning of a stage that works on the bundled document, before the pipeline places it in a source file."""

    pointer: str
    rule: str
    message: str


class SpecError(Exception):
    """Raised when a spec cannot be used; carries every diagnostic that explains why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def join_pointer(pointer: str, token: str | int) -> str:
    return f"{pointer}/{escape_pointer_token(token)}"


def split_pointer(pointer: str) -> list[str]:
    pointer = pointer.lstrip("#")
    if pointer in ("", "/"):
        return []
    return [unescape_pointer_token(t) for t in pointer.lstrip("/").split("/")]
