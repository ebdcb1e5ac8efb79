"""Project identity (data/README.md "Projects"): a project is its repository remote when one is
recorded, else its cwd without a worktree suffix; worktrees of one repository are one project,
with the worktree in its own column; two roots with the same last folder get distinct names.

Checked on the macros (crafted paths and URLs, hypothesis properties), on the derive SQL over
crafted sessions, and on the warehouse of all real samples."""

from __future__ import annotations

import io
import json

import duckdb
import pyarrow as pa
import pytest
from conftest import require_samples
from hypothesis import given, settings
from hypothesis import strategies as st

import tracelab
from tracelab.pipeline import ingest
from tracelab.scope import check_project
from tracelab.store import derive
from tracelab.store.derive import install_macros


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    install_macros(c)
    yield c
    c.close()


def _one(con, sql: str, **params):
    return con.execute(sql, params).fetchall()[0][0]


# --------------------------------------------------------------------------------------
# macros
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cwd", "branch", "want_dir", "want_worktree"),
    [
        ("/Users/alex/workspace/cli", None, "/Users/alex/workspace/cli", None),
        ("/Users/alex/workspace/cli/", None, "/Users/alex/workspace/cli", None),
        ("/Users/alex/workspace/cli/.worktrees/1", "alex/x", "/Users/alex/workspace/cli", "1"),
        ("/Users/alex/workspace/cli/.worktrees/1/cmd/entire", None, "/Users/alex/workspace/cli", "1"),
        # a worktree named after a branch with a slash: the branch says where the name ends
        ("/Users/alex/workspace/cli/.worktrees/soph/fix-bug", "soph/fix-bug", "/Users/alex/workspace/cli", "soph/fix-bug"),
        ("/Users/alex/workspace/cli/.worktrees/soph/fix-bug/cmd", "soph/fix-bug", "/Users/alex/workspace/cli", "soph/fix-bug"),
        ("/Users/alex/workspace/cli/.worktrees/soph/fix-bug", "main", "/Users/alex/workspace/cli", "soph"),
        ("-experiments/worktrees/.claude/worktrees/agent-a4ca7529", "worktree-agent-a4ca7529", "-experiments/worktrees", "agent-a4ca7529"),
        ("/repo/.git/worktrees/w1", None, "/repo", "w1"),
        ("/repo/.git", None, "/repo", None),
        ("/repo/.worktrees", None, "/repo", None),
        # not markers: a plain worktrees folder, .github
        ("/home/u/worktrees/app", None, "/home/u/worktrees/app", None),
        ("/repo/.github/workflows", None, "/repo/.github/workflows", None),
        ("D:\\Source\\GitHub\\agent-engram", None, "D:/Source/GitHub/agent-engram", None),
        ("/", None, "/", None),
        ("", None, None, None),
        (None, None, None, None),
    ],
)
def test_project_dir_and_worktree(con, cwd, branch, want_dir, want_worktree):
    got = con.execute("SELECT tl_project_dir($c), tl_worktree($c, $b)", {"c": cwd, "b": branch}).fetchall()[0]
    assert got == (want_dir, want_worktree)


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("https://github.com/example/project.git", "github.com/example/project"),
        ("https://github.com/example/project", "github.com/example/project"),
        ("https://github.com/example/project/", "github.com/example/project"),
        ("git@github.com:example/project.git", "github.com/example/project"),
        ("ssh://git@GitHub.com:22/example/project.git", "github.com/example/project"),
        ("https://user:secret@gitlab.com/group/sub/repo.git", "gitlab.com/group/sub/repo"),
        ("https://example.invalid/repo.git", "example.invalid/repo"),
        ("[trimmed for fixture]", None),
        ("/srv/git/repo.git", None),
        ("file:///srv/git/repo.git", None),
        ("C:\\src\\repo", None),
        ("https://github.com/", None),
        ("", None),
        (None, None),
    ],
)
def test_remote_root(con, url, want):
    assert _one(con, "SELECT tl_remote_root($u)", u=url) == want


SEG = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789_-", min_size=1, max_size=8)
MARKERS = (".worktrees", ".claude/worktrees", ".git/worktrees")


@settings(max_examples=200, deadline=None)
@given(
    root=st.lists(SEG, min_size=1, max_size=5),
    marker=st.sampled_from(MARKERS),
    name=st.lists(SEG, min_size=1, max_size=3),
    rest=st.lists(SEG, max_size=3),
    branch_is_name=st.booleans(),
)
def test_every_path_in_a_worktree_belongs_to_its_root(con, root, marker, name, rest, branch_is_name):
    """Every path under <root>/<marker>/<x> has the dir of <root>, and the worktree <x> (its
    first component, or all of it when the session's branch is <x>)."""
    base = "/" + "/".join(root)
    cwd = "/".join([base, marker, *name, *rest])
    branch = "/".join(name) if branch_is_name else None
    got_dir, got_wt, root_dir, root_wt = con.execute(
        "SELECT tl_project_dir($c), tl_worktree($c, $b), tl_project_dir($r), tl_worktree($r, $b)", {"c": cwd, "b": branch, "r": base}
    ).fetchall()[0]
    assert got_dir == root_dir == base
    assert got_wt == ("/".join(name) if branch_is_name else name[0])
    assert root_wt is None


@settings(max_examples=200, deadline=None)
@given(
    host=st.lists(SEG, min_size=2, max_size=3), path=st.lists(SEG.filter(lambda s: s not in (".", "..")), min_size=1, max_size=3), port=st.integers(1, 65535)
)
def test_every_remote_form_names_the_same_repository(con, host, path, port):
    h, p = ".".join(host), "/".join(path)
    forms = [f"https://{h}/{p}.git", f"https://{h.upper()}/{p}", f"git@{h}:{p}.git", f"ssh://git@{h}:{port}/{p}/", f"https://u:tok@{h}/{p}"]
    got = {_one(con, "SELECT tl_remote_root($u)", u=u) for u in forms}
    assert got == {f"{h.lower()}/{p}"}


# --------------------------------------------------------------------------------------
# the derive SQL on crafted sessions
# --------------------------------------------------------------------------------------


def _dims(sessions: list[dict], prior: list[tuple[str | None, str | None]] | None = None) -> dict[str, dict]:
    """session_dims of crafted sessions (each: key, cwd, branch, remote, parent), through the
    derive's own SQL; returns {session_key: row}."""
    rows = []
    for s in sessions:
        extra = json.dumps({"git": {"repository_url": s["remote"]}}) if s.get("remote") else None
        rows.append(
            {
                "session_key": s["key"],
                "seq": 0,
                "kind": "session_start",
                "extra": extra,
                "cwd": s.get("cwd"),
                "git_branch": s.get("branch"),
                "subagent_id": "a" if s.get("parent") else None,
                "parent_session_key": s.get("parent"),
                "forked_from": None,
            }
        )
    c = duckdb.connect()
    try:
        install_macros(c)
        schema = pa.schema([(n, pa.int64() if n == "seq" else pa.string()) for n in rows[0]])
        c.register("_ev", pa.Table.from_pylist(rows, schema=schema))
        c.execute("CREATE VIEW events AS SELECT * FROM _ev")
        derive._session_dims(c, pa.Table.from_pylist([{"dir": d, "repository": r} for d, r in prior], schema=derive.PRIOR_ROOTS) if prior else None)
        out = c.sql("SELECT * FROM session_dims").to_arrow_table().to_pylist()
    finally:
        c.close()
    return {r["session_key"]: r for r in out}


def test_worktrees_of_one_repository_are_one_project():
    d = _dims(
        [
            {"key": "main", "cwd": "/Users/alex/workspace/cli", "branch": "main"},
            {"key": "wt1", "cwd": "/Users/alex/workspace/cli/.worktrees/1", "branch": "alex/a"},
            {"key": "wt2", "cwd": "/Users/alex/workspace/cli/.worktrees/2/cmd", "branch": "alex/b"},
            {"key": "cl", "cwd": "/Users/alex/workspace/cli/.claude/worktrees/agent-1", "branch": "worktree-agent-1"},
        ]
    )
    assert {k: (r["project"], r["project_root"], r["worktree"]) for k, r in d.items()} == {
        "main": ("cli", "/Users/alex/workspace/cli", None),
        "wt1": ("cli", "/Users/alex/workspace/cli", "1"),
        "wt2": ("cli", "/Users/alex/workspace/cli", "2"),
        "cl": ("cli", "/Users/alex/workspace/cli", "agent-1"),
    }


def test_two_repositories_with_one_folder_name_stay_apart():
    d = _dims(
        [
            {"key": "a", "cwd": "/Users/alex/work/a/cli"},
            {"key": "a2", "cwd": "/Users/alex/work/a/cli/.worktrees/x"},
            {"key": "b", "cwd": "/home/bob/b/cli"},
            {"key": "c", "cwd": "/srv/cli"},
            {"key": "other", "cwd": "/srv/api"},
        ]
    )
    assert {k: r["project"] for k, r in d.items()} == {
        "a": "cli (~/work/a/cli)",
        "a2": "cli (~/work/a/cli)",
        "b": "cli (~/b/cli)",
        "c": "cli (/srv/cli)",
        "other": "api",
    }


def test_a_recorded_remote_names_the_project_and_its_folder():
    d = _dims(
        [
            {"key": "codex", "cwd": "/work/project", "remote": "git@github.com:acme/project.git"},
            # another agent in the same folder records no remote: it joins the repository's project
            {"key": "claude", "cwd": "/work/project/.worktrees/feat", "branch": "feat"},
            # the same repository cloned elsewhere, through https
            {"key": "clone", "cwd": "/tmp/elsewhere", "remote": "https://github.com/acme/project"},
            # a folder that recorded two remotes keeps its own identity for remote-less sessions
            {"key": "r1", "cwd": "/mono", "remote": "https://github.com/acme/one.git"},
            {"key": "r2", "cwd": "/mono", "remote": "https://github.com/acme/two.git"},
            {"key": "r0", "cwd": "/mono"},
            # a placeholder is no remote
            {"key": "trim", "cwd": "/x/tool", "remote": "[trimmed for fixture]"},
        ]
    )
    got = {k: (r["project"], r["project_root"], r["repository"]) for k, r in d.items()}
    assert got == {
        "codex": ("acme/project", "github.com/acme/project", "github.com/acme/project"),
        "claude": ("acme/project", "github.com/acme/project", None),
        "clone": ("acme/project", "github.com/acme/project", "github.com/acme/project"),
        "r1": ("acme/one", "github.com/acme/one", "github.com/acme/one"),
        "r2": ("acme/two", "github.com/acme/two", "github.com/acme/two"),
        "r0": ("mono", "/mono", None),
        "trim": ("tool", "/x/tool", None),
    }
    assert d["claude"]["worktree"] == "feat"


def test_subagents_without_a_cwd_take_the_parents_project():
    d = _dims([{"key": "p", "cwd": "/a/b/app"}, {"key": "p/agent-1", "parent": "p"}])
    assert d["p/agent-1"]["own_project"] is None
    assert d["p/agent-1"]["project"] == "app"


def test_names_see_the_sessions_kept_from_an_earlier_derive():
    """A refresh passes the kept sessions' (dir, repository): a new `cli` is named against them."""
    d = _dims([{"key": "new", "cwd": "/home/bob/b/cli"}], prior=[("/Users/alex/work/a/cli", None)])
    assert d["new"]["project"] == "cli (~/b/cli)"


@settings(max_examples=60, deadline=None)
@given(roots=st.lists(st.lists(SEG, min_size=1, max_size=4), min_size=1, max_size=6, unique_by=lambda r: "/".join(r)))
def test_distinct_roots_get_distinct_names(roots):
    """Names are a function of the root and never merge two roots."""
    # under /r, so no generated root is a home directory (shown as ~)
    sessions = [{"key": str(i), "cwd": "/r/" + "/".join(r)} for i, r in enumerate(roots)]
    d = _dims(sessions)
    names = {d[str(i)]["project"] for i in range(len(roots))}
    assert len(names) == len(roots)
    for i, r in enumerate(roots):
        clash = sum(1 for o in roots if o[-1] == r[-1]) > 1
        assert d[str(i)]["project"] == (f"{r[-1]} (/r/{'/'.join(r)})" if clash else r[-1])


# --------------------------------------------------------------------------------------
# the real samples
# --------------------------------------------------------------------------------------

#: cwd (as recorded) -> (project, project_root, worktree) in the warehouse of all real samples
REAL = {
    "/Users/alex/workspace/cli": ("cli (~/workspace/cli)", "/Users/alex/workspace/cli", None),
    "/Users/alex/workspace/cli/.worktrees/1": ("cli (~/workspace/cli)", "/Users/alex/workspace/cli", "1"),
    "/Users/alex/workspace/cli/.worktrees/2": ("cli (~/workspace/cli)", "/Users/alex/workspace/cli", "2"),
    "/Users/alex/workspace/cli/.worktrees/soph/fix-session-date-change-bug": (
        "cli (~/workspace/cli)",
        "/Users/alex/workspace/cli",
        "soph/fix-session-date-change-bug",
    ),
    "/Users/soph/Work/entire/devenv/cli": ("cli (~/Work/entire/devenv/cli)", "/Users/soph/Work/entire/devenv/cli", None),
    "/Users/gtrrz-victor/wks/test-cli/cli": ("cli (~/wks/test-cli/cli)", "/Users/gtrrz-victor/wks/test-cli/cli", None),
    "-experiments/worktrees": ("worktrees", "-experiments/worktrees", None),
    "-experiments/worktrees/.claude/worktrees/agent-a4ca7529": ("worktrees", "-experiments/worktrees", "agent-a4ca7529"),
    # Codex recorded the remote; the Claude session in the same folder joins it
    "/workspace/project": ("example/project", "github.com/example/project", None),
    "/home/user/project": ("project (~/project)", "/home/user/project", None),
    "/tmp/project": ("project (/tmp/project)", "/tmp/project", None),
    "/Users/dain/workspace/claude-code-log": ("claude-code-log", "/Users/dain/workspace/claude-code-log", None),
    # Copilot CLI on Windows
    "D:\\Source\\GitHub\\agent-engram": ("agent-engram", "D:/Source/GitHub/agent-engram", None),
    # a remote without an owner: its one path component
    "/tmp/repo": ("repo", "example.invalid/repo", None),
}


@pytest.fixture(scope="module")
def real(samples_wh):
    c = tracelab.connect(samples_wh)
    try:
        yield c
    finally:
        c.close()


def test_real_sample_cwds_become_these_projects(real):
    rows = real.execute("SELECT DISTINCT cwd, project, project_root, worktree FROM sessions WHERE cwd IN (SELECT unnest($c))", {"c": list(REAL)}).fetchall()
    got: dict[str, set] = {}
    for cwd, *rest in rows:
        got.setdefault(cwd, set()).add(tuple(rest))
    assert got == {cwd: {want} for cwd, want in REAL.items()}
    # the Codex session recorded the remote; the Claude one did not
    assert real.execute("SELECT agent, repository FROM sessions WHERE cwd = '/workspace/project' ORDER BY agent").fetchall() == [
        ("claude", None),
        ("codex", "github.com/example/project"),
    ]


def test_real_worktrees_no_longer_make_projects_of_their_own(real):
    names = {r[0] for r in real.execute("SELECT DISTINCT project FROM sessions").fetchall()}
    assert not names & {"1", "2", "fix-session-date-change-bug", "agent-a4ca7529"}
    # every project name stands for one root, and every root has one name
    assert (
        real.execute(
            "SELECT count(*) FROM (SELECT project FROM sessions WHERE project IS NOT NULL GROUP BY 1 HAVING count(DISTINCT project_root) > 1)"
        ).fetchall()[0][0]
        == 0
    )
    assert (
        real.execute(
            "SELECT count(*) FROM (SELECT project_root FROM sessions WHERE project_root IS NOT NULL GROUP BY 1 HAVING count(DISTINCT project) > 1)"
        ).fetchall()[0][0]
        == 0
    )


def test_real_call_tables_carry_the_sessions_project(real):
    for table in ("llm_calls", "tool_calls"):
        bad = real.execute(
            f"SELECT count(*) FROM {table} c JOIN sessions s USING (session_key) WHERE s.project IS NOT NULL AND c.project IS DISTINCT FROM s.project"
        ).fetchall()[0][0]
        assert bad == 0, table


def test_unknown_project_lists_the_disambiguated_names(real):
    err = io.StringIO()
    check_project(real, "cli", err=err)
    line = err.getvalue()
    assert line.startswith("warning: no project 'cli'")
    for name in ("cli (~/workspace/cli)", "cli (~/Work/entire/devenv/cli)", "cli (~/wks/test-cli/cli)"):
        assert name in line
    err = io.StringIO()
    check_project(real, "cli (~/workspace/cli)", err=err)
    assert err.getvalue() == ""


def test_an_ingest_that_renames_kept_projects_derives_in_full(tmp_path, monkeypatch):
    """A second root named `cli` arriving in a later ingest renames the first one's sessions:
    that ingest derives everything; one that adds a worktree session of a known root does not."""
    # a few sessions: any share of them may be refreshed
    monkeypatch.setattr(derive, "REFRESH_MAX_SHARE", 1e9)
    claude = require_samples("claude-code")
    corpus, wh = tmp_path / "corpus", tmp_path / "wh"
    corpus.mkdir()

    def add(name: str) -> str:
        (corpus / name).write_bytes((claude / name).read_bytes())
        s = ingest([str(corpus)], wh, jobs=1)
        assert s.files_failed == 0, s.errors
        return s.derived

    def projects() -> set[str]:
        c = tracelab.connect(wh)
        try:
            return {r[0] for r in c.execute("SELECT DISTINCT project FROM sessions WHERE project IS NOT NULL").fetchall()}
        finally:
            c.close()

    assert add("entire-cli__8e_0a64736bc7_0__full.jsonl") == "full"  # /Users/alex/workspace/cli
    assert projects() == {"cli"}
    # a worktree of the same checkout: same project, nothing renamed
    assert add("entire-cli__91_b42542f24f_1__full.jsonl").startswith("incremental: ")  # …/cli/.worktrees/2
    assert projects() == {"cli"}
    # another checkout named cli: both are renamed, so everything is derived again
    assert add("entire-cli__ec_38b74f08e3_0__full.jsonl") == "full"  # /Users/gtrrz-victor/wks/test-cli/cli
    assert projects() == {"cli (~/workspace/cli)", "cli (~/wks/test-cli/cli)"}
