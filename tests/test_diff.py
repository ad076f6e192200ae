"""specgen diff: every rule on a fixture pair (tests/fixtures/diff: base.yaml and each case's edits of it) with its
expected changes and verdict; file:line on the revision side through a git revision of a split spec; the formats."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import main
from generator.diagnostics import split_pointer

FIXTURES = Path(__file__).parent / "fixtures" / "diff"
BASE = yaml.safe_load((FIXTURES / "base.yaml").read_text())
CASES = yaml.safe_load((FIXTURES / "cases.yaml").read_text())


def edited(document: dict[str, Any], edits: list[dict[str, Any]]) -> dict[str, Any]:
    """`document` with each edit applied: `set` (a `-` last token appends to a list) or `remove` a pointer."""
    document = copy.deepcopy(document)
    for edit in edits:
        *parents, last = split_pointer(edit.get("set") or edit["remove"])
        node: Any = document
        for token in parents:
            node = node[int(token)] if isinstance(node, list) else node[token]
        if "remove" in edit:
            del node[int(last) if isinstance(node, list) else last]
        elif isinstance(node, list) and last == "-":
            node.append(edit["value"])
        else:
            node[int(last) if isinstance(node, list) else last] = edit["value"]
    return document


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str, str]:
    code = main(["diff", *arguments])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_rule_reports_its_changes_at_every_use_with_its_verdict(name: str, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    before = edited(BASE, case.get("base_edits", []))
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(before))
    (tmp_path / "revision.yaml").write_text(yaml.safe_dump(edited(before, case["edits"])))
    code, out, _ = run(capsys, str(tmp_path / "base.yaml"), str(tmp_path / "revision.yaml"), "--format", "json")
    found = sorted(f"{c['level']} {c['rule']} {c['pointer']}" for c in json.loads(out)["changes"])
    assert found == sorted(case["expect"])
    assert code == case["exit"]


def git(folder: Path, *arguments: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *arguments], cwd=folder, check=True,
                   capture_output=True)


def test_a_git_revision_of_a_split_spec_against_the_working_tree_names_the_revision_file_and_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "spec"
    (spec / "components").mkdir(parents=True)
    root = copy.deepcopy(BASE)
    root["components"]["schemas"] = {name: {"$ref": f"components/schemas.yaml#/{name}"} for name in ("Name", "Pet")}
    (spec / "openapi.yaml").write_text(yaml.safe_dump(root))
    components = (FIXTURES / "base.yaml").read_text().split("  schemas:\n")[1].split("  securitySchemes:")[0]
    components = components.replace("#/components/schemas/Name", "#/Name")  # a ref within the components file
    (spec / "components" / "schemas.yaml").write_text("\n".join(line[4:] for line in components.splitlines()) + "\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    schemas = spec / "components" / "schemas.yaml"
    schemas.write_text(schemas.read_text().replace("maxLength: 50", "maxLength: 20"))
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "HEAD:spec/openapi.yaml", "spec/openapi.yaml")
    line = next(n for n, text in enumerate(schemas.read_text().splitlines(), 1) if "maxLength: 20" in text)
    assert out.splitlines() == [
        f"spec/components/schemas.yaml:{line}:{col}: error: maxLength 50 became 20 [request-max-decreased] at {where}"
        for col, where in [(schemas.read_text().splitlines()[line - 1].index("maxLength") + 1, pointer)
                           for pointer in ("/paths/~1pets/post/requestBody/content/application~1json/schema/properties/name",
                                           "/paths/~1pets~1{pet_id}/patch/requestBody/content/application~1json/schema/properties/name")]
    ]
    assert code == 1 and "2 breaking" in err and "raise info.version's major part (1.0.0)" in err
    code, out, _ = run(capsys, "spec/openapi.yaml", "HEAD:spec/openapi.yaml")  # the other way: wider, a warning
    assert code == 0 and len(out.splitlines()) == 3  # where the responses carry it, named at the revision
    assert all(line.startswith("HEAD:spec/components/schemas.yaml:1:22: warning: maxLength 20 became 50 "
                               "[response-max-increased]") for line in out.splitlines())
    assert main(["diff", "HEAD~5:spec/openapi.yaml", "spec/openapi.yaml"]) == 2  # no such revision: a clear error
    assert "git cannot read" in capsys.readouterr().err


def test_markdown_for_a_pull_request_and_fail_on_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    revision = edited(BASE, [{"remove": "/components/schemas/Pet/properties/kind"}, {"remove": "/paths/~1pets/post"}])
    (tmp_path / "revision.yaml").write_text(yaml.safe_dump(revision))
    code, out, _ = run(capsys, str(tmp_path / "base.yaml"), str(tmp_path / "revision.yaml"), "--format", "markdown")
    lines = out.splitlines()
    assert code == 1 and lines[0] == "### API changes" and lines[2].startswith("**1 breaking change(s)**")
    assert lines[6].startswith("| error | `operation-removed` | `/paths/~1pets/post`")  # breaking first
    assert sum(line.startswith("| warning | `response-optional-property-removed`") for line in lines) == 2
    (tmp_path / "revision.yaml").write_text(yaml.safe_dump(edited(BASE, [{"remove": "/components/schemas/Pet/properties/kind"}])))
    assert main(["diff", str(tmp_path / "base.yaml"), str(tmp_path / "revision.yaml")]) == 0
    assert main(["diff", str(tmp_path / "base.yaml"), str(tmp_path / "revision.yaml"), "--fail-on", "warning"]) == 1


def test_a_broken_side_is_a_located_error_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "revision.yaml").write_text("openapi: 3.1.0\npaths:\n  /a: {$ref: 'missing.yaml#/A'}\n")
    code, _, err = run(capsys, str(tmp_path / "base.yaml"), str(tmp_path / "revision.yaml"))
    assert code == 2 and "Traceback" not in err
    assert "revision.yaml:3" in err and "[ref-resolves]" in err


# Every breaking change in our own spec's history, each reviewed: a new revision that reports another one must
# either be a real breaking change (add it here, and raise info.version's major part) or a false report (fix it).
REVIEWED_BREAKING = {
    ("d2fbc6a", "request-max-decreased", "/paths/~1externalServiceRegistrations/post/requestBody/content/application~1json/schema/properties/label"),
    ("d2fbc6a", "request-max-decreased", "/paths/~1externalServiceRegistrations~1{registrationId}/put/requestBody/content/application~1json/schema/properties/label"),
}  # labels got a 256-character limit (a poison-record fix): a longer label, accepted before, is now a 400


def test_our_spec_history_reports_only_its_reviewed_breaking_changes(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from generator.diff import compare, load_side

    root = Path(__file__).parent.parent
    monkeypatch.chdir(root)
    listed = subprocess.run(["git", "log", "--reverse", "--format=%H", "--", "spec"], cwd=root, capture_output=True,
                            text=True)
    commits = listed.stdout.split()
    if listed.returncode != 0 or subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=root,
                                                capture_output=True, text=True).stdout.strip() != "false":
        pytest.skip("needs the repository's full history")
    sides = [load_side(f"{commit}:spec/openapi.yaml", tmp_path / commit) for commit in commits]
    found = {(after[:7], change.rule, change.pointer)
             for after, base, revision in zip(commits[1:], sides, sides[1:])
             for change in compare(base, revision).changes if change.level.value == "error"}
    assert found == REVIEWED_BREAKING
