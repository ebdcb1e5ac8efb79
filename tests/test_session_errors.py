"""One definition of a session's errors (data/README.md "Errors of a session") for
`tracelab sessions`, its --has-errors and the totals of `tracelab session`, on every sample
session of every agent folder (gemini-cli and copilot-cli included: their interrupted tool
calls are what the list once left out: gemini:15393fa0, pi:ffae836b)."""

from __future__ import annotations

import pytest

from tests.conftest import SAMPLES, require_samples
from tracelab.catalog import connect


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    require_samples("")
    from tracelab.pipeline import ingest

    w = tmp_path_factory.mktemp("all_samples_wh")
    ingest([str(SAMPLES)], w, jobs=1)
    c = connect(w)
    yield c
    c.close()


def test_list_errors_equal_the_view_and_has_errors_selects_them(con):
    from tracelab.session import load, sessions_table

    listed = {r["session_key"]: r for r in sessions_table(con=con).to_pylist()}
    assert len(listed) == con.execute("SELECT count(*) FROM sessions").fetchall()[0][0]
    for key, r in listed.items():
        assert load(con, key, depth=0).own_totals().errors == r["errors"], key
        assert r["errors"] == r["tool_errors"] + r["user_rejections"] + r["api_errors"] + r["interrupts"] + r["interrupted_tools"], key
    with_errors = {r["session_key"] for r in sessions_table(con=con, has_errors=True).to_pylist()}
    assert with_errors == {k for k, r in listed.items() if r["errors"] > 0}
    by_id = {k.split(":", 1)[0] + ":" + k.split(":", 1)[1][:8]: r for k, r in listed.items()}
    # the five sessions whose counts once differed (list before: 29, 39, 4, 2, 0)
    assert {k: by_id[k]["errors"] for k in ("pi:ffae836b", "pi:d703a1a9", "gemini:e0f194ce", "gemini:049d9bb6", "gemini:15393fa0")} == {
        "pi:ffae836b": 31,
        "pi:d703a1a9": 41,
        "gemini:e0f194ce": 5,
        "gemini:049d9bb6": 3,
        "gemini:15393fa0": 1,
    }
    assert by_id["gemini:15393fa0"]["interrupted_tools"] == 1 and "gemini:15393fa0" in {k[:15] for k in with_errors}
