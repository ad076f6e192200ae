"""[tool.specgen] in pyproject.toml: defaults for the command line, and one level per rule for lint, check and
generate alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
openapi: 3.1.0
info: {title: Configured, version: '1'}
tags: [{name: things}]
paths:
  /things:
    get:
      operationId: list_things
      tags: [things]
      security: [{key: []}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: array, items: {type: string}}}}}
        '400': {description: bad}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
"""  # valid, but GET /things has no summary: house rule operation-summary


def project(tmp_path: Path, settings: str) -> Path:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "openapi.yaml").write_text(SPEC)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.specgen]\nspec = "api/openapi.yaml"\nout = "gen"\npackage = "things"\n{settings}\n')
    return tmp_path


def specgen(folder: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", *arguments], capture_output=True, text=True,
                          cwd=folder, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_a_house_rule_made_an_error_fails_lint_check_and_generate_alike(tmp_path: Path) -> None:
    folder = project(tmp_path, 'house-rules = "error"')
    for command in ("lint", "check", "generate"):
        done = specgen(folder, command)
        assert done.returncode == 2, (command, done.stderr)
        assert ("api/openapi.yaml:6:5: error: GET /things has no summary [operation-summary] at /paths/~1things/get"
                in done.stderr), (command, done.stderr)  # relative to the current directory, not to api/
        assert "1 error(s), 0 warning(s)" in done.stderr
    assert not (folder / "gen").exists()


def test_rules_can_be_warnings_or_off_and_the_settings_fill_the_command_line(tmp_path: Path) -> None:
    folder = project(tmp_path, 'house-rules = "error"\n[tool.specgen.rules]\noperation-summary = "warning"')
    linted = specgen(folder, "lint")
    assert linted.returncode == 0 and "warning: GET /things has no summary" in linted.stderr
    generated = specgen(folder, "generate")
    assert generated.returncode == 0, generated.stderr
    assert (folder / "gen" / "things" / "client" / "__init__.py").is_file()  # out and package from the settings
    assert specgen(folder, "check").returncode == 0
    (folder / "pyproject.toml").write_text((folder / "pyproject.toml").read_text().replace('"warning"', '"off"'))
    quiet = specgen(folder, "lint")
    assert quiet.returncode == 0 and "summary" not in quiet.stderr


def test_house_rules_are_warnings_by_default_and_bad_settings_are_named(tmp_path: Path) -> None:
    folder = project(tmp_path, "")
    default = specgen(folder, "lint")
    assert default.returncode == 0 and "warning: GET /things has no summary" in default.stderr
    assert specgen(folder, "generate").returncode == 0  # house-rule warnings are lint's to show
    (folder / "pyproject.toml").write_text('[tool.specgen]\nspec = "api/openapi.yaml"\nhouse-rules = "loud"\n')
    broken = specgen(folder, "lint")
    assert broken.returncode == 2 and "house-rules must be one of error, warning, off; got 'loud'" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_another_spec_gets_the_defaults_not_the_projects_settings(tmp_path: Path) -> None:
    folder = project(tmp_path, 'house-rules = "error"')
    (folder / "other.yaml").write_text(SPEC)
    done = specgen(folder, "lint", "other.yaml")
    assert done.returncode == 0 and "warning: GET /things has no summary" in done.stderr


def test_generate_names_the_handler_method_each_new_operation_needs(tmp_path: Path) -> None:
    folder = project(tmp_path, "")
    assert specgen(folder, "generate").returncode == 0
    spec = folder / "api" / "openapi.yaml"
    spec.write_text(SPEC.replace("  /things:\n", "  /things/{id}:\n    delete:\n      operationId: remove_thing\n"
                                 "      tags: [things]\n      security: [{key: []}]\n"
                                 "      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
                                 "      responses: {'204': {description: gone}, '400': {description: bad}}\n"
                                 "  /things:\n").replace("list_things", "all_things"))
    done = specgen(folder, "generate")
    assert done.returncode == 0, done.stderr
    assert "new operation DELETE /things/{id}: implement handlers.things.remove_thing" in done.stderr
    assert "new operation GET /things: implement handlers.things.all_things" in done.stderr
    assert "operation removed GET /things: handlers.things.list_things is no longer called" in done.stderr
