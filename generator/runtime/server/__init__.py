"""The server runtime: copied into `<package>/server/` (this file and `_spec.py` excepted)."""
