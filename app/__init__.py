"""Hand-written implementation of the generated server's handler interfaces. The generator never writes here."""
