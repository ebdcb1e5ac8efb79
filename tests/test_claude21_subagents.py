"""Claude Code 2.1 sessions with ``<session>/subagents/agent-*.jsonl`` folders (samples in
``claude-code-2.1``): every subagent is its own session linked to the parent's Task call, and a
subagent record streamed inline (``progress``/``agent_progress`` lines of the parent) and
written again in the subagent file counts once.

Hand-checked from the raw files: 0ccf1a04 has 5 Task calls whose results name agentIds
a9cad17, aa5ef13, ac27727, afbbf75, a5bdbc1 and no agent_progress lines; 4b2030ed has 1 Task
call (agentId a2018e5) and 3 agent_progress lines whose nested records (uuid, timestamp) are
3 of the 6 lines of agent-a2018e5.jsonl.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES, require_samples

from tracelab.catalog import connect
from tracelab.pipeline import ingest

D = SAMPLES / "claude-code-2.1"
S1 = "0ccf1a04-1b4c-43b6-8aa5-79e41db43a68"
S2 = "4b2030ed-5563-49ea-b703-6a002f2d3cc8"
TASKS = {
    f"{S1}/agent-a9cad17": "toolu_014qfHW38puz7Wk8PgqC45nY",
    f"{S1}/agent-aa5ef13": "toolu_01EeTxsNZzn4MFsxuRo7BYcK",
    f"{S1}/agent-ac27727": "toolu_018pmVb1JqzfoGPF4pfSuB4J",
    f"{S1}/agent-afbbf75": "toolu_01GWWdppestRqCj3fkznnGwf",
    f"{S1}/agent-a5bdbc1": "toolu_011472X3mPpLSX8BmtHebyH4",
    f"{S2}/agent-a2018e5": "toolu_01KscA8iE8tUT2aCNEUXREzo",
}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    require_samples("claude-code-2.1")
    wh = tmp_path_factory.mktemp("cc21")
    s = ingest([str(D)], wh, jobs=1)
    assert s.files_failed == 0
    c = connect(wh)
    yield c
    c.close()


def test_subagents_link_to_the_task_call(con):
    rows = con.execute("SELECT session_key, parent_session_key, parent_tool_call_id, is_subagent FROM sessions WHERE is_subagent ORDER BY 1").fetchall()
    assert {r[0]: r[2] for r in rows} == {f"claude:{k}": v for k, v in TASKS.items()}
    assert all(r[1] == r[0].split("/")[0] for r in rows)
    # the parent's Task calls point at the sessions they spawned
    got = dict(con.execute("SELECT tool_call_id, subagent_session_key FROM tool_calls WHERE tool_name IN ('Task', 'Agent')").fetchall())
    assert got == {v: f"claude:{k}" for k, v in TASKS.items()}


def test_inline_progress_and_subagent_file_count_once(con):
    files = {Path(p).name: r for p, *r in con.execute("SELECT path, lines_total, lines_ingested, lines_duplicate, lines_rejected FROM files").fetchall()}
    assert files["agent-a2018e5.jsonl"] == [6, 3, 3, 0]
    assert files[f"{S2}.jsonl"] == [12, 12, 0, 0]
    assert files[f"{S1}.jsonl"] == [86, 86, 0, 0]
    # the subagent's 2 responses appear once each, whichever file they were read from
    sk = f"claude:{S2}/agent-a2018e5"
    assert con.execute("SELECT count(*), count(DISTINCT llm_call_key) FROM llm_calls WHERE session_key = ?", [sk]).fetchall() == [(2, 2)]
    n_uuid = con.execute(
        "SELECT count(*), count(DISTINCT line_key) FROM events WHERE session_key = ? AND line_key IS NOT NULL AND block_index = 0", [sk]
    ).fetchall()
    assert n_uuid[0][0] == n_uuid[0][1]
