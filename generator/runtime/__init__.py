"""Runtime code of generated packages that does not depend on the spec, copied into them verbatim.

Each folder is a package of its own here so that it can be imported, type-checked and unit-tested; the
`_spec.py` beside it is a stand-in for the module the generator renders from the spec.
"""
