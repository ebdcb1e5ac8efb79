"""A model comparison scorecard: one row per metric, one column per model."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from tracelab.charts import _frame, _scale
from tracelab.charts.theme import GOOD_BAD

#: Fill of cells whose sample is too small to rank.
SMALL_N = "#eeeeee"


def model_scorecard(
    df: Any,
    *,
    model: str = "model",
    metric: str = "metric",
    value: str = "value",
    better: str = "better",
    text: str | None = "label",
    n: str | None = "n",
    min_n: int = 20,
    max_models: int | None = 12,
    title: str = "Model comparison",
    subtitle: str | None = None,
) -> alt.LayerChart:
    """Tiles coloured by how a model ranks on each metric, labelled with the value; one row per
    model, one column per metric.

    Input is long: one row per (model, metric) with the numeric ``value``, ``better`` =
    ``"lower"`` or ``"higher"``, optionally a display ``text`` (e.g. ``"4.1% [3.2-5.0]"``) and the
    sample size ``n`` (shown under the value: comparisons without sample sizes mislead). The
    colour is the min-max position within the metric, flipped so that 1 is always best, among
    the cells with ``n >= min_n`` only, and only where at least two models have such a sample;
    other cells stay grey ("n too small" to rank). With more than ``max_models`` models, those
    with the largest samples are kept."""
    frame = _frame.select(df, [model, metric, value, better], [text, n], chart="model_scorecard")
    frame = _scale.unknown_labels(frame, model)
    bad = frame.filter(~pl.col(better).is_in(["lower", "higher"]))
    if bad.height:
        raise _frame.ChartInputError(f"model_scorecard: column {better!r} must be 'lower' or 'higher', got {bad.get_column(better).unique().to_list()}")
    ncol = n if n is not None and n in frame.columns else None
    has_n = ncol is not None
    notes = []
    if max_models is not None:
        size = pl.col(ncol).max() if ncol is not None else pl.len()
        ranked = frame.group_by(model).agg(size.alias("_w")).sort(["_w", model], descending=[True, False]).get_column(model).to_list()
        if len(ranked) > max_models:
            frame = frame.filter(pl.col(model).is_in(ranked[:max_models]))
            notes.append(f"{max_models} of {len(ranked)} models with the largest samples")
    ok = (pl.col(ncol) >= min_n) if ncol is not None else pl.lit(True)
    frame = frame.with_columns(ok.fill_null(False).alias("_ok"))
    v = pl.when(pl.col("_ok")).then(pl.col(value))
    lo, hi = v.min().over(metric), v.max().over(metric)
    ranked_n = pl.col("_ok").sum().over(metric)
    pos = pl.when(hi > lo).then((pl.col(value) - lo) / (hi - lo)).otherwise(0.5)
    score = pl.when(pl.col(better) == "lower").then(1 - pos).otherwise(pos)
    frame = frame.with_columns(pl.when(pl.col("_ok") & (ranked_n >= 2)).then(score).otherwise(None).alias("score"))
    if text is None or text not in frame.columns:
        text = "_text"
        frame = frame.with_columns(pl.col(value).round(3).cast(pl.String).alias(text))
    if ncol is not None:
        frame = frame.with_columns(("n=" + pl.col(ncol).cast(pl.Int64).cast(pl.String)).alias("_n"))
    metrics = frame.get_column(metric).unique(maintain_order=True).to_list()
    models = frame.get_column(model).unique(maintain_order=True).to_list()
    base = alt.Chart(frame).encode(
        x=alt.X(f"{metric}:N", sort=metrics, title=None, axis=alt.Axis(orient="top", labelAngle=0, labelLimit=130)),
        y=alt.Y(f"{model}:N", sort=models, title=None, axis=alt.Axis(labelLimit=260)),
    )
    tooltip = [alt.Tooltip(f"{model}:N"), alt.Tooltip(f"{metric}:N"), alt.Tooltip(f"{text}:N", title="value")]
    if has_n:
        tooltip.append(alt.Tooltip(f"{n}:Q", format=",", title="sample size"))
    grey = base.mark_rect(stroke="white", strokeWidth=2, color=SMALL_N).encode(tooltip=tooltip)
    tiles = (
        base.transform_filter("isValid(datum.score)")
        .mark_rect(stroke="white", strokeWidth=2)
        .encode(color=alt.Color("score:Q", scale=alt.Scale(domain=[0, 0.5, 1], range=list(GOOD_BAD)), legend=None), tooltip=tooltip)
    )
    layers = [grey, tiles, base.mark_text(fontSize=11, dy=-6 if has_n else 0).encode(text=alt.Text(f"{text}:N"))]
    if has_n:
        layers.append(base.mark_text(fontSize=9, dy=8, color="#333").encode(text=alt.Text("_n:N")))
    how = f"cell colour: best (green) to worst (red) per metric among models with n >= {min_n}; grey: n too small to rank"
    return alt.LayerChart(layer=layers, title=alt.Title(title, subtitle=_scale.subtitle(subtitle, how, *notes) or alt.Undefined)).properties(
        width=alt.Step(128), height=alt.Step(40)
    )
