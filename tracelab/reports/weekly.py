"""The weekly quality report: one call from a warehouse to HTML and Markdown files.

>>> from tracelab.reports.weekly import write_weekly_report            # doctest: +SKIP
>>> write_weekly_report("warehouse", "reports")                        # doctest: +SKIP
{'html': PosixPath('reports/weekly-2026-W44.html'), 'md': PosixPath('reports/weekly-2026-W44.md')}

Pipeline: :func:`tracelab.reports.data.assemble` (numbers, from named SQL and the failure
clusters) → :func:`tracelab.reports.sections.build` (formatted sections, charts, regression
flags) → :mod:`tracelab.reports.render` (templates). Each stage can be used on its own.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterable
from pathlib import Path

from tracelab.reports import render, sections
from tracelab.reports.config import Thresholds
from tracelab.reports.data import WeeklyData, assemble
from tracelab.reports.session_pages import write_pages
from tracelab.reports.weeks import IsoWeek

FORMATS = ("html", "md")


def _formats(formats: Iterable[str] | str) -> tuple[str, ...]:
    items = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    items = [f for f in items if f]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise ValueError(f"report formats must be among {', '.join(FORMATS)}, got {', '.join(bad) or 'none'}")
    return tuple(dict.fromkeys(items))


def write_report(
    data: WeeklyData,
    out_dir: str | os.PathLike,
    formats: Iterable[str] | str = FORMATS,
    *,
    md_images: str = "png",
    generated_at: _dt.datetime | None = None,
) -> dict[str, Path]:
    """Render already-assembled ``data`` into ``out_dir``; returns ``{format: path}``."""
    fmts = _formats(formats)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = sections.build(data, generated_at=generated_at)
    svgs, pngs = render.chart_images(report, 1.5 if ("md" in fmts and md_images == "png") else None)
    stem = f"weekly-{data.week}"
    paths: dict[str, Path] = {}
    write_pages(data.session_pages, out)  # the exemplars' session pages, which both formats link to
    if "html" in fmts:
        p = out / f"{stem}.html"
        p.write_text(render.render_html(report, svgs), encoding="utf-8")
        paths["html"] = p
    if "md" in fmts:
        img_dir = out / f"{stem}_files"
        images = render.write_images(report, img_dir, md_images, svgs, pngs=pngs)
        p = out / f"{stem}.md"
        p.write_text(render.render_markdown(report, {k: f"{img_dir.name}/{v.name}" for k, v in images.items()}), encoding="utf-8")
        paths["md"] = p
    return paths


def write_weekly_report(
    warehouse: str | os.PathLike,
    out_dir: str | os.PathLike,
    week: str | IsoWeek | None = None,
    formats: Iterable[str] | str = FORMATS,
    *,
    thresholds: Thresholds | None = None,
    md_images: str = "png",
) -> dict[str, Path]:
    """Write the weekly quality report of ``warehouse`` for ``week`` (``"2026-W47"``; default:
    the last complete ISO week in the data) into ``out_dir`` as ``weekly-<week>.html`` and/or
    ``weekly-<week>.md`` (+ ``weekly-<week>_files/`` images). Returns ``{format: path}``."""
    data = assemble(warehouse, week, thresholds)
    return write_report(data, out_dir, formats, md_images=md_images)


__all__ = ["FORMATS", "WeeklyData", "assemble", "write_report", "write_weekly_report"]
