"""SQL of the eval export (read with importlib.resources)."""
