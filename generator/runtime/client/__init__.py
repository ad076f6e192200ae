"""The client runtime: copied into `<package>/client/` (this file and `_spec.py` excepted)."""
