"""`[tool.specgen]` in the nearest pyproject.toml: defaults for the command line and the level of each rule.

    [tool.specgen]
    spec = "spec/openapi.yaml"
    out = "generated"
    package = "integrations"
    strict = true              # generate: every warning is an error
    house-rules = "error"      # the level of every house rule: "error", "warning" (the default) or "off"

    [tool.specgen.rules]       # per rule, house rule or validator finding: "error", "warning" or "off"
    operation-summary = "warning"

They are the settings of the spec they name: run on another spec, specgen uses its defaults. The same levels
hold for `lint`, `check` and `generate`: an error fails each of them; `lint` and `check` print
warnings, `generate` prints those that concern generation (house-rule warnings are `lint`'s to show).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .diagnostics import Diagnostic, Level, SpecError

LEVELS = {"error": Level.ERROR, "warning": Level.WARNING, "off": None}


@dataclass(frozen=True)
class Settings:
    spec: str | None = None
    out: str | None = None
    package: str | None = None
    strict: bool = False
    house_rules: Level | None = Level.WARNING
    rules: dict[str, Level | None] = field(default_factory=dict)
    source: str = ""  # the pyproject.toml they came from

    def enforces_house_rules(self) -> bool:
        """Whether any house rule can be an error (then `generate` runs them too)."""
        return self.house_rules is Level.ERROR or Level.ERROR in self.rules.values()

    def level(self, rule: str, default: Level | None) -> Level | None:
        """The configured level of `rule`, or `default`; None: the rule is off."""
        return self.rules.get(rule, default)


def _level(value: Any, where: str, source: str) -> Level | None:
    if value not in LEVELS:
        raise SpecError([Diagnostic(source, 0, "", "config", f"{where} must be one of error, warning, off; "
                                                             f"got {value!r}")])
    return LEVELS[value]


def load_settings(start: Path | None = None) -> Settings:
    """Settings from the nearest pyproject.toml (from `start`, default the current directory, upwards) that has a
    `[tool.specgen]` table; defaults when none does."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if not path.is_file():
            continue
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("specgen")
        except tomllib.TOMLDecodeError as exc:
            raise SpecError([Diagnostic(str(path), 0, "", "config", f"not valid TOML: {exc}")]) from None
        if table is None:
            continue
        source = str(path)
        known = {"spec", "out", "package", "strict", "house-rules", "rules"}
        unknown = sorted(set(table) - known)
        if unknown:
            raise SpecError([Diagnostic(source, 0, "", "config", f"[tool.specgen] has unknown keys: {unknown}")])
        rules = table.get("rules", {})
        base = path.parent

        def located(key: str) -> str | None:
            return os.path.relpath(base / table[key]) if key in table else None

        return Settings(
            spec=located("spec"),
            out=located("out"),
            package=table.get("package"),
            strict=bool(table.get("strict", False)),
            house_rules=_level(table.get("house-rules", "warning"), "house-rules", source),
            rules={name: _level(value, f"rules.{name}", source) for name, value in rules.items()},
            source=source,
        )
    return Settings()
