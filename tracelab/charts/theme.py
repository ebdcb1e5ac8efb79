"""The one tracelab chart theme, registered with Altair as ``"tracelab"``.

Every chart function in :mod:`tracelab.charts` relies on it rather than styling charts one by
one, so the report, the CLI and notebooks look alike. Importing :mod:`tracelab.charts` registers
and enables it (Altair themes are process-global; call ``alt.theme.enable("default")`` to go back).

Design choices: a colour-blind-safe categorical palette (Okabe-Ito order, extended) so the same
model keeps its colour in every chart of a report when the domains match; metric-compatible fonts only (the HTML report must render offline, so no web fonts, and the
static SVG's text must fit where a browser draws it); light grid, no chart border.
"""

from __future__ import annotations

import altair as alt

NAME = "tracelab"

#: Categorical palette: Okabe-Ito (colour-blind safe) first, then four muted extras.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
    "#8C6D31",
    "#7F7F7F",
    "#9467BD",
    "#17BECF",
)
#: Colour of regression flags and other alarms.
ALERT = "#C0392B"
#: Sequential scheme for "how good is this cell" (scorecard): light red (worst) → light green
#: (best), light enough for black text on every cell.
GOOD_BAD = ("#f4a6a0", "#fbefc4", "#a8dcb5")
#: Arial and Liberation Sans share glyph metrics, so labels measured by vl-convert (which finds
#: Liberation Sans on Linux) fit when a browser draws them with Arial (macOS, Windows) or with
#: Liberation Sans (Linux fontconfig maps Arial to it).
FONT = "Arial, 'Liberation Sans', Helvetica, sans-serif"


@alt.theme.register(NAME, enable=True)
def tracelab_theme() -> alt.theme.ThemeConfig:
    """Altair theme config for tracelab charts."""
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "view": {"continuousWidth": 520, "continuousHeight": 260, "stroke": None},
            "title": {"fontSize": 14, "fontWeight": 600, "anchor": "start", "subtitleFontSize": 11, "subtitleColor": "#555"},
            "axis": {
                "labelFontSize": 11,
                "titleFontSize": 11,
                "titleFontWeight": 500,
                "gridColor": "#e6e6e6",
                "domainColor": "#999",
                "tickColor": "#999",
                "labelLimit": 260,
            },
            "legend": {"labelFontSize": 11, "titleFontSize": 11, "labelLimit": 260, "orient": "right"},
            "header": {"labelFontSize": 11, "titleFontSize": 11},
            "range": {"category": list(PALETTE)},
            "point": {"filled": True, "size": 50},
            "line": {"strokeWidth": 2},
            # Vega-Lite accepts a RelativeBandSize here; altair's ThemeConfig TypedDict only lists float.
            "bar": {"discreteBandSize": {"band": 0.8}},  # type: ignore[typeddict-item]
        }
    }


def enable() -> None:
    """Make the tracelab theme the active Altair theme (it is enabled on import already)."""
    alt.theme.enable(NAME)
