"""Where specgen keeps what it can reuse between runs (black's output, models). Losing it only costs time."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(kind: str) -> Path:
    return Path(os.environ.get("SPECGEN_CACHE", Path.cwd() / ".cache" / "specgen")) / kind


def store(path: Path, text: str) -> None:
    """Write atomically (a concurrent run reads the old or the new text, never half), ignoring failures."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
