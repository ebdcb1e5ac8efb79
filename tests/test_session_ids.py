"""The id column of `tracelab sessions` opens its session with `tracelab session ID`, in a
warehouse of every real sample (all agents: otel and copilot share native session ids)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from tests.conftest import SAMPLES
from tracelab import connect
from tracelab.cli import cli


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    from tracelab.pipeline import ingest

    w = tmp_path_factory.mktemp("ids_wh")
    ingest([str(SAMPLES)], w, jobs=1)
    return w


def _listed(wh, *args: str) -> dict[str, str]:
    """session id shown → the line, from `tracelab sessions` in the terminal layout."""
    res = CliRunner().invoke(cli, ["sessions", "-w", str(wh), *args])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    return {ln.split()[3]: ln for ln in lines}


def test_every_listed_id_opens_exactly_its_session(wh):
    from tracelab.session import resolve

    with connect(wh) as con:
        rows = con.execute("SELECT session_key, started_at FROM sessions ORDER BY started_at DESC NULLS LAST, session_key").fetchall()
        keys = [r[0] for r in rows]
        agents = {k.split(":", 1)[0] for k in keys}
        assert {"otel", "copilot"} <= agents  # the samples this test is about
        res = CliRunner().invoke(cli, ["sessions", "-w", str(wh), "-n", "1000", "--json"])
        assert [r["session_key"] for r in json.loads(res.stdout)] == keys
        shown = list(_listed(wh, "-n", "1000"))
        assert len(shown) == len(keys) == len(set(shown))
        for key, sid in zip(keys, shown):
            assert resolve(con, sid) == key, sid
        # a shared native id shows the agent-tagged key
        assert any(s.startswith("otel:") for s in shown) and any(s.startswith("copilot:") for s in shown)


def test_the_id_is_the_same_on_a_page_and_unique_in_the_warehouse(wh):
    """The default page and an agent filter show the same id as the full list."""
    full = {ln.split(maxsplit=4)[3]: ln.split()[2] for ln in _listed(wh, "-n", "1000").values()}
    for args in (["-n", "5"], ["--agent", "codex"]):
        for sid, ln in _listed(wh, *args).items():
            assert sid in full and full[sid] == ln.split()[2]
    assert "ccusage_" not in full  # a prefix of two sessions
    res = CliRunner().invoke(cli, ["session", "ccusage_", "-w", str(wh)])
    assert res.exit_code != 0 and "codex:ccusage__session-alpha" in res.output


def test_ambiguous_id_lists_openable_keys(wh):
    with connect(wh) as con:
        (native,) = con.execute(
            "SELECT session_id FROM sessions WHERE agent = 'otel' AND session_id IN (SELECT session_id FROM sessions WHERE agent = 'copilot') LIMIT 1"
        ).fetchone()
    res = CliRunner().invoke(cli, ["session", native[:8], "-w", str(wh)])
    assert res.exit_code != 0
    assert f"otel:{native}" in res.output and f"copilot:{native}" in res.output
    for key in (f"otel:{native}", f"copilot:{native}", f"otel:{native[:8]}"):
        assert CliRunner().invoke(cli, ["session", key, "-w", str(wh)]).exit_code == 0


def test_sessions_footer_says_newest_n_of_m(wh):
    with connect(wh) as con:
        (n,) = con.execute("SELECT count(*) FROM sessions").fetchone()
    res = CliRunner().invoke(cli, ["sessions", "-w", str(wh), "-n", "3"])
    assert f"showing the newest 3 of {n} sessions (--limit 3)" in res.stderr
    res = CliRunner().invoke(cli, ["sessions", "-w", str(wh), "-n", str(n)])
    assert res.stderr.strip().endswith(f"{n} sessions")


def test_sessions_csv_joins_models(wh):
    """CSV cells hold text: the models joined with ';' (the JSON keeps the list)."""
    res = CliRunner().invoke(cli, ["sessions", "-w", str(wh), "-n", "1000", "-f", "csv"])
    assert res.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    listed = {r["session_key"]: r["models"] for r in json.loads(CliRunner().invoke(cli, ["sessions", "-w", str(wh), "-n", "1000", "--json"]).stdout)}
    assert {r["session_key"]: r["models"] for r in rows} == {k: ";".join(v or []) for k, v in listed.items()}
    assert any(len(v or []) > 1 for v in listed.values())
