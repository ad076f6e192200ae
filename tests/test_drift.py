"""A spec edit that the handlers do not honour fails the conformance suite: the drift users fear is caught."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from generator import pipeline

ROOT = Path(__file__).parent.parent


def drifted_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "spec"
    shutil.copytree(ROOT / "spec", spec)
    components = spec / "components" / "patchworks.yaml"
    text = components.read_text()
    # a new required response field the handlers never set, and an enum value renamed under them
    text = text.replace("  required: [id, name]\n  properties:\n    id: {type: string}\n",
                        "  required: [id, name, status]\n  properties:\n    id: {type: string}\n"
                        "    status: {type: string, enum: [active, inactive]}\n", 1)
    text = text.replace("enum: [second, minute, hour, day]", "enum: [second, minutes, hour, day]")
    text = text.replace("rate_limit_unit: minute\n", "rate_limit_unit: minutes\n")
    assert text != components.read_text()
    components.write_text(text)
    return spec / "openapi.yaml"


def conformance(generated: Path, paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", f"pythonpath={generated} {ROOT}",
         str(ROOT / "tests" / "test_conformance.py")],
        capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "CONFORMANCE_EXAMPLES": "5", "CONFORMANCE_PATHS": paths},
    )


def test_conformance_catches_a_handler_not_updated_for_a_spec_edit(tmp_path: Path) -> None:
    selection = "^/api/v1/connectors"
    baseline = conformance(ROOT / "generated", selection)
    assert baseline.returncode == 0, baseline.stdout[-2000:]

    spec = drifted_spec(tmp_path)
    pipeline.generate(spec, tmp_path / "generated", "integrations", force=True)
    drifted = conformance(tmp_path / "generated", selection)
    assert drifted.returncode == 1, drifted.stdout[-2000:]
    # in-process, the handler's own validation error surfaces as the failure (over HTTP it would be a 500)
    assert any(sign in drifted.stdout for sign in ("ValidationError", "Server error", "Response violates schema"))
    assert "api/v1/connectors" in drifted.stdout and " failed" in drifted.stdout.splitlines()[-1]
