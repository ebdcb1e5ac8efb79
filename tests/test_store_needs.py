"""A store opened with ``needs=SQL`` creates only the catalog that SQL can reach
(:mod:`tracelab.store.needs`), and that part answers the SQL exactly as the whole catalog does."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from tracelab.cli._errors import one_line
from tracelab.library import bind
from tracelab.store import Store, library
from tracelab.store.needs import PRICE_TABLE, plan, script_objects


def _catalog(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    return {
        "views": {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()},
        "tables": {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()},
        "macros": {
            r[0] for r in con.execute("SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type LIKE '%macro%' AND NOT internal").fetchall()
        },
    }


def test_each_script_chunk_is_one_statement_creating_its_object():
    con = duckdb.connect()
    names = [name for name, _ in script_objects()]
    assert len(names) == len(set(names)) > 30
    for name, chunk in script_objects():
        statements = con.extract_statements(chunk)
        assert len(statements) == 1, name
        assert statements[0].type.name in ("CREATE", "CREATE_FUNC"), (name, statements[0].type.name)


def test_select_1_needs_nothing_and_a_cost_macro_pulls_in_its_tables(samples_wh):
    with Store(samples_wh, needs="select 1") as store:
        assert not store.complete
        got = _catalog(store.con)
        assert got == {"views": set(), "tables": set(), "macros": set()}
        assert store.con.execute("select 1").fetchall() == [(1,)]
    p = plan("SELECT sum(cost_usd) FROM tl_llm_calls(NULL, NULL, NULL, NULL, NULL, NULL)", ["sessions", "events", "llm_calls", "tool_calls"])
    assert p.views == ("llm_calls",) and p.prices and not p.complete
    # the macros it calls and the temporary tables they read, transitively
    assert {"tl_llm_calls", "tl_llm_calls_nocost", "tl_cost", "tl_price_key", "tl_model_keys", "tl_price_ranges", "tl_in_window"} <= set(p.objects)
    assert "tl_search_rx" not in p.objects


@pytest.mark.parametrize("sql", ["SHOW TABLES", "describe events", "SELECT * FROM duckdb_views()", "SELECT * FROM information_schema.tables"])
def test_sql_reading_the_catalog_gets_all_of_it(samples_wh, sql):
    with Store(samples_wh) as full, Store(samples_wh, needs=sql) as part:
        assert part.complete
        assert _catalog(part.con) == _catalog(full.con)
        if not sql.lower().startswith("describe"):
            assert sorted(part.con.execute(sql).fetchall()) == sorted(full.con.execute(sql).fetchall())


def test_every_named_query_answers_the_same_on_its_part_of_the_catalog(samples_wh):
    queries = library()
    assert len(queries) >= 15
    with Store(samples_wh) as full:
        for name, q in sorted(queries.items()):
            params = bind(q, {})
            with Store(samples_wh, needs=q.sql) as part:
                want = _rounded(full.con.sql(q.sql, params=params).fetchall())
                got = _rounded(part.con.sql(q.sql, params=params).fetchall())
            assert got == want, name


def _rounded(rows: list[tuple]) -> list[tuple]:
    """Rows with floats to 9 significant digits: a parallel sum's last bits vary run to run."""
    return [tuple(float(f"{v:.9g}") if isinstance(v, float) else v for v in r) for r in rows]


def _sql(wh, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tracelab", "sql", *args, "-w", str(wh), "--format", "csv"], capture_output=True, text=True, timeout=120)


def test_cli_sql_runs_again_on_the_whole_catalog_when_the_plan_misses_a_name(samples_wh):
    with Store(samples_wh) as full:
        events = full.con.execute("SELECT count(*) FROM events").fetchone()[0]
        full_error = ""
        try:
            full.con.execute("SELECT count(*) FROM evnts")
        except duckdb.CatalogException as exc:
            full_error = str(exc)
    # a table name built at run time: the plan cannot see it
    r = _sql(samples_wh, "SELECT count(*) AS n FROM query_table('ev' || 'ents')")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["n", str(events)]
    # a misspelt name: the message (with DuckDB's suggestion) is the whole catalog's
    r = _sql(samples_wh, "SELECT count(*) FROM evnts")
    assert r.returncode != 0
    assert 'Did you mean "events"' in full_error
    assert r.stderr.strip() == f"tracelab: SQL error: {one_line(full_error)}"


def test_price_table_only_when_named(samples_wh):
    with Store(samples_wh, needs=f"SELECT count(*) FROM {PRICE_TABLE}") as store:
        assert _catalog(store.con)["tables"] == {PRICE_TABLE}
        assert store.con.execute(f"SELECT count(*) FROM {PRICE_TABLE}").fetchone()[0] > 0
