"""Failure families on two hand-written Claude Code sessions with known answers.

Session A holds one of each episode (a loop, a tool retry storm, an API retry storm, a
failure right after a compaction, and an ending right after an error); session B one of each
remaining event family (permission denial, user rejection, interrupt, hook block, rate limit)
and ends normally. Every expected row below is derived from the script, not from the code.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from tracelab.catalog import connect
from tracelab.failures import api
from tracelab.pipeline import ingest

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


class Session:
    """Writes Claude Code lines; remembers the line number of each labelled line."""

    def __init__(self, sid: str):
        self.sid = sid
        self.lines: list[dict] = []
        self.at: dict[str, int] = {}
        self.n = 0

    def _add(self, d: dict, label: str | None = None) -> None:
        self.n += 1
        base = {
            "parentUuid": self.lines[-1]["uuid"] if self.lines else None,
            "isSidechain": False,
            "userType": "external",
            "cwd": "/work/proj",
            "sessionId": self.sid,
            "version": "2.1.20",
            "uuid": f"{self.sid}-{self.n:03d}",
            "timestamp": (T0 + dt.timedelta(seconds=10 * self.n)).isoformat().replace("+00:00", "Z"),
        }
        self.lines.append({**base, **d})
        if label:
            self.at[label] = len(self.lines)

    def prompt(self, text: str) -> None:
        self._add({"type": "user", "message": {"role": "user", "content": text}})

    def call(self, tid: str, name: str, inp: dict, label: str | None = None) -> None:
        self._add(
            {
                "type": "assistant",
                "requestId": f"req_{tid}",
                "message": {
                    "id": f"msg_{tid}",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [{"type": "tool_use", "id": tid, "name": name, "input": inp}],
                    "stop_reason": "tool_use",
                    "usage": {"input_tokens": 10, "output_tokens": 5},
                },
            },
            label,
        )

    def result(self, tid: str, text: str, error: bool, label: str | None = None) -> None:
        block = {"type": "tool_result", "tool_use_id": tid, "content": text}
        if error:
            block["is_error"] = True
        self._add({"type": "user", "message": {"role": "user", "content": [block]}, "toolUseResult": ("Error: " + text) if error else text}, label)

    def say(self, text: str, mid: str) -> None:
        self._add(
            {
                "type": "assistant",
                "requestId": f"req_{mid}",
                "message": {
                    "id": f"msg_{mid}",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5-20250929",
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "usage": {"input_tokens": 10, "output_tokens": 5},
                },
            }
        )

    def system(self, subtype: str, label: str | None = None, **fields) -> None:
        self._add({"type": "system", "subtype": subtype, "level": "error" if subtype == "api_error" else "info", **fields}, label)

    def attachment(self, att: dict, label: str | None = None) -> None:
        self._add({"type": "attachment", "attachment": att}, label)

    def write(self, root: Path) -> Path:
        p = root / "-work-proj" / f"{self.sid}.jsonl"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("".join(json.dumps(x) + "\n" for x in self.lines))
        return p


def _sessions() -> tuple[Session, Session]:
    a = Session("aaaaaaaa-0000-4000-8000-000000000001")
    a.prompt("inspect the repo")
    for i in range(3):  # loop: identical call three times in a row
        a.call(f"toolu_loop{i}", "Bash", {"command": "cat setup.cfg"}, "loop_start" if i == 0 else None)
        a.result(f"toolu_loop{i}", "[metadata]\nname = x", False)
    for i, f in enumerate(("a.py", "b.py", "c.py")):  # tool retry storm: three failed Reads in a row
        a.call(f"toolu_read{i}", "Read", {"file_path": f"/work/proj/{f}"})
        a.result(f"toolu_read{i}", "<tool_use_error>File does not exist.</tool_use_error>", True, "storm_start" if i == 0 else None)
    a.system("compact_boundary", "compaction", content="Conversation compacted", compactMetadata={"trigger": "auto", "preTokens": 160000})
    a.call("toolu_git", "Bash", {"command": "git status"})
    a.result("toolu_git", "Exit code 128\nfatal: not a git repository (or any of the parent directories): .git", True, "after_compaction")
    for i in range(3):  # API retry storm: three API errors without a response between them
        a.system(
            "api_error",
            "api_start" if i == 0 else None,
            error={"status": 529, "error": {"type": "overloaded_error", "message": "Overloaded"}},
            retryInMs=500.0 * (i + 1),
            retryAttempt=i + 1,
            maxRetries=10,
        )
    a.say("The API recovered; the repository is not a git checkout.", "m1")
    a.prompt("fix the typo in README")
    a.call("toolu_edit", "Edit", {"file_path": "/work/proj/README.md", "old_string": "teh", "new_string": "the"})
    a.result("toolu_edit", "<tool_use_error>String to replace not found in file.\nString: teh</tool_use_error>", True, "last_error")

    b = Session("bbbbbbbb-0000-4000-8000-000000000002")
    b.prompt("clean up")
    b.call("toolu_rm", "Bash", {"command": "rm -rf build"})
    b.result("toolu_rm", "This command requires approval", True, "permission")
    b.call("toolu_w", "Write", {"file_path": "/work/proj/x.txt", "content": "x"})
    b.result(
        "toolu_w",
        "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.",
        True,
        "rejection",
    )
    b._add({"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": "[Request interrupted by user for tool use]"}]}}, "interrupt")
    b.attachment(
        {
            "type": "hook_blocking_error",
            "hookEvent": "PreToolUse",
            "hookName": "PreToolUse:Bash",
            "toolUseID": "toolu_rm",
            "blockingError": {"blockingError": "destructive command refused", "command": "guard.sh"},
        },
        "hook",
    )
    b.system(
        "api_error",
        "rate",
        error={"status": 429, "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit"}},
        retryInMs=30000.0,
        retryAttempt=1,
        maxRetries=10,
    )
    b.prompt("ok, leave it")
    b.say("Leaving the build directory in place.", "m2")
    return a, b


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    root = tmp_path_factory.mktemp("failures_scripted")
    a, b = _sessions()
    pa, pb = a.write(root / "projects"), b.write(root / "projects")
    wh = root / "wh"
    ingest([str(root / "projects")], wh, agent="claude", jobs=1)
    api.build(wh)
    return api.load(wh), a, b, str(pa), str(pb)


def _rows(f, family: str) -> list[dict]:
    return f.members.filter(pl.col("family") == family).sort("ts").to_dicts()


def test_tables_are_persisted_and_fresh(scripted):
    f, *_ = scripted
    assert f.persisted
    assert set(f.members.get_column("cluster_id")) == set(f.clusters.get_column("cluster_id"))


def test_loop_found_at_its_first_call(scripted):
    f, a, _, pa, _ = scripted
    (loop,) = _rows(f, "loop")
    assert (loop["source_file"], loop["line_no"], loop["run_length"], loop["tool_name"]) == (pa, a.at["loop_start"], 3, "Bash")


def test_tool_and_api_retry_storms(scripted):
    f, a, _, pa, _ = scripted
    storms = {r["tool_family"]: r for r in _rows(f, "retry_storm")}
    assert set(storms) == {"file", "model"}
    assert (storms["file"]["line_no"], storms["file"]["run_length"], storms["file"]["tool_name"]) == (a.at["storm_start"], 3, "Read")
    assert (storms["model"]["line_no"], storms["model"]["run_length"]) == (a.at["api_start"], 3)
    assert all(r["source_file"] == pa for r in storms.values())


def test_context_exhaustion_after_compaction(scripted):
    f, a, _, pa, _ = scripted
    (cx,) = _rows(f, "context_exhaustion")
    assert (cx["source_file"], cx["line_no"]) == (pa, a.at["after_compaction"])
    assert cx["template"] == "compaction followed by tool_error"
    con = connect(f.warehouse.root)
    comp = con.execute("SELECT event_key, line_no FROM events WHERE kind = 'compaction'").fetchall()
    assert comp == [(cx["related_event_key"], a.at["compaction"])]


def test_abandoned_session_is_the_one_that_ended_on_an_error(scripted):
    f, a, _, pa, _ = scripted
    (ab,) = _rows(f, "abandoned_session")
    assert (ab["source_file"], ab["line_no"]) == (pa, a.at["last_error"])
    assert ab["template"] == "session ended right after tool_error"


def test_event_families_of_session_b(scripted):
    f, _, b, _, pb = scripted
    ev = f.members.filter((pl.col("role") == "event") & (pl.col("source_file") == pb))
    got = {r["line_no"]: r["family"] for r in ev.to_dicts()}
    assert got == {
        b.at["permission"]: "permission_denied",
        b.at["rejection"]: "user_rejection",
        b.at["interrupt"]: "interrupt",
        b.at["hook"]: "hook_block",
        b.at["rate"]: "rate_limit",
    }
    hook = ev.filter(pl.col("family") == "hook_block").row(0, named=True)
    assert hook["template"] == "PreToolUse:Bash: destructive command refused"
    assert ev.filter(pl.col("family") == "interrupt").row(0, named=True)["template"] == "The user interrupted a running tool call"


def test_event_families_of_session_a(scripted):
    f, a, _, pa, _ = scripted
    ev = f.members.filter((pl.col("role") == "event") & (pl.col("source_file") == pa))
    counts = dict(ev.group_by("family").len().iter_rows())
    assert counts == {"tool_error": 5, "api_error": 3}
    reads = ev.filter(pl.col("tool_name") == "Read")
    assert reads.get_column("cluster_id").n_unique() == 1
    assert reads.row(0, named=True)["template"] == "File does not exist"
    git = ev.filter(pl.col("tool_name") == "Bash").row(0, named=True)
    assert git["template"] == "fatal: not a git repository (or any of the parent directories): .git"
    api_rows = ev.filter(pl.col("family") == "api_error")
    assert api_rows.get_column("template").unique().to_list() == ["API error 529 overloaded_error: Overloaded"]


def test_cluster_summary_counts(scripted):
    f, *_ = scripted
    c = f.clusters.filter(pl.col("family") == "api_error").row(0, named=True)
    assert (c["n_events"], c["n_sessions"], c["agents"], c["share_sessions"]) == (3, 1, ["claude"], 0.5)
    assert [w["n"] for w in c["weekly"]] == [3]
    assert len(c["exemplars"]) == 1 and c["exemplars"][0]["session_id"] == "aaaaaaaa-0000-4000-8000-000000000001"
