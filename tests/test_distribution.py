"""The generated package installs as it is (`pip install generated/integrations`, its own pyproject.toml) and,
installed, is type-checked: mypy sees its py.typed, so a wrong use of the client is an error, not Any."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

GENERATED = Path(__file__).parent.parent / "generated/integrations"


def test_the_package_declares_what_it_needs() -> None:
    project = tomllib.loads((GENERATED / "pyproject.toml").read_text())["project"]
    assert project["name"] == "integrations" and project["version"] == "1.0.0"
    assert any(r.startswith("pydantic[email]") for r in project["dependencies"])  # the models use EmailStr
    assert any(r.startswith("fastapi") for r in project["optional-dependencies"]["server"])


def test_installed_the_package_is_type_checked(tmp_path: Path) -> None:
    source = tmp_path / "src/integrations"
    shutil.copytree(GENERATED, source)
    before = sorted(source.rglob("*"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "venv"], check=True)
    site = next((tmp_path / "venv/lib").glob("python3*/site-packages"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "--target", site, source], check=True, capture_output=True)
    assert sorted(source.rglob("*")) == before  # built without leaving build/ or egg-info in generated/
    installed = site / "integrations"
    assert (installed / "py.typed").exists() and (installed / "openapi.json").exists()
    assert len(list((installed / "models").glob("*.py"))) == len(list((GENERATED / "models").glob("*.py")))
    use = tmp_path / "use.py"
    use.write_text("from integrations.client import Client\n\nwrong: int = Client('http://x').external_services\n")
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--python-executable",
                           tmp_path / "venv/bin/python", use], capture_output=True, text=True, cwd=tmp_path)
    assert 'Incompatible types in assignment (expression has type "ExternalServices"' in done.stdout, done.stdout
