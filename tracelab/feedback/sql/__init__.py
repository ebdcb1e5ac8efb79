"""SQL of the feedback package (read with importlib.resources)."""
