"""The named query library: every query's header is its contract, on real and generated data.

* headers parse; declared params are exactly the ``$names`` the SQL uses; declared returns are
  exactly the columns (names and DuckDB types) the query produces, on a warehouse of the real
  shared samples and on a generated corpus;
* filters (window, agent, model, project, tool, include_subagents) filter;
* a hostile value is data: it matches nothing or is refused, and never runs as SQL;
* on the generated corpus, recovered error rates, latency percentiles, token totals and loop
  counts match ``truth.json``;
* the queries ship inside the wheel and load from an installed (non-editable) package;
* ``tracelab query`` and ``tracelab usage`` work end to end.

``build_samples_wh`` and ``build_synth`` are imported by test_metrics.py and test_spark.py so
each pytest process builds the two warehouses once.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import tracelab.library as Q
from tracelab.catalog import connect

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ["TRACELAB_SHARED"]) if os.environ.get("TRACELAB_SHARED") else REPO.parent / "shared"
SAMPLES = SHARED / "samples"

SYNTH_SESSIONS = 24
SYNTH_SEED = 11

_BUILT: dict[str, Path] = {}

HOSTILE = "x'; DROP TABLE events; --"


# --------------------------------------------------------------------------------------
# warehouses (built once per process, shared with test_metrics / test_spark)
# --------------------------------------------------------------------------------------


def build_samples_wh(tmp_path_factory) -> Path:
    """A warehouse of every shared real sample (Claude Code, Codex, Pi)."""
    if "samples" not in _BUILT:
        if not SAMPLES.is_dir():
            pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
        from tracelab.pipeline import ingest

        wh = tmp_path_factory.getbasetemp() / "tlq_samples_wh"
        summary = ingest([str(SAMPLES / a) for a in ("claude-code", "codex", "pi") if (SAMPLES / a).is_dir()], wh, jobs=1)
        assert summary.files_failed == 0, summary.errors
        _BUILT["samples"] = wh
    return _BUILT["samples"]


def build_synth(tmp_path_factory) -> tuple[Path, dict]:
    """(warehouse, truth) of a generated corpus of all three agents."""
    if "synth" not in _BUILT:
        from tracelab.pipeline import ingest
        from tracelab.synth import generate

        base = tmp_path_factory.getbasetemp()
        corpus = base / "tlq_synth_corpus"
        generate(corpus, sessions=SYNTH_SESSIONS, seed=SYNTH_SEED, jobs=1)
        wh = base / "tlq_synth_wh"
        summary = ingest([str(corpus / a) for a in ("claude", "codex", "pi")], wh, jobs=1)
        assert summary.files_failed == 0, summary.errors
        _BUILT["synth"] = wh
        _BUILT["truth"] = corpus / "truth.json"
    return _BUILT["synth"], json.loads(_BUILT["truth"].read_text())


@pytest.fixture(scope="module")
def samples_con(tmp_path_factory):
    con = connect(build_samples_wh(tmp_path_factory))
    yield con
    con.close()


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    wh, truth = build_synth(tmp_path_factory)
    con = connect(wh)
    yield con, truth, wh
    con.close()


ALL = sorted(Q.load_all())


# --------------------------------------------------------------------------------------
# headers
# --------------------------------------------------------------------------------------


def test_library_has_the_issue_queries():
    expected = {
        "tool_error_rates",
        "tool_error_messages",
        "shell_exit_codes",
        "tool_retries",
        "latency_percentiles",
        "latency_histogram",
        "latency_ecdf",
        "token_usage",
        "token_usage_by_project",
        "usage_report",
        "pricing_coverage",
        "session_summary",
        "session_stats",
        "tool_loops",
        "compare_tool_errors",
        "compare_latency",
        "metric_samples",
    }
    assert expected <= set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_header_declares_exactly_the_params_the_sql_uses(name):
    q = Q.get(name)
    assert q.description and q.returns, name
    assert set(q.param_names) == Q.referenced_params(q.sql)
    assert len(set(q.param_names)) == len(q.params)
    for p in q.params:
        assert p.description, (name, p.name)
    # the usual filters are spelled the same everywhere
    for p in q.params:
        if p.name in ("since", "until"):
            assert (p.type, p.default) == ("TIMESTAMP", None)
        if p.name in ("agent", "model", "project", "tool"):
            assert (p.type, p.default) == ("VARCHAR", None)
        if p.name == "include_subagents":
            assert (p.type, p.default) == ("BOOLEAN", True)


def test_header_parser_rejects_malformed_headers():
    with pytest.raises(Q.QueryError, match="no '-- name:'"):
        Q.parse("-- description: x\nSELECT 1", "x.sql")
    with pytest.raises(Q.QueryError, match="unsupported type"):
        Q.parse("-- name: x\n-- param a MAP: no\nSELECT $a", "x.sql")
    with pytest.raises(Q.QueryError, match="unrecognised header line"):
        Q.parse("-- name: x\n-- params since\nSELECT 1", "x.sql")
    with pytest.raises(Q.QueryError, match="not one of its choices"):
        Q.parse("-- name: x\n-- param p VARCHAR = 'z' {a|b}: p\nSELECT $p", "x.sql")
    q = Q.parse(
        "-- name: x\n-- description: d\n--   more\n-- param p VARCHAR[] = ['a', 'b''c']: list\n-- returns y INTEGER: y\nSELECT 1 AS y -- $notaparam\n", "x.sql"
    )
    assert q.description == "d more" and q.params[0].default == ["a", "b'c"]
    assert Q.referenced_params(q.sql) == set()
    # a quote in a comment opens no string; '--' in a string opens no comment
    assert Q.referenced_params("SELECT $a -- the query's\n, $b, '--' || $c, 'x''$d' -- $e\n") == {"a", "b", "c"}
    with pytest.raises(Q.QueryError, match="below its lower bound"):
        Q.parse("-- name: x\n-- param n INTEGER = 0 (>= 1): n\nSELECT $n", "x.sql")
    with pytest.raises(Q.QueryError, match="not numeric"):
        Q.parse("-- name: x\n-- param s VARCHAR = 'a' (>= 1): s\nSELECT $s", "x.sql")


def test_numeric_parameters_below_their_bound_are_refused():
    """Counts a query cannot use (0 bins, 0 points, a loop of 1 call) are an error naming the
    parameter, not an empty or nonsensical result; the bound shows in the parsed header."""
    q = Q.parse("-- name: x\n-- param n INTEGER = 3 (>= 2): n\n-- param d DOUBLE = NULL (>= -1.5): d\nSELECT $n, $d", "x.sql")
    assert [p.minimum for p in q.params] == [2, -1.5]
    assert Q.bind(q, {"n": "2", "d": "-1.5"}) == {"n": 2, "d": -1.5}
    with pytest.raises(Q.QueryParamError, match="'n': 1 is below the lowest allowed value, 2"):
        Q.bind(q, {"n": 1})
    with pytest.raises(Q.QueryParamError, match="'d'"):
        Q.bind(q, {"d": -2})
    bounds = {(x.name, p.name): p.minimum for x in Q.load_all().values() for p in x.params if p.minimum is not None}
    assert bounds[("latency_histogram", "bins")] == 1 and bounds[("tool_loops", "min_repeats")] == 2
    for (name, param), low in bounds.items():
        with pytest.raises(Q.QueryParamError, match=param):
            Q.bind(Q.get(name), {param: low - 1})


def _check_columns(con, name: str, **params) -> pl.DataFrame:
    q = Q.get(name)
    rel = Q.relation(con, q, **params)
    declared = [(c.name, c.type) for c in q.returns]
    actual = [(c, str(t)) for c, t in zip(rel.columns, rel.types)]
    assert actual == declared, name
    return rel.pl()


@pytest.mark.parametrize("name", ALL)
def test_query_runs_on_real_samples_and_returns_declared_columns(samples_con, name):
    assert _check_columns(samples_con, name, **REQUIRED.get(name, {})).height > 0 or name not in REQUIRED


#: queries that find nothing without these parameters
REQUIRED: dict[str, dict] = {}


@pytest.mark.parametrize("name", ALL)
def test_query_runs_on_generated_corpus_and_returns_declared_columns(synth, name):
    con, _, _ = synth
    df = _check_columns(con, name, **REQUIRED.get(name, {}))
    assert df.height > 0, f"{name} found nothing in a generated corpus of every agent"


# --------------------------------------------------------------------------------------
# filters and parameters
# --------------------------------------------------------------------------------------


def test_window_agent_and_tool_filters(synth):
    con, truth, _ = synth
    weeks = [w["start"] for w in truth["window"]["weeks"]]
    all_rows = Q.run("tool_error_rates", con, period="week")
    w1 = Q.run("tool_error_rates", con, period="week", since=weeks[1], until=weeks[2])
    assert w1["period_start"].unique().to_list() == [dt.date.fromisoformat(weeks[1])]
    assert w1["calls"].sum() == all_rows.filter(pl.col("period_start") == dt.date.fromisoformat(weeks[1]))["calls"].sum()
    assert Q.run("tool_error_rates", con, since=weeks[1], until=weeks[1]).height == 0
    pi = Q.run("tool_error_rates", con, agent="pi", period="all")
    assert pi["agent"].unique().to_list() == ["pi"]
    assert pi["calls"].sum() == con.execute("SELECT count(*) FROM tool_calls WHERE agent = 'pi'").fetchall()[0][0]
    bash = Q.run("tool_error_rates", con, tool="Bash", period="all")
    assert bash["tool_name"].unique().to_list() == ["Bash"]


def test_include_subagents_and_project_filters(synth):
    con, _, _ = synth
    with_sub = Q.run("tool_error_rates", con, period="all")["calls"].sum()
    without = Q.run("tool_error_rates", con, period="all", include_subagents=False)["calls"].sum()
    in_subagents = con.execute("SELECT count(*) FROM tool_calls t JOIN sessions s USING (session_key) WHERE s.is_subagent").fetchall()[0][0]
    assert in_subagents > 0 and with_sub - without == in_subagents
    project, n = con.execute(
        "SELECT s.project, count(*) FROM llm_calls l JOIN sessions s USING (session_key) WHERE NOT l.is_synthetic GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    ).fetchall()[0]
    assert Q.run("token_usage", con, project=project, period="all")["llm_calls"].sum() == n


def test_model_filter_and_period_buckets(synth):
    con, _, _ = synth
    model = con.execute("SELECT model FROM llm_calls WHERE agent = 'claude' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchall()[0][0]
    days = Q.run("token_usage", con, model=model, period="day")
    months = Q.run("token_usage", con, model=model, period="month")
    assert days["model"].unique().to_list() == [model]
    assert days["total_tokens"].sum() == months["total_tokens"].sum() > 0
    assert all(d.day == 1 for d in months["period_start"])
    weeks = Q.run("token_usage", con, model=model, period="week")
    assert all(d.weekday() == 0 for d in weeks["period_start"])  # Monday


def test_tracelab_query_is_callable_from_the_package(synth):
    import tracelab

    _, _, wh = synth
    df = tracelab.query("token_usage", warehouse=wh, period="all", agent="pi")
    assert isinstance(df, pl.DataFrame) and df["agent"].unique().to_list() == ["pi"]
    from polars.testing import assert_frame_equal

    # float sums may differ in the last bits between runs (parallel aggregation order)
    assert_frame_equal(df, Q.run("token_usage", warehouse=wh, period="all", agent="pi"), check_exact=False, rel_tol=1e-12)
    # a plain function of the package (no callable module); the runner's module is tracelab.library
    assert inspect.isfunction(tracelab.query) and tracelab.library is Q


def test_bad_parameter_values_are_refused_before_running(synth):
    con, _, _ = synth
    with pytest.raises(Q.QueryParamError, match="not one of"):
        Q.run("token_usage", con, period="fortnight")
    with pytest.raises(Q.QueryParamError, match="not a parameter"):
        Q.run("token_usage", con, bogus=1)
    with pytest.raises(Q.QueryParamError, match="expected an ISO date or time"):
        Q.run("token_usage", con, since="last tuesday")
    with pytest.raises(Q.QueryParamError, match="BOOLEAN"):
        Q.run("token_usage", con, include_subagents="maybe")
    with pytest.raises(Q.QueryError, match="by must be"):
        Q.run("latency_percentiles", con, by="model,secrets")
    with pytest.raises(Q.UnknownQueryError):
        Q.get("drop_everything")


@pytest.mark.parametrize("name", ALL)
def test_hostile_value_is_treated_as_data(synth, name):
    con, _, _ = synth
    before = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    q = Q.get(name)
    for p in q.params:
        if p.type == "VARCHAR" and not p.choices and p.name not in ("by", "timezone"):
            df = Q.run(name, con, **{p.name: HOSTILE})
            if p.name in ("agent", "model", "project", "tool"):
                # a filter value that matches nothing: no rows (the metric_samples union and
                # tool-only filters on other metrics may legitimately ignore it)
                assert df.height == 0 or p.name == "tool", (name, p.name)
        elif p.type == "VARCHAR[]":
            assert Q.run(name, con, **{p.name: [HOSTILE]}).height == 0
        elif p.type in ("TIMESTAMP", "DATE", "INTEGER", "BOOLEAN", "DOUBLE") or p.choices:
            with pytest.raises(Q.QueryError):
                Q.run(name, con, **{p.name: HOSTILE})
    by = q.params[q.param_names.index("by")] if "by" in q.param_names else None
    if by is not None and not by.choices:
        with pytest.raises(Q.QueryError, match="by must be"):
            Q.run(name, con, by=HOSTILE)
    if "timezone" in q.param_names:
        with pytest.raises(Q.QueryError):
            Q.run(name, con, timezone=HOSTILE)
    assert con.execute("SELECT count(*) FROM events").fetchall()[0][0] == before


# --------------------------------------------------------------------------------------
# recovered truth on the generated corpus
# --------------------------------------------------------------------------------------

AGENTS = ["claude", "codex", "pi"]


@pytest.mark.parametrize("agent", AGENTS)
def test_error_rates_match_truth(synth, agent):
    con, truth, _ = synth
    got = Q.run("tool_error_rates", con, agent=agent, period="all")
    checked = 0
    for model, tools in truth["agents"][agent]["tools"].items():
        for tool, cell in tools.items():
            if not cell["completed"]:
                continue
            row = got.filter((pl.col("model") == model) & (pl.col("tool_name") == tool))
            assert row.height == 1, (model, tool)
            assert row["completed"][0] == cell["completed"], (model, tool)
            assert abs(row["error_rate"][0] - cell["realized_error_rate"]) <= 0.005, (model, tool)
            checked += 1
    assert checked >= 6


@pytest.mark.parametrize("agent", AGENTS)
def test_outcome_split_matches_truth(synth, agent):
    con, truth, _ = synth
    got = Q.run("tool_error_rates", con, agent=agent, period="all")
    expected = truth["agents"][agent]["tool_calls"]["by_status"]
    actual = {
        "ok": got["ok"].sum(),
        "error": got["errors"].sum(),
        "user_rejected": got["user_rejections"].sum(),
        "interrupted": got["interruptions"].sum(),
        "no_result": got["no_result"].sum(),
    }
    assert actual == {k: expected[k] for k in actual}


@pytest.mark.parametrize("agent", AGENTS)
def test_weekly_error_counts_match_truth(synth, agent):
    con, truth, _ = synth
    got = Q.run("tool_error_rates", con, agent=agent, period="week")
    weeks = {str(w["week"]): dt.date.fromisoformat(w["start"]) for w in truth["window"]["weeks"]}
    for week, models in truth["agents"][agent]["weekly"].items():
        for model, tools in models.items():
            for tool, cell in tools.items():
                row = got.filter((pl.col("period_start") == weeks[week]) & (pl.col("model") == model) & (pl.col("tool_name") == tool))
                assert (row["completed"].sum(), row["errors"].sum()) == (cell["completed"], cell["errors"]), (week, model, tool)


def test_planted_regression_is_visible(synth):
    con, truth, _ = synth
    reg = truth["planted_regression"]
    rows = Q.run("tool_error_rates", con, agent=reg["agent"], model=reg["model"], tool=reg["tool"], period="week")
    last = rows.filter(pl.col("period_start") == dt.date.fromisoformat(reg["week_start"]))
    real = reg["realized"]["last_week"]
    assert (last["completed"][0], last["errors"][0]) == (real["completed"], real["errors"])
    before = rows.filter(pl.col("period_start") < dt.date.fromisoformat(reg["week_start"]))
    assert before["errors"].sum() / before["completed"].sum() < last["error_rate"][0]


def _rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b) if b else abs(a)


@pytest.mark.parametrize("agent", AGENTS)
def test_latency_percentiles_match_truth(synth, agent):
    con, truth, _ = synth
    tool = Q.run("latency_percentiles", con, metric="tool", by="model,tool", agent=agent)
    llm = Q.run("latency_percentiles", con, metric="llm", by="model", agent=agent)
    checked = 0
    for model, tools in truth["agents"][agent]["tools"].items():
        for name, cell in tools.items():
            lat = cell["latency"]
            if not lat["samples"]:
                continue
            row = tool.filter((pl.col("model") == model) & (pl.col("tool_name") == name))
            assert row["n"][0] == lat["samples"], (model, name)
            for q in (50, 90, 95, 99):
                assert _rel(row[f"p{q}_ms"][0], lat[f"p{q}"]) <= 0.05, (model, name, q)
            checked += 1
    for model, lat in truth["agents"][agent]["llm_latency"].items():
        row = llm.filter(pl.col("model") == model)
        assert row["n"][0] == lat["samples"], model
        for q in (50, 90, 95, 99):
            assert _rel(row[f"p{q}_ms"][0], lat[f"p{q}"]) <= 0.05, (model, q)
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize("agent", AGENTS)
def test_token_totals_match_truth_exactly(synth, agent):
    con, truth, _ = synth
    got = Q.run("token_usage", con, agent=agent, period="day")
    fields = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "llm_calls")
    expected = {
        (day, model): tuple(v[f] for f in fields) for day, models in truth["agents"][agent]["tokens"]["canonical"].items() for model, v in models.items()
    }
    actual = {(r["period_start"].isoformat(), r["model"]): tuple(r[f] for f in fields) for r in got.iter_rows(named=True)}
    assert actual == expected
    by_model = Q.run("token_usage", con, agent=agent, period="all")
    for model, v in truth["agents"][agent]["tokens"]["canonical_by_model"].items():
        row = by_model.filter(pl.col("model") == model)
        assert row["total_tokens"][0] == v["input_tokens"] + v["output_tokens"] + v["cache_read_tokens"] + v["cache_write_tokens"]


@pytest.mark.parametrize("agent", AGENTS)
def test_loops_match_truth(synth, agent):
    con, truth, _ = synth
    got = Q.run("tool_loops", con, agent=agent)
    lp = truth["agents"][agent]["loops"]
    assert (got.height, int(got["repeats"].sum())) == (lp["count"], lp["calls"])
    assert sorted(got["tool_name"].to_list()) == sorted(x["tool"] for x in lp["list"])


def test_session_counts_match_truth(synth):
    con, truth, _ = synth
    stats = Q.run("session_stats", con, period="all")
    for agent in ("claude", "pi"):
        s = truth["agents"][agent]["sessions"]
        assert stats.filter(pl.col("agent") == agent)["sessions"].sum() == s["total"], agent


# --------------------------------------------------------------------------------------
# packaging
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_queries_ship_in_the_wheel_and_load_from_an_installed_package(tmp_path):
    out = tmp_path / "whl"
    # build from a copy without build/ (setuptools reuses it: a file deleted from the tree but
    # left there by an earlier build would ship) and without the other untracked heavy dirs
    src = tmp_path / "src"
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "dist",
            "*.egg-info",
            ".peers",
            "work",
            "demo",
            "warehouse",
            "__pycache__",
            ".pytest_cache",
            ".hypothesis",
            ".ipynb_checkpoints",
        ),
    )
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "-w", str(out), "--no-deps", "-q"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    (wheel,) = out.glob("tracelab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for q in ALL:
        assert f"tracelab/queries/{q}.sql" in names
    assert {"tracelab/queries/_macros.sql", "tracelab/queries/__init__.py", "tracelab/pricing/prices.toml"} <= names
    # non-editable install into a bare venv; load the catalog from there, not from the repo
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    target = venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)  # what pip does for a pure wheel, without needing pip in the venv
    probe = (
        "import json, tracelab.library as q; from tracelab.store.sql import area_dir; d = area_dir('queries'); "
        "print(json.dumps({'dir': str(d), 'n': len(q.load_all()), 'macros': len(q.sql_text('_macros.sql'))}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    res = subprocess.run([str(venv / "bin" / "python"), "-I", "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(res.stdout)
    assert info["n"] == len(ALL) and info["macros"] > 1000
    assert str(target) in info["dir"] and str(REPO) not in info["dir"]


def test_pyproject_lists_every_tracelab_package():
    """pyproject lists packages explicitly (to map queries/ as tracelab.queries); a package
    added under tracelab/ without a line there would silently be left out of the wheel."""
    import tomllib

    from setuptools import find_namespace_packages

    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["package-dir"]["tracelab.queries"] == "queries"
    on_disk = {
        p
        for p in find_namespace_packages(where=str(REPO), include=["tracelab*"])
        if any(f.suffix in (".py", ".sql", ".j2", ".toml", ".json", ".html", ".css", ".md") for f in (REPO / p.replace(".", "/")).iterdir() if f.is_file())
    }
    missing = sorted(on_disk - set(cfg["packages"]))
    assert not missing, f"add these to [tool.setuptools] packages in pyproject.toml: {missing}"
    assert "tracelab.queries" in cfg["packages"]


# --------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------


def _cli(*args):
    from tracelab.cli import cli

    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return res


def test_cli_list_show_run(synth, tmp_path):
    _, _, wh = synth
    res = _cli("query", "list", "--json")
    assert res.exit_code == 0
    assert {q["name"] for q in json.loads(res.output)} == set(ALL)
    res = _cli("query", "show", "tool_error_rates")
    assert res.exit_code == 0 and "period VARCHAR = 'week' {day|week|month|all}" in res.output and "SELECT" in res.output
    res = _cli("query", "run", "tool_error_rates", "-p", "period=all", "-p", "agent=pi", "-w", str(wh), "--format", "json")
    assert res.exit_code == 0
    rows = json.loads(res.output)
    assert rows and {r["agent"] for r in rows} == {"pi"} and rows[0]["period_start"] is None
    res = _cli("query", "run", "token_usage", "-w", str(wh), "-f", "csv")
    assert res.exit_code == 0 and res.output.splitlines()[0].startswith("period_start,agent,model,llm_calls")
    pq_out = tmp_path / "t.parquet"
    res = _cli("query", "run", "token_usage", "-w", str(wh), "-f", "parquet", "-o", str(pq_out))
    assert res.exit_code == 0
    assert pl.read_parquet(pq_out).columns == [c.name for c in Q.get("token_usage").returns]
    res = _cli("query", "run", "token_usage", "-w", str(wh), "-p", "period=fortnight")
    assert res.exit_code == 2 and "not one of day, week, month, all" in res.output  # ParameterError
    res = _cli("query", "run", "nope", "-w", str(wh))
    assert res.exit_code == 2 and "no query named 'nope'" in res.output  # UnknownQuery
    res = _cli("query", "run", "token_usage", "-w", str(tmp_path / "missing"))
    assert res.exit_code == 3 and "no tracelab warehouse" in res.output  # WarehouseMissing


def test_cli_compare_carries_the_note(synth):
    _, _, wh = synth
    res = _cli("query", "compare", "tool_error", "--by", "agent", "-p", "agent=pi", "-w", str(wh), "--json")
    assert res.exit_code == 0
    rows = json.loads(res.output)
    assert len(rows) == 3 and all("not representative samples" in r["note"] for r in rows)
    res = _cli("query", "compare", "nonsense", "-w", str(wh))
    assert res.exit_code == 2


def test_usage_json_shape_and_totals(synth):
    con, _, wh = synth
    res = _cli("usage", "daily", "-w", str(wh), "--json")
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert set(data) == {"daily", "totals", "untimed"}
    day = data["daily"][0]
    assert set(day) == {
        "date",
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
        "totalTokens",
        "totalCost",
        "unpricedCalls",
        "unpricedTokens",
        "modelsUsed",
        "modelBreakdowns",
    }
    assert set(day["modelBreakdowns"][0]) == {"modelName", "inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "cost"}
    tu = Q.run("token_usage", con, period="all")
    assert data["totals"]["totalTokens"] == sum(d["totalTokens"] for d in data["daily"]) == tu["total_tokens"].sum()
    assert data["totals"]["outputTokens"] == tu["output_tokens"].sum()
    for report, key, list_key in (("weekly", "week", "weekly"), ("monthly", "month", "monthly"), ("session", "sessionId", "sessions")):
        out = json.loads(_cli("usage", report, "-w", str(wh), "--json").output)
        assert out["totals"] == data["totals"], report
        assert all(key in e for e in out[list_key])
    sessions = json.loads(_cli("usage", "session", "-w", str(wh), "--json").output)["sessions"]
    assert {"projectPath", "firstActivity", "lastActivity"} <= set(sessions[0])
    # subagents roll up into their parent session
    assert len(sessions) == con.execute("SELECT count(*) FROM sessions WHERE NOT is_subagent AND n_llm_calls > 0").fetchall()[0][0]


def test_usage_totals_are_the_priced_part_with_the_unpriced_share(samples_con, tmp_path_factory):
    wh = build_samples_wh(tmp_path_factory)
    cov = Q.run("pricing_coverage", samples_con)
    unpriced = set(cov.filter(pl.col("price_model").is_null() & (pl.col("total_tokens") > 0))["model"].drop_nulls())
    assert unpriced, "the real samples include models missing from the price table"
    data = json.loads(_cli("usage", "daily", "-w", str(wh), "--json", "--mode", "calculate").output)
    seen = 0
    for day in data["daily"]:
        priced = [b["cost"] for b in day["modelBreakdowns"] if b["cost"] is not None]
        for b in day["modelBreakdowns"]:
            tokens = b["inputTokens"] + b["outputTokens"] + b["cacheReadTokens"] + b["cacheCreationTokens"]
            if b["modelName"] in unpriced and tokens:
                # the model's own cost is unknown; the day's total is the priced part, and says what it leaves out
                assert b["cost"] is None and day["unpricedCalls"] > 0 and day["unpricedTokens"] >= tokens
                assert day["totalCost"] == (pytest.approx(sum(priced)) if priced else None)
                seen += 1
    totals = data["totals"]
    assert seen and totals["totalCost"] is not None and totals["totalCost"] > 0
    assert totals["unpricedCalls"] == sum(d["unpricedCalls"] for d in data["daily"]) > 0
    truth = samples_con.execute(
        "SELECT count(*), sum(total_tokens) FROM tl_llm_calls(NULL, NULL, NULL, NULL, NULL, TRUE) WHERE ts IS NOT NULL AND cost_usd IS NULL AND total_tokens > 0"
    ).fetchone()
    assert (totals["unpricedCalls"], totals["unpricedTokens"]) == (truth[0], truth[1])
    table = _cli("usage", "monthly", "-w", str(wh), "--mode", "calculate").output
    assert "unpriced" in table and "% of tokens)" in table
