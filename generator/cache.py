"""Where specgen keeps what it can reuse between runs (parsed files, validated schemas, models, compiled
templates). Losing it only costs time."""

from __future__ import annotations

import os
from pathlib import Path


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
