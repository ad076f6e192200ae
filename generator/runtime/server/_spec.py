"""Stand-in for the `_spec.py` the generator renders from the spec (see templates/server/_spec.py.jinja)."""

SCHEMES: dict[str, tuple[str, str, str, str]] = {}
