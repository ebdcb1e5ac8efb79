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


def _short_id_by_every_prefix(names, key: str, least: int = 8) -> str:
    """The definition :meth:`Names.short_id` answers in one pass: the first of these texts
    that opens ``key`` (each tried with :meth:`Names.opens`)."""
    bare = key.split(":", 1)[-1]
    tries = [bare.rsplit("/", 1)[-1]] if "/" in bare else []
    tries += [bare[:n] for n in range(min(len(bare), least), len(bare) + 1)]
    agent = key.split(":", 1)[0] + ":" if ":" in key else ""
    tries += [agent + bare[:n] for n in range(min(len(bare), least), len(bare) + 1)]
    return next((t for t in tries if names.opens(t) == key), key)


def _synthetic_names() -> list[dict]:
    """Sessions whose names share long prefixes: a main session with 40 subagents (which share
    its native id), two agents with the same native id, ids that are prefixes of each other,
    a key without an agent tag, an empty id, sessions without a native id."""
    rows = []

    def add(key, sid, sub=None, is_sub=False):
        rows.append({"session_key": key, "session_id": sid, "subagent_id": sub, "is_subagent": is_sub})

    main = "0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"
    add(f"claude:{main}", main)
    for i in range(40):
        sub = f"a{i:02d}cad17" if i % 3 else f"a9cad{i:03d}"
        add(f"claude:{main}/agent-{sub}", main, sub, True)
    add(f"claude:{main[:12]}ffff", main[:12] + "ffff")
    add("otel:4a8f63f6-7626-4416-a874-fc7bd2c3f005", "4a8f63f6-7626-4416-a874-fc7bd2c3f005")
    add("copilot:4a8f63f6-7626-4416-a874-fc7bd2c3f005", "4a8f63f6-7626-4416-a874-fc7bd2c3f005")
    add("codex:ccusage__session-alpha", "ccusage__session-alpha")
    add("codex:ccusage__session-alphabet", "ccusage__session-alphabet")
    add("claude:ccusage__session-alpha", "ccusage__session-alpha")
    add("untagged-session", "untagged-session")
    add("pi:", "")
    add("gemini:nosid-1", None)
    add("gemini:nosid-2", None)
    return rows


def test_short_id_in_one_pass_is_the_first_prefix_that_opens_the_session(wh):
    """:meth:`Names.short_id` (one narrowing pass over the sorted names) gives what trying
    every prefix length in turn with :meth:`Names.opens` gives: for every session of the
    samples and of a synthetic set of names sharing long prefixes, at several least lengths."""
    from tracelab.session.ids import Names
    from tracelab.session.timeline import fetch_rows

    with connect(wh) as con:
        real = fetch_rows(con, "session_names", heads=None)
    assert len(real) > 100
    for rows in (real, _synthetic_names(), real + _synthetic_names()):
        names = Names(rows)
        for least in (1, 4, 8, 12):
            for key in names.rows:
                assert names.short_id(key, least) == _short_id_by_every_prefix(names, key, least), (key, least)
