"""One module per tag, each implementing the generated Protocol of that tag."""
