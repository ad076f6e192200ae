"""Stand-in for the `_spec.py` the generator renders from the spec (see templates/client/_spec.py.jinja)."""

USER_AGENT = "specgen-client"
SCHEMES: dict[str, tuple[str, str, str, str]] = {}
SECURITY: tuple[tuple[tuple[str, ...], ...], ...] = ()
