"""A model comparison scorecard: one row per metric, one column per model."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from tracelab.charts import _frame
from tracelab.charts.theme import GOOD_BAD


def model_scorecard(
    df: Any,
    *,
    model: str = "model",
    metric: str = "metric",
    value: str = "value",
    better: str = "better",
    text: str | None = "label",
    n: str | None = "n",
    title: str = "Model comparison",
    subtitle: str | None = "cell colour: best (green) to worst (red) per metric among these models",
) -> alt.LayerChart:
    """Tiles coloured by how a model ranks on each metric, labelled with the value.

    Input is long: one row per (model, metric) with the numeric ``value``, ``better`` =
    ``"lower"`` or ``"higher"``, optionally a display ``text`` (e.g. ``"4.1% [3.2-5.0]"``) and the
    sample size ``n`` (shown under the value: comparisons without sample sizes mislead). The
    colour is the min-max position within the metric, flipped so that 1 is always best.
    """
    frame = _frame.select(df, [model, metric, value, better], [text, n], chart="model_scorecard")
    bad = frame.filter(~pl.col(better).is_in(["lower", "higher"]))
    if bad.height:
        raise _frame.ChartInputError(f"model_scorecard: column {better!r} must be 'lower' or 'higher', got {bad.get_column(better).unique().to_list()}")
    lo = pl.col(value).min().over(metric)
    hi = pl.col(value).max().over(metric)
    pos = pl.when(hi > lo).then((pl.col(value) - lo) / (hi - lo)).otherwise(0.5)
    frame = frame.with_columns(pl.when(pl.col(better) == "lower").then(1 - pos).otherwise(pos).alias("score"))
    if text is None or text not in frame.columns:
        text = "_text"
        frame = frame.with_columns(pl.col(value).round(3).cast(pl.String).alias(text))
    if n is not None and n in frame.columns:
        frame = frame.with_columns(("n=" + pl.col(n).cast(pl.Int64).cast(pl.String)).alias("_n"))
    metrics = frame.get_column(metric).unique(maintain_order=True).to_list()
    models = frame.get_column(model).unique(maintain_order=True).to_list()
    base = alt.Chart(frame, title=alt.Title(title, subtitle=subtitle or alt.Undefined)).encode(
        x=alt.X(f"{model}:N", sort=models, title=None, axis=alt.Axis(orient="top", labelAngle=0, labelLimit=150)),
        y=alt.Y(f"{metric}:N", sort=metrics, title=None),
    )
    tooltip = [alt.Tooltip(f"{model}:N"), alt.Tooltip(f"{metric}:N"), alt.Tooltip(f"{text}:N", title="value")]
    if "_n" in frame.columns:
        tooltip.append(alt.Tooltip(f"{n}:Q", format=",", title="sample size"))
    tiles = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("score:Q", scale=alt.Scale(domain=[0, 0.5, 1], range=list(GOOD_BAD)), legend=None), tooltip=tooltip
    )
    layers = [tiles, base.mark_text(fontSize=11, dy=-6 if "_n" in frame.columns else 0).encode(text=alt.Text(f"{text}:N"))]
    if "_n" in frame.columns:
        layers.append(base.mark_text(fontSize=9, dy=8, color="#333").encode(text=alt.Text("_n:N")))
    return alt.LayerChart(layer=layers).properties(width=alt.Step(150), height=alt.Step(44))
