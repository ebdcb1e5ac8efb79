"""The read side on real data: every named chart and the weekly report run on a warehouse built
from all of ``../shared/samples`` (sparse weeks, two dozen models, months-long gaps, unpriced
models, rows without a model or timestamp) as well as on the generated corpus, and their output
stays readable: bounded size, at most ten colours, no ``null`` category, time on a time axis.
"""

from __future__ import annotations

import re

import pytest
import vl_convert as vlc
from conftest import samples_warehouse
from test_report import synth_warehouse

from tracelab.reports.data import assemble
from tracelab.reports.named_charts import NAMED_CHARTS, Filters, build_chart
from tracelab.reports.weekly import write_report

pytestmark = pytest.mark.xdist_group("synth_report")

#: Content width of the HTML report at a 1,280 px window (main: max-width 1280 px, 32 px padding).
PAGE_WIDTH = 1280 - 2 * 32
MAX_HEIGHT = 1400
MAX_COLOURS = 10
TIME_CHARTS = {"tokens", "tokens-weekly", "cost", "cost-weekly", "failure-trends"}


@pytest.fixture(scope="module", params=["samples", "synth"])
def warehouse(request, tmp_path_factory):
    if request.param == "samples":
        return samples_warehouse(tmp_path_factory)
    return synth_warehouse(tmp_path_factory)[0]


def _units(spec: dict) -> list[dict]:
    """Every unit spec (with an ``encoding``) of a chart: top level, layers, facet inner spec."""
    out = []
    stack = [spec]
    while stack:
        s = stack.pop()
        if "encoding" in s or "mark" in s:
            out.append(s)
        stack += s.get("layer", [])
        if "spec" in s:
            stack.append(s["spec"])
    return out


def _rows(spec: dict) -> list[dict]:
    datasets = spec.get("datasets", {})
    return [r for rows in datasets.values() for r in rows]


def _svg_size(svg: str) -> tuple[float, float]:
    m = re.search(r'<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"', svg)
    assert m, svg[:200]
    return float(m.group(1)), float(m.group(2))


_LABEL_GROUP = re.compile(r'<g class="mark-text role-axis-label"[^>]*>(.*?)</g>', re.S)
_LABEL = re.compile(
    r'<text text-anchor="(\w+)" transform="translate\(([-\d.]+),([-\d.]+)\)(?: rotate\([^)]*\))?"[^>]*font-size="([\d.]+)px"[^>]*opacity="([\d.]+)"[^>]*>([^<]*)</text>'
)


def _axis_label_overlaps(svg: str) -> list[tuple[str, str]]:
    """Pairs of neighbouring axis labels whose boxes overlap in the rendered SVG. Widths are a
    lower bound (0.5 em a character, Arial averages about 0.55), so a hit is a real overlap."""
    hits = []
    for group in _LABEL_GROUP.findall(svg):
        # Vega hides the labels it thins out with opacity 0: only the visible ones can collide
        labels = [(a, float(x), float(y), float(fs), t) for a, x, y, fs, op, t in _LABEL.findall(group) if t.strip() and float(op) > 0]
        if len(labels) < 2 or "rotate(" in group:
            continue
        if len({y for _, _, y, _, _ in labels}) == 1:  # a horizontal axis: boxes along x
            boxes = []
            for anchor, x, _, fs, text in labels:
                w = 0.5 * fs * len(text)
                lo = x - w / 2 if anchor == "middle" else x - w if anchor == "end" else x
                boxes.append((lo, lo + w, text))
            boxes.sort()
            hits += [(a[2], b[2]) for a, b in zip(boxes, boxes[1:]) if b[0] < a[1]]
        else:  # a vertical axis: one line of text each
            ys = sorted((y, fs, text) for _, _, y, fs, text in labels)
            hits += [(a[2], b[2]) for a, b in zip(ys, ys[1:]) if b[0] - a[0] < 0.8 * a[1]]
    return hits


def test_label_overlap_check_finds_a_crowded_axis():
    import altair as alt
    import polars as pl

    crowded = alt.Chart(pl.DataFrame({"k": [f"label number {i}" for i in range(40)], "v": list(range(40))})).mark_bar()
    crowded = crowded.encode(x=alt.X("k:N", axis=alt.Axis(labelAngle=0, labelOverlap=False)), y="v:Q").properties(width=300)
    assert _axis_label_overlaps(vlc.vegalite_to_svg(crowded.to_dict()))


@pytest.mark.parametrize("name", list(NAMED_CHARTS))
def test_named_chart_stays_readable(warehouse, name):
    spec = build_chart(name, warehouse).to_dict()
    rows = _rows(spec)
    assert rows, "the chart embeds data"
    units = _units(spec)
    # no null category: every nominal field of every encoding has a value in every row
    nominal = {e["field"] for u in units for ch, e in u.get("encoding", {}).items() if isinstance(e, dict) and e.get("type") == "nominal" and "field" in e}
    nominal -= {"_n"}  # the sample-size caption, shown only where there is a sample size
    for field in nominal:
        assert all(r.get(field) is not None for r in rows if field in r), f"{name}: null in {field}"
    # at most ten colours
    colour_fields = {u["encoding"]["color"]["field"] for u in units if "field" in u.get("encoding", {}).get("color", {})}
    for field in colour_fields - {"score"}:  # the scorecard's colour is a continuous score
        values = {r.get(field) for r in rows if field in r}
        assert len(values) <= MAX_COLOURS, f"{name}: {len(values)} colours in {field}"
    # time on a UTC time axis: real spacing, so a months-long gap looks like one
    if name in TIME_CHARTS:
        x = [u["encoding"]["x"] for u in units if "x" in u.get("encoding", {})]
        assert x and all(e["type"] == "temporal" and e.get("scale", {}).get("type") == "utc" for e in x), x
    # bounded size, as rendered (legends, facets and labels included)
    svg = vlc.vegalite_to_svg(spec)
    width, height = _svg_size(svg)
    assert width <= PAGE_WIDTH and height <= MAX_HEIGHT, f"{name}: {width} x {height} px"
    assert ">null<" not in svg and ">undefined<" not in svg
    assert _axis_label_overlaps(svg) == [], f"{name}: overlapping axis labels"


def test_real_samples_charts_fold_and_label_what_they_leave_out(tmp_path_factory):
    wh = samples_warehouse(tmp_path_factory)
    weekly = build_chart("tokens-weekly", wh).to_dict()
    subtitle = weekly["title"]["subtitle"]
    # 24 models in the samples: 9 named, the rest one grey "other"; undated calls are counted, not drawn
    assert any("smaller model series shown as 'other'" in line for line in subtitle)
    assert any("without a timestamp not shown" in line for line in subtitle)
    models = {r["series"] for r in _rows(weekly)}
    assert "other" in models and None not in models
    # cells with small samples are not ranked (no colour), the others are: over all samples the
    # scorecard keeps the models with the largest samples (every cell n >= 20); Copilot's own
    # sessions mix small and large cells
    for f in (None, Filters(agent="copilot")):
        rows = _rows(build_chart("model-scorecard", wh, f).to_dict())
        assert rows and all(r["score"] is None for r in rows if r["n"] < 20)
        assert any(r["score"] is not None for r in rows)
    assert any(r["score"] is None and r["n"] < 20 for r in rows)


def test_weekly_report_on_real_samples(tmp_path_factory, tmp_path):
    """The default week lands on data; every section renders; the Markdown has no HTML escapes."""
    wh = samples_warehouse(tmp_path_factory)
    data = assemble(wh)
    assert str(data.week) == "2026-W32" and data.events and data.events > 0
    paths = write_report(data, tmp_path)
    md = paths["md"].read_text()
    html = paths["html"].read_text()
    for section in ("summary", "tool-errors", "latency", "usage", "failures", "models", "data-quality"):
        assert f'data-section="{section}"' in html
    assert not re.search(r"&(lt|gt|amp|quot|#\d+);", md), re.findall(r".{40}&(?:lt|gt|amp|quot|#\d+);.{20}", md)
    assert "null" not in re.sub(r"`[^`]*`", "", md).split()


def test_weekly_report_shows_no_percentile_of_a_tiny_sample(tmp_path_factory):
    """A latency percentile from fewer than MIN_PERCENTILE_N observations reads "n too small"
    (the samples' W32 has a model with one timed LLM call and tools with 1-5 calls), in the
    latency tables, the model table and the KPIs; larger samples keep their values."""
    from tracelab.reports import fmt, sections

    data = assemble(samples_warehouse(tmp_path_factory))
    latency = sections.latency_section(data)
    small = large = 0
    for table in latency.tables:
        n_col = table.columns.index("n")
        for row in table.rows:
            n = int(row[n_col].replace(",", ""))
            cells = [row[table.columns.index(c)] for c in ("p50", "p90", "p95", "p99")]
            if n < fmt.MIN_PERCENTILE_N:
                small += 1
                assert cells == [fmt.SMALL_N] * 4, row
            else:
                large += 1
                assert fmt.SMALL_N not in cells and fmt.DASH not in cells, row
    assert small >= 2 and large >= 2
    models = next(t for t in sections.models_section(data).tables if t.id == "model-table")
    by_model = {(r[0], r[1]): r for r in models.rows}
    latency_n = {(r["agent"], r["model"]): r["latency_n"] for r in data.comparison.iter_rows(named=True)}
    checked = 0
    for key, n in latency_n.items():
        row = by_model[key]
        p50 = row[models.columns.index("p50")]
        if n is not None and 0 < n < fmt.MIN_PERCENTILE_N:
            assert p50 == fmt.SMALL_N, row
            checked += 1
    assert checked >= 1
    kpis = {k.label: k for k in sections.summary_section(data, sections.regressions_of(data)).kpis}
    cur = next(r for r in data.kpis.iter_rows(named=True) if r["week"] == "current")
    assert 0 < cur["llm_latency_n"] <= cur["llm_calls"]
    assert kpis["LLM latency p50"].value == fmt.ms_n(cur["llm_p50_ms"], cur["llm_latency_n"])
    # the KPI rule itself, on a week of one timed call
    assert fmt.ms_n(1234.0, 1) == fmt.SMALL_N and fmt.ms_n(1234.0, fmt.MIN_PERCENTILE_N) == fmt.ms(1234.0) and fmt.ms_n(None, 1) == fmt.DASH


#: Measures the laid-out page and writes the result into the DOM (read back with --dump-dom).
_MEASURE = """<script>
window.addEventListener("load", () => {
  const page = document.documentElement.clientWidth;
  const figs = [...document.querySelectorAll("figure.chart svg")].map(s => {
    const r = s.getBoundingClientRect();
    return {id: s.closest("figure").id, right: Math.ceil(r.right), width: Math.ceil(r.width)};
  });
  const out = {page, scroll: document.documentElement.scrollWidth, figs};
  const pre = document.createElement("pre");
  pre.id = "tl-measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.mark.peer
def test_html_report_fits_a_1280px_window_in_chromium(tmp_path_factory, tmp_path):
    """Headless Chromium at 1,280 px: no chart is wider than the page and the page does not
    scroll sideways, on the real samples and on the generated corpus."""
    import json
    import subprocess

    from test_report import _chromium

    exe = _chromium()
    if exe is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium)")
    for label, wh in (("samples", samples_warehouse(tmp_path_factory)), ("synth", synth_warehouse(tmp_path_factory)[0])):
        paths = write_report(assemble(wh), tmp_path / label, ["html"])
        html = paths["html"].read_text()
        # the report forbids scripts (CSP); this measuring copy drops the policy and adds one
        probe = tmp_path / label / "measure.html"
        probe.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html).replace("</body>", _MEASURE + "</body>"))
        run = subprocess.run(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={tmp_path / label / 'profile'}",
                "--window-size=1280,900",
                "--hide-scrollbars",
                "--virtual-time-budget=5000",
                "--dump-dom",
                probe.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        m = re.search(r'<pre id="tl-measure">(.*?)</pre>', run.stdout)
        assert m, (label, run.stderr[-1500:])
        got = json.loads(m.group(1).replace("&quot;", '"'))
        assert got["page"] <= 1280 and got["figs"], (label, got)
        wide = [f for f in got["figs"] if f["right"] > got["page"]]
        assert wide == [] and got["scroll"] <= got["page"], (label, wide, got["scroll"])
