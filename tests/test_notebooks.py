"""The notebooks run top to bottom (nbclient) on a generated warehouse, stay thin, and are
committed without outputs."""

from __future__ import annotations

import ast
import datetime as dt
import os
from pathlib import Path

import nbformat
import pytest
from test_report import synth_warehouse

pytestmark = pytest.mark.xdist_group("synth_report")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = ["01_explore_warehouse", "02_compare_models", "03_triage_failures", "04_debug_a_session"]


def _code_cells(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def tracelab_pl():
    import polars as pl

    return pl


def planted_week_sessions(wh, start: dt.date) -> list[dict]:
    """The main sessions of the ISO week starting ``start`` with errors, worst first (what 04 picks)."""
    import tracelab

    df = tracelab.sessions(wh, since=start.isoformat(), until=(start + dt.timedelta(days=7)).isoformat(), has_errors=True, subagents=False)
    return df.sort(["errors", "steps"], descending=True).to_dicts()


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_thin_and_stripped(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    cells = _code_cells(nb)
    assert any("tracelab" in src for src in cells[:2]), "the first cells import tracelab"
    assert 'os.environ.get("TRACELAB_WAREHOUSE", "../demo/warehouse")' in cells[0]
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, "outputs are stripped in git"
            tree = ast.parse(c.source)
            # no analysis logic: no functions, classes or loops of their own, only calls into tracelab
            assert not [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While))], c.source
            logic = [ln for ln in c.source.splitlines() if ln.strip() and not ln.lstrip().startswith(("import ", "from ", "#"))]
            assert len(logic) <= 8, c.source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(f"# {name[:2]}")


def _execute_all(wh, week: str | None, monkeypatch) -> dict:
    """Run all three notebooks top to bottom in one kernel (imports are paid once), with the
    user namespace reset between notebooks so none can lean on another's variables."""
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    monkeypatch.setenv("TRACELAB_WAREHOUSE", str(wh))
    if week is None:
        monkeypatch.delenv("TRACELAB_WEEK", raising=False)
    else:
        monkeypatch.setenv("TRACELAB_WEEK", week)
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(NOTEBOOKS))
    executed = {}
    try:
        for name in NAMES:
            nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
            nb.cells.insert(0, nbformat.v4.new_code_cell("%reset -f"))
            NotebookClient(nb, km=km, timeout=180, resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
            errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
            assert errors == [], errors
            executed[name] = nb
    finally:
        km.shutdown_kernel(now=True)
    return executed


def _texts(executed: dict) -> dict[str, str]:
    return {
        name: "\n".join(str(o.get("data", {}).get("text/plain", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        for name, nb in executed.items()
    }


def test_notebooks_execute_on_a_generated_warehouse(tmp_path_factory, monkeypatch):
    wh, truth = synth_warehouse(tmp_path_factory)
    planted = truth["planted_regression"]
    start = dt.date.fromisoformat(planted["week_start"])
    y, w, _ = start.isocalendar()
    executed = _execute_all(wh, f"{y}-W{w:02d}", monkeypatch)
    texts = _texts(executed)
    # the warehouse came from the environment, not the default path
    assert str(wh) in texts["01_explore_warehouse"]
    # the triage notebook surfaces the planted regression of that week
    assert planted["tool"] in texts["03_triage_failures"] and planted["model"] in texts["03_triage_failures"]
    assert "adjusted p" in texts["03_triage_failures"]
    # the debugging notebook shows the worst failing session as a page, and the page at its first failing step
    html04 = [
        o["data"]["text/html"] for c in executed["04_debug_a_session"].cells if c.cell_type == "code" for o in c.outputs if "text/html" in o.get("data", {})
    ]
    pages = [h for h in html04 if h.startswith("<iframe srcdoc=")]
    assert len(pages) == 2 and "data-focus=&quot;step-" in pages[1]
    import html as _html
    import re as _re

    import tracelab

    key = _re.search(r'<div class="meta">([^<]+)</div>', _html.unescape(pages[0])).group(1)
    week = [c for c in planted_week_sessions(wh, start)]
    assert key == week[0]["session_key"] and week[0]["errors"] > 0
    stream = "".join(o.get("text", "") for c in executed["04_debug_a_session"].cells if c.cell_type == "code" for o in c.outputs if o.output_type == "stream")
    first_error = (
        tracelab.session(key, warehouse=wh).steps.filter(tracelab_pl().col("highlight").is_not_null() & (tracelab_pl().col("depth") == 0)).row(0, named=True)
    )
    assert f"data-focus=&quot;step-{first_error['n']}&quot;" in pages[1] and first_error["summary"][:40] in stream
    # every chart cell produced a static SVG (no CDN script needed to see it)
    outputs = [o for nb in executed.values() for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("image/svg+xml" in o.get("data", {}) for o in outputs) == 6  # 3 + 2 + 1 chart cells
    assert not any("cdn.jsdelivr" in str(o.get("data", {})) for o in outputs)
    assert os.environ["TRACELAB_WAREHOUSE"] == str(wh)


def test_notebooks_execute_on_the_real_samples_warehouse(tmp_path_factory, monkeypatch):
    """Sparse, many-model real data with the default week (no TRACELAB_WEEK): the latest week
    that has events, 2026-W32 (one session); no notebook may crash on it."""
    from conftest import samples_warehouse

    wh = samples_warehouse(tmp_path_factory)
    executed = _execute_all(wh, None, monkeypatch)
    texts = _texts(executed)
    for name in NAMES:  # every notebook resolves the same default week
        assert "2026-W32" in texts[name], (name, texts[name][:300])
    assert "2026-W32: Aug 3 – Aug 9, 2026" in texts["03_triage_failures"]
    outputs = [o for nb in executed.values() for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert sum("image/svg+xml" in o.get("data", {}) for o in outputs) >= 5
