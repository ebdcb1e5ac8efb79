"""Offline chart output: SVG, PNG, self-contained HTML or the Vega-Lite JSON spec.

Everything goes through ``vl-convert`` (Vega and Vega-Lite compiled into a Rust library), so no
browser, Node or network is involved: SVG/PNG are rendered in-process, and HTML embeds the Vega
JavaScript bundle instead of linking a CDN. ``allowed_base_urls=[]`` makes any attempt of a spec
to load remote data fail instead of reaching out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert as vlc

FORMATS = ("svg", "png", "html", "json")


def _vl_version() -> str | None:
    """The vl-convert Vega-Lite version matching Altair's schema (e.g. ``6.4``), else its latest."""
    major_minor = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    return major_minor if major_minor in vlc.get_vegalite_versions() else None


def spec(chart: alt.TopLevelMixin | dict) -> dict[str, Any]:
    return chart if isinstance(chart, dict) else chart.to_dict()


def to_svg(chart: alt.TopLevelMixin | dict) -> str:
    return vlc.vegalite_to_svg(spec(chart), vl_version=_vl_version(), allowed_base_urls=[])


def to_png(chart: alt.TopLevelMixin | dict, *, scale: float = 2.0) -> bytes:
    return vlc.vegalite_to_png(spec(chart), vl_version=_vl_version(), scale=scale, allowed_base_urls=[])


def to_html(chart: alt.TopLevelMixin | dict) -> str:
    """A standalone HTML page with the Vega bundle inlined (works with no network)."""
    return vlc.vegalite_to_html(spec(chart), vl_version=_vl_version(), bundle=True)


def render_offline(fmt: str = "svg") -> None:
    """Show charts in notebooks as static images rendered by vl-convert (``svg`` or ``png``).

    Altair's default notebook output is HTML that loads the Vega runtime from a CDN, which
    shows nothing offline or in a viewer without JavaScript (GitHub, nbviewer, CI logs); a
    static image renders everywhere. Tooltips are lost; use ``alt.renderers.enable("default")``
    to get them back."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"fmt must be 'svg' or 'png', got {fmt!r}")
    alt.renderers.enable(fmt)


def save(chart: alt.TopLevelMixin | dict, path: str | Path, *, scale: float = 2.0) -> Path:
    """Write ``chart`` to ``path``; the format comes from the suffix (.svg .png .html .json)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"cannot save a chart as {path.name!r}: use one of {', '.join('.' + f for f in FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "svg":
        path.write_text(to_svg(chart), encoding="utf-8")
    elif fmt == "png":
        path.write_bytes(to_png(chart, scale=scale))
    elif fmt == "html":
        path.write_text(to_html(chart), encoding="utf-8")
    else:
        path.write_text(json.dumps(spec(chart), indent=1), encoding="utf-8")
    return path
