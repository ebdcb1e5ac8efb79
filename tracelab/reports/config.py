"""Thresholds of the weekly report: what counts as a regression.

The packaged ``thresholds.toml`` holds the defaults (and documents every key); a user file in
TOML (``.toml``) or YAML (``.yaml``/``.yml``) overrides any subset of them, and keyword
overrides (the CLI flags) win over both. Unknown sections or keys are errors, so a typo never
silently leaves a default in place.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from tracelab.errors import ConfigError


class ThresholdsError(ConfigError, ValueError):
    pass


#: Allowed values of string-valued thresholds.
CHOICES = {"correction": ("bh", "holm", "none")}


@dataclass(frozen=True)
class ToolErrorThresholds:
    min_increase_pp: float
    alpha: float
    correction: str
    min_calls: int
    min_calls_previous: int


@dataclass(frozen=True)
class LatencyThresholds:
    min_increase_pct: float
    alpha: float
    correction: str
    min_samples: int


@dataclass(frozen=True)
class FailureThresholds:
    min_events: int
    growth: float
    top: int
    exemplars: int


@dataclass(frozen=True)
class Thresholds:
    tool_error_rate: ToolErrorThresholds
    latency: LatencyThresholds
    failures: FailureThresholds

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return asdict(self)

    def with_overrides(self, **overrides: Any) -> Thresholds:
        """Override keys as ``section__key=value`` (``None`` values are ignored)."""
        data = self.to_dict()
        for k, v in overrides.items():
            if v is None:
                continue
            section, _, key = k.partition("__")
            if section not in data or key not in data[section]:
                raise ThresholdsError(f"unknown threshold {k!r}")
            data[section][key] = v
        return _build(data, "overrides")


_SECTIONS = {"tool_error_rate": ToolErrorThresholds, "latency": LatencyThresholds, "failures": FailureThresholds}


def _build(data: Mapping[str, Any], where: str) -> Thresholds:
    parts = {}
    for name, cls in _SECTIONS.items():
        sect = dict(data.get(name) or {})
        kw = {}
        for f in fields(cls):
            if f.name not in sect:
                raise ThresholdsError(f"{where}: [{name}] lacks {f.name}")
            value = sect.pop(f.name)
            if f.name in CHOICES:
                if value not in CHOICES[f.name]:
                    raise ThresholdsError(f"{where}: [{name}] {f.name} must be one of {', '.join(CHOICES[f.name])}, got {value!r}")
                kw[f.name] = value
                continue
            typ = int if f.type in ("int", int) else float
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (typ is int and not float(value).is_integer()):
                raise ThresholdsError(f"{where}: [{name}] {f.name} must be a{'n integer' if typ is int else ' number'}, got {value!r}")
            if value < 0:
                raise ThresholdsError(f"{where}: [{name}] {f.name} must not be negative")
            kw[f.name] = typ(value)
        if sect:
            raise ThresholdsError(f"{where}: [{name}] has unknown key(s) {', '.join(sorted(sect))}")
        parts[name] = cls(**kw)
    unknown = set(data) - set(_SECTIONS)
    if unknown:
        raise ThresholdsError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}")
    t = Thresholds(**parts)
    for section in ("tool_error_rate", "latency"):
        if not 0 < getattr(t, section).alpha < 1:
            raise ThresholdsError(f"{where}: [{section}] alpha must be between 0 and 1")
    return t


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
            if not isinstance(data, dict):
                raise ThresholdsError(f"{path}: expected a mapping at the top level")
            return data
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ThresholdsError(f"{path}: {exc}") from exc
    raise ThresholdsError(f"{path}: thresholds must be a .toml, .yaml or .yml file")


def defaults() -> Thresholds:
    text = resources.files("tracelab.reports").joinpath("thresholds.toml").read_text(encoding="utf-8")
    return _build(tomllib.loads(text), "thresholds.toml (packaged defaults)")


def load_thresholds(path: str | Path | None = None, **overrides: Any) -> Thresholds:
    """Defaults, overlaid with the file at ``path`` (any subset of keys), then ``overrides``
    given as ``section__key=value``."""
    base = defaults()
    if path is not None:
        user = _read(Path(path))
        merged = base.to_dict()
        for section, values in user.items():
            if section not in merged:
                raise ThresholdsError(f"{path}: unknown section {section!r} (known: {', '.join(_SECTIONS)})")
            if not isinstance(values, dict):
                raise ThresholdsError(f"{path}: [{section}] must be a table of keys")
            for k, v in values.items():
                if k not in merged[section]:
                    raise ThresholdsError(f"{path}: [{section}] has unknown key {k!r}")
                merged[section][k] = v
        base = _build(merged, str(path))
    return base.with_overrides(**overrides) if overrides else base


__all__ = ["FailureThresholds", "LatencyThresholds", "Thresholds", "ThresholdsError", "ToolErrorThresholds", "defaults", "load_thresholds"]
