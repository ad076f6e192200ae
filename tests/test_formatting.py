"""Formatting: ruff, isolated from the user's configuration, and black's style as the contract."""

from pathlib import Path

import black
import pytest

from generator import formatting, pipeline

HERE = Path(__file__).parent
ROOT = HERE.parent
SPECS = [HERE / "fixtures" / "small" / "openapi.yaml", HERE / "fixtures" / "bodies" / "openapi.yaml",
         *sorted((HERE / "golden").glob("*/openapi.yaml"))]


def black_format(source: str) -> str:
    mode = black.Mode(line_length=formatting.LINE_LENGTH, target_versions={black.TargetVersion.PY311})
    return black.format_str(source, mode=mode)


def test_modules_are_formatted_in_one_call() -> None:
    formatted = formatting.format_modules({"a.py": "x = [1,\n  2]\n", "pkg/b.py": "def f( a ):\n  return a\n"})
    assert formatted == {"a.py": "x = [1, 2]\n", "pkg/b.py": "def f(a):\n    return a\n"}


def test_the_copies_ruff_formats_are_kept_in_memory_where_there_is_room(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = formatting.tempfile.TemporaryDirectory

    def recorded(**options: str) -> object:
        made.append(str(options.get("dir")))
        return real(**options)

    monkeypatch.setattr(formatting.tempfile, "TemporaryDirectory", recorded)
    monkeypatch.setattr(formatting, "MEMORY_FOLDER", tmp_path)  # a folder with room: used
    assert formatting.format_modules({"a.py": "x = [1,\n  2]\n"}) == {"a.py": "x = [1, 2]\n"}
    monkeypatch.setattr(formatting, "MEMORY_FOLDER", tmp_path / "absent")  # none there: the default folder
    assert formatting.format_modules({"a.py": "x = [1,\n  2]\n"}) == {"a.py": "x = [1, 2]\n"}
    assert made == [str(tmp_path), "None"]
    monkeypatch.setattr(formatting, "MEMORY_FOLDER", tmp_path)
    assert formatting._scratch(1) == tmp_path
    assert formatting._scratch(formatting.shutil.disk_usage(tmp_path).free) is None  # no room: the default


def test_the_users_ruff_configuration_does_not_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 40\n[tool.ruff.format]\nquote-style = 'single'\n")
    monkeypatch.chdir(tmp_path)
    source = 'value = call_something("a fairly long argument", "and another one", 3)\n'
    assert formatting.format_modules({"m.py": source}) == {"m.py": source}


def test_invalid_python_names_the_module() -> None:
    with pytest.raises(formatting.FormattingError, match=r"pkg/broken\.py"):
        formatting.format_modules({"pkg/broken.py": "def f(:\n"})


def test_what_only_compiling_finds_is_an_error_too() -> None:
    """Parsed, these are fine; compiled, they are SyntaxErrors in the user's import."""
    with pytest.raises(formatting.FormattingError, match=r"pkg/twice\.py:1:10: .*Duplicate parameter \"a\""):
        formatting.format_modules({"pkg/twice.py": "def f(a, a):\n    return a\n"})
    with pytest.raises(formatting.FormattingError, match=r"m\.py:.*parameter and a global"):
        formatting.format_modules({"m.py": "def g(x):\n    global x\n"})


def test_unused_imports_and_other_lint_are_not_errors() -> None:
    assert formatting.format_modules({"m.py": "import os\n"}) == {"m.py": "import os\n"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda path: path.parent.name)
def test_generated_modules_are_what_black_writes(spec: Path, tmp_path: Path) -> None:
    """`make test` also runs `black --check` over generated/ and the golden trees; this covers the fixtures."""
    out = pipeline.generate(spec, tmp_path, "pkg", force=True).destination
    modules = sorted(out.rglob("*.py"))
    assert modules
    for path in modules:
        text = path.read_text()
        assert black_format(text) == text, path.relative_to(out)
