"""Secrets at rest: Fernet, with the key from SPECGEN_SECRET_KEY or a generated key file (mode 0600)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet


def load_key(data_dir: Path) -> bytes:
    from_env = os.environ.get("SPECGEN_SECRET_KEY", "").strip()
    if from_env:
        return from_env.encode()
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


class Vault:
    def __init__(self, key: bytes):
        self.fernet = Fernet(key)

    def seal(self, values: dict[str, Any]) -> bytes | None:
        return self.fernet.encrypt(json.dumps(values, sort_keys=True).encode()) if values else None

    def open(self, token: bytes | None) -> dict[str, Any]:
        if not token:
            return {}
        opened: dict[str, Any] = json.loads(self.fernet.decrypt(token))
        return opened
