"""SQL of ``tracelab suggest`` (read with importlib.resources)."""
