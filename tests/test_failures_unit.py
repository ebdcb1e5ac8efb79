"""Normalizer, Drain miner, cluster ids, metrics and the optional merge, on small inputs."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelab.failures import cluster as C
from tracelab.failures import drain
from tracelab.failures.merge import merge_map
from tracelab.failures.metrics import adjusted_rand_index, inverse_purity, purity
from tracelab.failures.normalize import key_line, normalize, normalize_frame, tool_family


# ------------------------------------------------------------------------------ masks
@pytest.mark.parametrize(
    "text, expected",
    [
        ("Error: deadline at 2026-01-03T04:05:06.789Z exceeded", "Error: deadline at <TS> exceeded"),
        ("session 0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d not found", "session <UUID> not found"),
        ("fetch https://example.com/a/b?x=1 failed: 503", "fetch <URL> failed: <N>"),
        ("invite dev.ops+x@example.org rejected", "invite <EMAIL> rejected"),
        ("KeyError: 'user_id'", "KeyError: <Q>"),
        ('unknown option "--frobnicate"', "unknown option <Q>"),
        ("cannot open /home/u/proj/src/app.py for reading", "cannot open <PATH> for reading"),
        ("cannot open ~/notes/todo.md", "cannot open <PATH>"),
        ("grep: src/lib/util.ts: No such file or directory", "grep: <PATH>: No such file or directory"),
        ("config.yaml is invalid", "<PATH> is invalid"),
        ("main.go:12:5: undefined: Foo", "<PATH>:<LC>: undefined: Foo"),
        ("segfault at 0x7ffee1a2 in worker", "segfault at <HEX> in worker"),
        ("commit 3fa4b9c not found", "commit <HEX> not found"),
        ("requires node >= 18.17.0, got 16.2", "requires node >= <N>, got <N>"),
        ("timed out after 120s", "timed out after <N>"),
        ("could not write tmpa1b2c3/out", "could not write <PATH>"),
        ("could not write tmp_upload.bin", "could not write <TMP>"),
        ("worker42 crashed", "<ID> crashed"),
        ("\x1b[31mError:\x1b[0m build failed", "Error: build failed"),
        ("FAILED tests/test_api.py::test_get[1-2] - AssertionError: assert 3 == 4", "FAILED <TEST> - AssertionError: <MSG>"),
    ],
)
def test_masks(text, expected):
    assert normalize(text, tool="Read") == expected


def test_shell_wrappers_of_every_agent_give_one_fingerprint():
    claude = "Exit code 127\nbash: rg: command not found"
    codex_text = "Exit code: 127\nWall time: 0.2 seconds\nOutput:\nbash: rg: command not found"
    codex_exec = "Chunk ID: 9f2c1a\nWall time: 0.0000 seconds\nProcess exited with code 127\nOriginal token count: 6\nOutput:\nbash: rg: command not found\n"
    pi = "bash: rg: command not found\n\n\nCommand exited with code 127"
    fps = {normalize(claude, tool="Bash"), normalize(codex_text, tool="exec_command"), normalize(codex_exec, tool="exec_command"), normalize(pi, tool="bash")}
    assert fps == {"bash: rg: command not found"}


def test_output_that_is_only_a_wrapper_becomes_exit_code_without_output():
    assert normalize("Command exited with code 2", tool="bash") == "exit code <N> (no output)"
    assert (
        normalize("Chunk ID: 1\nWall time: 0.1 seconds\nProcess exited with code 1\nOriginal token count: 0\nOutput:\n", tool="exec_command")
        == "exit code <N> (no output)"
    )
    assert normalize("(no output)\n\nCommand exited with code 1", tool="bash") == "exit code <N> (no output)"


@pytest.mark.parametrize(
    "text, key, kind",
    [
        (
            'Exit code 1\nTraceback (most recent call last):\n  File "x.py", line 3, in <module>\n    import foo\n  File "foo.py", line 1\nValueError: bad value\n',
            "ValueError: bad value",
            "py_exception",
        ),
        (
            "=== RUN   TestA\n    a_test.go:9: boom\n--- FAIL: TestA (0.00s)\nFAIL\nFAIL\tpkg\t0.1s\nError: context canceled",
            "--- FAIL: TestA",
            "go_test",
        ),
        ("Cloning...\nfatal: repository 'x' not found\n", "fatal: repository 'x' not found", "labelled"),
        (
            "============ test session starts ============\ncollected 3 items\n\nt.py F..\n\n======= 1 failed, 2 passed in 0.12s =======\n",
            "pytest: tests failed",
            "pytest",
        ),
        ("src/a.ts(3,7): error TS2304: Cannot find name 'x'.\nFound 1 error.", "src/a.ts(3,7): error TS2304: Cannot find name 'x'.", "diagnostic"),
        ("lint\n\n  > 12 │ const x = error;\n      │       ^\n  × Expected a semicolon\n", "Expected a semicolon", "diagnostic"),
        ("building\nsomething went wrong: unable to connect\n", "something went wrong: unable to connect", "keyword"),
        ("hello\nworld\n", "hello", "first_line"),
    ],
)
def test_shell_key_line_priority(text, key, kind):
    assert key_line(text, tool="Bash") == (key, kind)


def test_tool_messages_use_their_first_line_and_json_message():
    assert key_line("<tool_use_error>String to replace not found in file.\nString: x = 1</tool_use_error>", tool="Edit") == (
        "String to replace not found in file.",
        "message",
    )
    assert key_line('{"error": "upstream timeout after 30s", "code": 504}', tool="mcp__gh__get_issue")[0] == "upstream timeout after 30s"


def test_api_and_hook_keys():
    raw = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}'
    assert normalize(raw, family="api_error", tool_fam="session") == "API error 529 overloaded_error: Overloaded"
    conn = '{"message":"x","connection":{"code":"ECONNRESET"},"rateLimits":null}'
    assert normalize(conn, family="api_error", tool_fam="session") == "API error connection: x"
    hook = '{"type":"hook_blocking_error","hookName":"PreToolUse:Bash","blockingError":{"blockingError":"refused: rm -rf /"}}'
    assert normalize(hook, family="hook_block", tool_fam="session") == "PreToolUse:Bash: refused"


def test_fingerprint_is_a_function_of_the_message_alone():
    texts = ["ModuleNotFoundError: No module named 'a'", "grep: x/y.py: No such file or directory", "Exit code 1\nfatal: bad object HEAD"]
    alone = [normalize(t, tool="Bash") for t in texts]
    crowd = pl.DataFrame({"text": texts * 3 + [f"noise {i} here" for i in range(50)], "family": "tool_error", "tool_family": "shell"})
    got = normalize_frame(crowd.sample(fraction=1.0, shuffle=True, seed=3))
    by_text = dict(zip(got["text"], got["fingerprint"]))
    assert [by_text[t] for t in texts] == alone


def test_tool_families():
    assert [
        tool_family(n)
        for n in ("Bash", "exec_command", "bash", "Edit", "apply_patch", "mcp__github__get_pr", "WebFetch", "Task", "TodoWrite", "Frobnicate", None)
    ] == [
        "shell",
        "shell",
        "shell",
        "file",
        "file",
        "mcp",
        "web",
        "agent",
        "plan",
        "other",
        "none",
    ]


# ------------------------------------------------------------------------------ drain
def test_drain_generalises_variable_tokens_only():
    g = ("tool_error", "shell", "keyword")
    lines = ["bash: rg: command not found", "bash: fd: command not found", "bash: jq: command not found", "bash: <PATH>: Permission denied"]
    out = drain.mine((g, x) for x in lines)
    assert {out[(g, x)] for x in lines[:3]} == {"bash: <*> command not found"}
    assert out[(g, lines[3])] == "bash: <PATH>: Permission denied"


def test_drain_program_prefix_branch():
    g = "g"
    lines = ["cat: <PATH>: Permission denied", "tee: <PATH>: Permission denied", "<PATH>: <PATH>: Permission denied", "cat: <N>: Permission denied"]
    out = drain.mine((g, x) for x in lines)
    assert out[(g, lines[0])] == out[(g, lines[1])] == out[(g, lines[2])] == "<*> <PATH>: Permission denied"
    assert out[(g, lines[3])] == "cat: <N>: Permission denied"  # 2 of 4 tokens shared with the first line: below the bar


def test_drain_keeps_groups_short_lines_and_dissimilar_lines_apart():
    out = drain.mine([("a", "File does not exist"), ("b", "File does not exist"), ("a", "Killed"), ("a", "Aborted"), ("a", "x y z w"), ("a", "x q r s")])
    assert out[("a", "File does not exist")] == out[("b", "File does not exist")] == "File does not exist"
    assert out[("a", "Killed")] == "Killed" and out[("a", "Aborted")] == "Aborted"
    assert out[("a", "x y z w")] == "x y z w"  # one shared token of four: below the similarity threshold


_TOKENS = st.sampled_from(["error:", "cannot", "open", "<PATH>", "<N>", "file", "foo", "bar", "baz", "denied", "missing", "x:"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["g1", "g2"]), st.lists(_TOKENS, min_size=1, max_size=6).map(" ".join)), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_drain_is_independent_of_order_and_repetition(items, rnd):
    shuffled = list(items) * 2
    rnd.shuffle(shuffled)
    assert drain.mine(items) == drain.mine(shuffled)


# ------------------------------------------------------------------------------ ids
def test_cluster_ids_are_pure_and_versioned_constants():
    a = C.cluster_id("tool_error", "shell", "bash: <*> command not found")
    assert a == C.cluster_id("tool_error", "shell", "bash: <*> command not found")
    assert a.startswith("te-") and len(a) == 15
    assert a != C.cluster_id("tool_error", "file", "bash: <*> command not found")
    assert a != C.cluster_id("api_error", "shell", "bash: <*> command not found")
    # a golden value: ids are persisted week over week, so the scheme must not drift silently
    assert a == "te-" + __import__("hashlib").blake2b(b"1\x1ftool_error\x1fshell\x1fbash: <*> command not found", digest_size=6).hexdigest()


def test_assign_on_a_frame_is_order_independent():
    rng = random.Random(7)
    rows = [("bash: {}: command not found".format(c), "Bash") for c in ("rg", "fd", "jq", "bat")]  # noqa: UP032
    rows += [("<tool_use_error>File does not exist.</tool_use_error>", "Read")] * 3
    rows += [("Request failed with status code %d" % c, "WebFetch") for c in (403, 404, 502)]  # noqa: UP031
    df = pl.DataFrame(rows, schema=["text", "tool_name"], orient="row").with_columns(pl.lit("tool_error").alias("family"))
    a = C.assign(df)
    shuffled = df.sample(fraction=1.0, shuffle=True, seed=rng.randint(0, 1000))
    b = C.assign(shuffled)
    key = ["text", "tool_name"]
    assert a.select(*key, "cluster_id").unique().sort(key).equals(b.select(*key, "cluster_id").unique().sort(key))
    assert a.get_column("cluster_id").n_unique() == 3


# ------------------------------------------------------------------------------ metrics
def test_ari_known_values():
    assert adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(0.24242424242424)
    assert adjusted_rand_index(["a", "a", "b", "b"], ["x", "x", "y", "y"]) == 1.0
    assert adjusted_rand_index([1, 1, 2, 2], [1, 2, 1, 2]) == pytest.approx(-0.5)
    with pytest.raises(ValueError):
        adjusted_rand_index([1], [1, 2])


def test_purity_known_values():
    ref = ["a", "a", "a", "b", "b", "c"]
    pred = [1, 1, 2, 2, 2, 3]
    assert purity(ref, pred) == pytest.approx(5 / 6)
    assert inverse_purity(ref, pred) == pytest.approx(5 / 6)
    assert purity(ref, [0] * 6) == pytest.approx(3 / 6)


# ------------------------------------------------------------------------------ merge
def test_merge_joins_near_duplicates_under_the_smallest_id():
    clusters = pl.DataFrame(
        {
            "cluster_id": ["te-b", "te-a", "te-c", "te-d"],
            "role": ["event"] * 4,
            "family": ["tool_error"] * 4,
            "tool_family": ["shell", "shell", "shell", "file"],
            "template": [
                "<PATH>: No such file or directory",
                "cannot stat <PATH>: No such file or directory",
                "npm ERR! code ERESOLVE unable to resolve dependency tree",
                "<PATH>: No such file or directory",
            ],
        }
    )
    m = merge_map(clusters, threshold=0.6)
    assert m.rows() == [("te-b", "te-a")]
    assert merge_map(clusters, threshold=0.99).height == 0
