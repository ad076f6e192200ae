"""The models runtime: copied into `<package>/models/` (this file excepted)."""
