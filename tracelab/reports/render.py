"""Render a :class:`~tracelab.reports.sections.Report` as one self-contained HTML file and as
Markdown with image files.

HTML: CSS inlined, every chart inlined as static SVG (vl-convert, no JavaScript), and a
Content-Security-Policy that forbids loading anything, so the file renders identically offline
and cannot phone home. Markdown: GitHub-flavoured tables plus one image file per chart (PNG by
default, for chat tools that do not show SVG; SVG on request) in a ``<stem>_files`` directory
next to it, referenced by relative path.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import jinja2
import vl_convert as vlc
from markupsafe import Markup

import tracelab
from tracelab.charts.export import to_svg
from tracelab.reports.sections import Report

IMAGE_FORMATS = ("png", "svg")


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tracelab.reports", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    return env


def md_escape(text: object) -> str:
    """Make ``text`` safe inside a Markdown table cell or paragraph: one line, no pipes or
    HTML, no accidental emphasis or code. Escapes are CommonMark backslashes, never HTML
    entities (a ``&lt;`` reads as such in a plain-text viewer): ``<`` only where it could open
    a tag or an autolink (before a letter, ``/``, ``!`` or ``?``), ``>`` only where it could
    start a block quote."""
    s = " ".join(str(text).split())
    for ch, rep in (("\\", "\\\\"), ("|", "\\|"), ("*", "\\*"), ("_", "\\_"), ("`", "\\`"), ("[", "\\["), ("]", "\\]")):
        s = s.replace(ch, rep)
    s = _TAG_START.sub(r"\\<", s)
    return "\\" + s if s.startswith(">") else s


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def github_anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", title.lower()).strip().replace(" ", "-")


def chart_svgs(report: Report) -> dict[str, str]:
    """SVG text of every figure, by figure id."""
    return {f.id: to_svg(f.chart) for s in report.sections for f in s.figures}


def chart_images(report: Report, png_scale: float | None = 1.5) -> tuple[dict[str, str], dict[str, bytes]]:
    """SVG of every figure and, when ``png_scale`` is given, its PNG, pipelined: Vega renders
    one chart at a time (one V8 runtime), so each finished SVG is rasterised on a worker thread
    (resvg releases the GIL) while the next chart renders."""
    if png_scale is None:
        return chart_svgs(report), {}
    svgs: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for s in report.sections:
            for f in s.figures:
                svgs[f.id] = to_svg(f.chart)
                futures[f.id] = pool.submit(vlc.svg_to_png, svgs[f.id], scale=png_scale)
        return svgs, {fid: fut.result() for fid, fut in futures.items()}


def render_html(report: Report, svgs: dict[str, str] | None = None) -> str:
    svgs = svgs if svgs is not None else chart_svgs(report)
    css = resources.files("tracelab.reports").joinpath("templates", "weekly.css").read_text(encoding="utf-8")
    tpl = _env().get_template("weekly.html.j2")
    return tpl.render(report=report, svgs={k: Markup(_strip_xml_decl(v)) for k, v in svgs.items()}, css=Markup(css), version=tracelab.__version__)


def _strip_xml_decl(svg: str) -> str:
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)


def write_images(
    report: Report,
    directory: Path,
    fmt: str = "png",
    svgs: dict[str, str] | None = None,
    *,
    scale: float = 1.5,
    pngs: dict[str, bytes] | None = None,
) -> dict[str, Path]:
    """Write one image per figure into ``directory``; returns paths by figure id. ``svgs`` and
    ``pngs`` (from :func:`chart_images`) are used when given instead of rendering again."""
    if fmt not in IMAGE_FORMATS:
        raise ValueError(f"image format must be one of {IMAGE_FORMATS}, got {fmt!r}")
    if svgs is None or (fmt == "png" and pngs is None):
        svgs, pngs = chart_images(report, scale if fmt == "png" else None)
    directory.mkdir(parents=True, exist_ok=True)
    out = {fid: directory / f"{fid}.{fmt}" for fid in svgs}
    for fid, path in out.items():
        if fmt == "svg":
            path.write_text(svgs[fid], encoding="utf-8")
        else:
            assert pngs is not None  # rendered above whenever fmt == "png"
            path.write_bytes(pngs[fid])
    return out


def render_markdown(report: Report, images: dict[str, str]) -> str:
    """Markdown text; ``images`` maps figure ids to the (relative) paths to link."""
    anchors = {s.id: github_anchor(s.title) for s in report.sections}
    anchors["summary"] = anchors.get("summary", "headline")
    tpl = _env().get_template("weekly.md.j2")
    text = tpl.render(report=report, images=images, anchors=anchors, version=tracelab.__version__)
    return re.sub(r"\n{3,}", "\n\n", text)
