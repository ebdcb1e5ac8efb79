"""tracelab.evals: failure clusters / queries / SQL → Promptfoo, Inspect AI and OpenAI-evals suites.

One generated corpus serves the module. Before it is ingested, secrets from the redaction
benchmark's generator are planted into it — appended to user prompts, to failing tool outputs
and to failing shell commands — so every export below is also a redaction test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

import tracelab
from tracelab import evals as E
from tracelab import failures as F
from tracelab import feedback as FB
from tracelab.cli import cli
from tracelab.evals import assertions as A
from tracelab.evals import promptfoo as PF
from tracelab.evals import select as SEL
from tracelab.evals.case import Call, Case
from tracelab.pipeline import ingest
from tracelab.redact import Policy, Redactor, bench
from tracelab.synth import generate

AGENTS = ("claude", "codex", "pi")

# one worker builds the module's corpus once (make test runs -n 2 --dist loadgroup)
pytestmark = pytest.mark.xdist_group("evals")


# ---------------------------------------------------------------------------- planting secrets
def _strings(value, depth=0, nested=True):
    """Every string in a parsed JSON value (and, with ``nested``, in JSON held in strings)."""
    if isinstance(value, str):
        yield value
        s = value.strip()
        if nested and depth < 3 and s[:1] in "{[" and s[-1:] in "}]":
            try:
                yield from _strings(json.loads(s), depth + 1)
            except ValueError:
                pass
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v, depth, nested)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, depth, nested)


def benchmark_secrets(n: int = 160) -> list[tuple[str, str, str]]:
    """(kind, secret, carrier text) from the redaction benchmark generator: secrets the Redactor
    redacts in their benchmark line (its recall is measured by the redaction package; this
    module tests that the export applies it to everything it writes)."""
    corpus = bench.generate(n, negatives_per_secret=0.0, identities=0, seed=23)
    missed = {(p.line, p.value) for p in bench.evaluate(corpus, Redactor(Policy(key=b"k"))).missed}
    out = []
    for p in corpus.planted:
        if p.category != "secret" or (p.line, p.value) in missed:
            continue
        # the decoded string field of the line that holds it (not a value inside JSON held in
        # that string: a bare value without its surroundings is not what the benchmark scored)
        carriers = [s for s in _strings(json.loads(corpus.lines[p.line]), nested=False) if p.value in s]
        if carriers:
            out.append((p.kind, p.value, min(carriers, key=len)))
    return out


def _encodings(text: str) -> list[str]:
    once = json.dumps(text)[1:-1]
    once_u = json.dumps(text, ensure_ascii=False)[1:-1]
    return list(dict.fromkeys([once_u, once, json.dumps(once_u)[1:-1], json.dumps(once)[1:-1]]))


def _replace_in_line(line: str, old: str, new: str) -> str | None:
    for enc_old in _encodings(old):
        if enc_old in line:
            depth_one = enc_old in (json.dumps(old)[1:-1], json.dumps(old, ensure_ascii=False)[1:-1])
            enc_new = json.dumps(new, ensure_ascii=False)[1:-1]
            if not depth_one:
                enc_new = json.dumps(enc_new)[1:-1]
            out = line.replace(enc_old, enc_new, 1)
            json.loads(out)
            return out
    return None


def plant(corpus: Path, probe_wh: Path, secrets: list[tuple[str, str, str]]) -> dict[str, set[str]]:
    """Append benchmark secrets (with their carrier text) to prompts, failing outputs and
    failing commands of the corpus files, in place. Returns the secrets by where they went."""
    con = tracelab.connect(probe_wh)
    try:
        prompts = con.execute("SELECT DISTINCT source_file, text FROM events WHERE kind = 'user_prompt' AND length(text) >= 12 ORDER BY 1, 2").fetchall()
        calls = con.execute(
            "SELECT source_file, call_line_no, input_json FROM tool_calls WHERE status = 'error' AND tool_name IN ('Bash', 'exec_command', 'shell', 'bash') ORDER BY 1, 2"
        ).fetchall()
    finally:
        con.close()
    fails = [json.loads(x) for x in (corpus / "truth_failures.jsonl").read_text().splitlines() if x.strip()]
    edits: dict[str, list[tuple[int | None, str, str]]] = {}
    placed: dict[str, set[str]] = {"prompt": set(), "output": set(), "command": set()}
    k = 0

    def nxt():
        nonlocal k
        s = secrets[k % len(secrets)]
        k += 1
        return s

    for f, text in prompts:
        _, value, ctx = nxt()
        edits.setdefault(f, []).append((None, text, text + "\n" + ctx))
        placed["prompt"].add(value)
    for t in fails:
        _, value, ctx = nxt()
        edits.setdefault(str(corpus / t["file"]), []).append((t["line_no"], t["text"], t["text"] + "\n" + ctx))
        placed["output"].add(value)
    for f, line_no, input_json in calls[::2]:
        inp = json.loads(input_json)
        cmd = inp.get("command") if isinstance(inp, dict) else None
        cmd = cmd if isinstance(cmd, str) else (inp.get("cmd") if isinstance(inp, dict) else None)
        if not isinstance(cmd, str) or "\n" in cmd:
            continue
        _, value, ctx = nxt()
        edits.setdefault(f, []).append((line_no, cmd, cmd + " && " + " ; ".join(x for x in ctx.splitlines() if x.strip())))
        placed["command"].add(value)
    applied = {key: set() for key in placed}
    for f, items in edits.items():
        lines = Path(f).read_text(encoding="utf-8").split("\n")
        for line_no, old, new in items:
            idx = [line_no - 1] if line_no else range(len(lines))
            for i in idx:
                rep = _replace_in_line(lines[i], old, new) if lines[i].strip() else None
                if rep is not None:
                    lines[i] = rep
        Path(f).write_text("\n".join(lines), encoding="utf-8")
    text_all = "".join(Path(f).read_text(encoding="utf-8") for f in edits)
    for where, values in placed.items():
        applied[where] = {v for v in values if v in text_all or json.dumps(v)[1:-1] in text_all}
    return applied


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def corpus_wh(tmp_path_factory):
    root = tmp_path_factory.mktemp("evals")
    corpus = root / "corpus"
    generate(corpus, sessions=3, seed=7)
    probe = root / "probe"
    assert ingest([str(corpus / a) for a in AGENTS], probe, jobs=1).files_failed == 0
    secrets = benchmark_secrets()
    placed = plant(corpus, probe, secrets)
    shutil.rmtree(probe)
    wh = root / "wh"
    s = ingest([str(corpus / a) for a in AGENTS], wh, jobs=1)
    assert s.files_failed == 0, s.errors
    F.build(wh)
    return corpus, wh, placed


@pytest.fixture(scope="module")
def top5(corpus_wh, tmp_path_factory):
    """Top-5 clusters exported redacted and (as the control) unredacted."""
    _, wh, _ = corpus_wh
    out = tmp_path_factory.mktemp("exports")
    red = E.export(wh, out / "redacted", top=5)
    raw = E.export(wh, out / "raw", top=5, redact=False)
    return red, raw


@pytest.fixture(scope="module")
def raw_cases(corpus_wh):
    return E.build_cases(corpus_wh[1], top=5, redact=False)


def _jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _export_strings(result) -> tuple[str, list[str]]:
    """Raw text of every exported file and every string in their parsed content."""
    texts, strings = [], []
    for paths in result.files.values():
        for p in paths:
            text = Path(p).read_text(encoding="utf-8")
            texts.append(text)
            if p.endswith(".yaml"):
                strings += list(_strings(yaml.safe_load(text)))
            elif p.endswith((".jsonl",)):
                for row in _jsonl(p):
                    strings += list(_strings(row))
            elif p.endswith(".json"):
                strings += list(_strings(json.loads(text)))
    return "\n".join(texts), strings


def _survives(secret: str, text: str, window: int = 16) -> bool:
    if len(secret) <= window:
        return secret in text
    starts = list(range(0, len(secret) - window + 1, 8)) + [len(secret) - window]
    return any(secret[i : i + window] in text for i in starts)


# ---------------------------------------------------------------------------- structure vs truth
def test_top5_export_files_and_cases_per_cluster(corpus_wh, top5):
    _, wh, _ = corpus_wh
    red, raw = top5
    f = F.load(wh)
    # --top 5: no interrupts; clusters that can become a check first, then by events
    chosen = SEL.top_cluster_ids(f, 5)
    rows = {r["cluster_id"]: r for r in f.clusters.to_dicts()}
    assert len(chosen) == 5 and not any(rows[c]["family"] == "interrupt" for c in chosen)
    keys = [(SEL.checkability(rows[c]["family"], rows[c]["template"]), -rows[c]["n_events"]) for c in chosen]
    assert keys == sorted(keys)
    left_out = [r for r in rows.values() if r["cluster_id"] not in chosen and r["family"] != "interrupt"]
    assert all((SEL.checkability(r["family"], r["template"]), -r["n_events"]) >= keys[-1] for r in left_out)
    expected = {}
    for c in chosen:
        m = f.members.filter(pl.col("cluster_id") == c)
        expected[c] = min(5, m.height)
    # every case written has an assertion; a case without one is skipped with the reason
    assert all(red.by_cluster.get(c, 0) + sum(1 for s in red.skipped if c in s) == n for c, n in expected.items())
    assert red.cases == sum(red.by_cluster.values()) and set(red.by_cluster) <= set(expected)
    assert set(red.files) == {"promptfoo", "inspect", "openai", "manifest"}
    cfg = yaml.safe_load(Path(red.files["promptfoo"][0]).read_text())
    inspect_rows = _jsonl(red.files["inspect"][0])
    openai_rows = _jsonl(red.files["openai"][0])
    assert len(cfg["tests"]) == len(inspect_rows) == len(openai_rows) == red.cases
    ids = [r["id"] for r in inspect_rows]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"tl-[0-9a-f]{12}", i) for i in ids)
    assert [t["metadata"]["case_id"] for t in cfg["tests"]] == ids == [r["metadata"]["case_id"] for r in openai_rows]
    for t, i, o in zip(cfg["tests"], inspect_rows, openai_rows):
        assert [m["role"] for m in i["input"]] == ["system", "user"] and i["input"] == o["input"]
        assert t["vars"] == {"tl_system": i["input"][0]["content"], "tl_user": i["input"][1]["content"]}
        assert i["target"] == o["ideal"] == t["metadata"]["expected"]
        assert i["metadata"]["cluster_id"] in expected
    manifest = json.loads(Path(red.files["manifest"][0]).read_text())
    assert manifest["cases_by_cluster"] == expected and manifest["redacted"] is True
    assert manifest["cases_by_format"] == {"promptfoo": red.cases, "inspect": red.cases, "openai": red.cases}
    # stable ids: the unredacted export has the same cases
    assert [r["id"] for r in _jsonl(raw.files["inspect"][0])] == ids


def test_cases_link_back_to_the_failing_line_and_match_truth(corpus_wh, raw_cases):
    corpus, wh, _ = corpus_wh
    truth = {}
    for line in (corpus / "truth_failures.jsonl").read_text().splitlines():
        t = json.loads(line)
        truth[(str(corpus / t["file"]), t["line_no"])] = t
    checked = 0
    for c in raw_cases:
        assert c.source_file and c.line_no and c.session_id
        raw_line = Path(c.source_file).read_text(encoding="utf-8").split("\n")[c.line_no - 1]
        if c.failing_call is not None:  # the failure line is the call's result line
            assert c.failing_call.tool_call_id in raw_line
            assert c.failing_call.tool_call_id in Path(c.source_file).read_text(encoding="utf-8").split("\n")[c.call_line_no - 1]
        else:
            assert c.event_key and c.observed
        if c.family == "tool_error":
            t = truth[(c.source_file, c.line_no)]
            assert c.failing_call.tool_call_id == t["tool_call_id"] and c.failing_call.tool_name == t["tool"]
            assert t["text"] in c.observed
            checked += 1
    assert checked >= 10


def test_user_request_and_preceding_calls_follow_session_order(corpus_wh, raw_cases):
    """Session order is (time, file, position in the file); the request is the last user
    prompt before the failure, the preceding calls those between the two."""
    _, wh, _ = corpus_wh
    con = tracelab.connect(wh)
    kinds = set()
    try:
        for c in raw_cases:
            calls = con.execute(
                """SELECT t.tool_call_key, t.started_at, t.source_file,
                          (SELECT min(e.seq) FROM events e WHERE e.session_key = t.session_key
                             AND e.tool_call_id = t.tool_call_id AND e.kind = 'tool_call') AS seq
                   FROM tool_calls t WHERE t.session_key = ?""",
                [c.session_key],
            ).fetchall()
            calls.sort(key=lambda r: (r[1], r[2], r[3]))
            if c.failing_call is not None:
                at = next((r[1], r[2], r[3]) for r in calls if r[0] == c.failing_call.tool_call_key)
            else:  # a failure event without a tool call (API error, interrupt): located at the event
                at = con.execute("SELECT ts, source_file, seq FROM events WHERE event_key = ?", [c.event_key]).fetchone()
            kinds.add(c.failing_call is None)
            prompts = con.execute("SELECT text, ts, source_file, seq FROM events WHERE session_key = ? AND kind = 'user_prompt'", [c.session_key]).fetchall()
            before = sorted((p for p in prompts if (p[1], p[2], p[3]) < at), key=lambda p: (p[1], p[2], p[3]))
            req = before[-1] if before else None
            assert c.user_request == (req[0] if req else None)
            low = (req[1], req[2], req[3]) if req else None
            keys = [r[0] for r in calls if (r[1], r[2], r[3]) < at and (low is None or (r[1], r[2], r[3]) > low)]
            assert len(c.preceding_calls) + c.omitted_calls == len(keys)
            assert [p.tool_call_key for p in c.preceding_calls] == keys[len(keys) - len(c.preceding_calls) :]
            assert len(c.preceding_calls) <= 8
    finally:
        con.close()
    assert kinds == {True, False} or kinds == {False}


def test_loop_cases_sit_at_the_first_repetition(corpus_wh):
    corpus, wh, _ = corpus_wh
    truth = json.loads((corpus / "truth.json").read_text())
    firsts = {(str(corpus / x["file"]), x["first_line"]) for a in AGENTS for x in truth["agents"][a]["loops"]["list"]}
    f = F.load(wh)
    loops = f.clusters.filter(pl.col("family") == "loop").get_column("cluster_id").to_list()
    assert loops
    cases = E.build_cases(wh, clusters=loops, redact=False, per_cluster=50)
    assert cases
    for c in cases:
        prev = c.preceding_calls[-1]
        assert (prev.tool_name, prev.input) == (c.failing_call.tool_name, c.failing_call.input)
        assert (c.source_file, prev.line_no) in firsts
        # a later line, or (Pi: parallel calls of one response) a later block of the same line
        assert c.call_line_no >= prev.line_no and c.failing_call.tool_call_key != prev.tool_call_key
        sig = A.call_signature(c.failing_call.tool_name, c.failing_call.input)
        assert [(k.kind, k.name, k.value) for k in c.checks if k.name == "no_repeat_call"] == [("not_contains", "no_repeat_call", sig)]
        assert "identical" in c.expected


def _arg_strings(x):
    """Every string argument of a tool input (nested dicts and lists included)."""
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for v in x.values():
            yield from _arg_strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from _arg_strings(v)


def test_checks_detect_the_observed_failure(raw_cases):
    n_template = n_call = 0
    for c in raw_cases:
        for k in c.checks:
            if k.kind == "not_regex":
                assert re.search(k.value, c.observed or "", re.I), (k.value, c.observed)
                assert not re.search(k.value, "I will check the environment first.", re.I)
                n_template += 1
            elif k.kind == "not_icontains":
                assert k.value.lower() in (c.observed or "").lower()
                n_template += 1
            elif k.kind == "not_contains":
                # the signature is one of the call's own argument strings (its first line)
                assert any(k.value in s for s in _arg_strings(c.failing_call.input)), (k.value, c.failing_call.input)
                n_call += 1
    assert n_template >= 10 and n_call >= 10


# ---------------------------------------------------------------------------- feedback round trip
def test_labels_round_trip_import_sql_reingest_export(corpus_wh, tmp_path):
    corpus, wh_src, _ = corpus_wh
    wh = tmp_path / "wh"
    shutil.copytree(wh_src, wh)
    f = F.load(wh)
    top = f.clusters.sort(["n_events", "cluster_id"], descending=[True, False]).head(2).to_dicts()
    c1, c2 = top[0]["cluster_id"], top[1]["cluster_id"]
    member = f.members.filter(pl.col("cluster_id") == c2).sort("ts", "source_file", "line_no", "member_key").row(0, named=True)
    (tmp_path / "l.csv").write_text(
        f'target,label,score,note\ncluster:{c1},verify-first,0,"Verify the precondition (tool installed, path exists) before running the command"\n',
        encoding="utf-8",
    )
    (tmp_path / "l.jsonl").write_text(
        json.dumps({"target_type": "event", "target_key": member["event_key"], "label": "ask-user", "note": "Ask the user which command they meant"}) + "\n",
        encoding="utf-8",
    )
    assert FB.import_file(wh, tmp_path / "l.csv").added == 1
    assert FB.import_file(wh, tmp_path / "l.jsonl").added == 1
    con = tracelab.connect(wh)
    try:
        got = con.execute(
            "SELECT f.label, m.cluster_id FROM feedback f JOIN failure_members m "
            "ON (f.target_type = 'cluster' AND f.target_key = m.cluster_id) OR (f.target_type = 'event' AND f.target_key = m.event_key) "
            "GROUP BY ALL ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert ("ask-user", c2) in got and ("verify-first", c1) in got
    # re-ingest (one file re-parsed), then export
    src = member["source_file"]
    st = os.stat(src)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
    s = ingest([str(corpus / a) for a in AGENTS], wh, jobs=1)
    assert s.files_parsed == 1
    assert sorted(FB.load(wh)["label"].to_list()) == ["ask-user", "verify-first"]
    out = tmp_path / "out"
    res = E.export(wh, out, clusters=[c1, c2])
    assert res.expected_from_feedback >= res.by_cluster[c1] + 1
    cfg = yaml.safe_load((out / PF.FILENAME).read_text())
    by_id = {r["id"]: r for r in _jsonl(out / "inspect_dataset.jsonl")}
    oa = {r["metadata"]["case_id"]: r for r in _jsonl(out / "openai_evals.jsonl")}
    seen_member = False
    for t in cfg["tests"]:
        m = t["metadata"]
        rubric = [a for a in t["assert"] if a["type"] == "llm-rubric"]
        if m["event_key"] == member["event_key"]:
            want, seen_member = "Ask the user which command they meant", True
        elif m["cluster_id"] == c1:
            want = "Verify the precondition (tool installed, path exists) before running the command"
        else:
            assert not rubric and m["expected_source"] == "regression"
            continue
        assert [a["value"] for a in rubric] == [want] and rubric[0]["metric"] == "expected_behaviour"
        assert by_id[m["case_id"]]["target"] == want and oa[m["case_id"]]["ideal"] == want
        assert m["expected_source"].startswith("feedback fb-")
    assert seen_member


# ---------------------------------------------------------------------------- selections
def test_query_and_sql_selections(corpus_wh):
    _, wh, _ = corpus_wh
    loops = E.build_cases(wh, query="tool_loops", redact=False)
    n_loops = tracelab.query("tool_loops", warehouse=wh).height
    assert len(loops) == n_loops > 0
    for c in loops:
        assert c.preceding_calls[-1].input == c.failing_call.input
        assert any(k.name == "no_repeat_call" for k in c.checks) or A.call_signature(c.failing_call.tool_name, c.failing_call.input) is None
    con = tracelab.connect(wh)
    try:
        keys = [k for (k,) in con.execute("SELECT event_key FROM events WHERE kind = 'api_error' ORDER BY event_key LIMIT 3").fetchall()]
        pairs = con.execute("SELECT session_key, tool_call_id FROM tool_calls WHERE status = 'user_rejected' ORDER BY 1, 2 LIMIT 2").fetchall()
    finally:
        con.close()
    assert keys and pairs
    api = E.build_cases(wh, sql="SELECT event_key FROM events WHERE kind = 'api_error' ORDER BY event_key LIMIT 3", redact=False)
    assert [c.event_key for c in api] == keys
    assert all(c.failing_call is None and c.cluster_id and c.family in ("api_error", "rate_limit") for c in api)
    rej = E.build_cases(wh, sql="SELECT session_key, tool_call_id FROM tool_calls WHERE status = 'user_rejected' ORDER BY 1, 2 LIMIT 2", redact=False)
    assert [(c.session_key, c.failing_call.tool_call_id) for c in rej] == [tuple(p) for p in pairs]
    assert all(c.family == "user_rejection" and c.status == "user_rejected" for c in rej)
    by_cluster = E.build_cases(wh, sql="SELECT cluster_id FROM failure_clusters ORDER BY n_events DESC, cluster_id LIMIT 2", redact=False, per_cluster=2)
    top2 = F.load(wh).clusters.sort(["n_events", "cluster_id"], descending=[True, False]).head(2)["cluster_id"].to_list()
    assert sorted({c.cluster_id for c in by_cluster}) == sorted(top2) and len(by_cluster) == 4
    with pytest.raises(E.ExportError, match="no column that locates"):
        E.build_cases(wh, query="tool_error_messages")
    with pytest.raises(E.ExportError, match="exactly one"):
        E.build_cases(wh, top=2, sql="SELECT 1")
    with pytest.raises(E.ExportError, match="no failure cluster"):
        E.build_cases(wh, clusters=["zz-000000"])


# ---------------------------------------------------------------------------- redaction
def test_no_planted_secret_in_any_export(corpus_wh, top5, tmp_path):
    _, wh, placed = corpus_wh
    red, raw = top5
    allv = set().union(*placed.values())
    assert len(placed["prompt"]) >= 10 and len(placed["output"]) >= 10 and len(placed["command"]) >= 3
    raw_text, raw_strings = _export_strings(raw)
    raw_blob = raw_text + "\n".join(raw_strings)
    exposed = {v for v in allv if _survives(v, raw_blob)}
    # control: without redaction the planted secrets do reach the exports, from every carrier
    assert len(exposed) >= 10
    assert all(exposed & placed[w] for w in ("prompt", "output", "command"))
    more = E.export(wh, tmp_path / "q", query="tool_loops")
    sqlx = E.export(wh, tmp_path / "s", sql="SELECT session_key, tool_call_id FROM tool_calls WHERE status <> 'ok' ORDER BY tool_call_key LIMIT 40")
    for res in (red, more, sqlx):
        text, strings = _export_strings(res)
        blob = text + "\n".join(strings)
        leaked = sorted(v for v in allv if _survives(v, blob))
        assert not leaked, f"{len(leaked)} planted secrets in {res.out_dir}"
        assert "[REDACTED:" in blob
    assert red.redaction_findings and sum(red.redaction_findings.values()) > 0


# ---------------------------------------------------------------------------- units
def test_template_pattern_escapes_and_matches():
    pat = A.template_pattern("error[E0425]: cannot find value <Q> in (scope) {{x}} a/b <N>")
    assert pat is not None
    assert re.search(pat, "error[E0425]: cannot find value `foo` in  (scope) {{x}} a/b 3", re.I)
    assert not re.search(pat, "error[E0425]: cannot find value `foo` in scope", re.I)
    assert A.template_pattern("<*> <N>") is None  # nothing literal to match on
    assert A.template_pattern("bash: <*> command not found") == r"bash:\s*.+?\s*command\s+not\s+found"


def test_call_signature_variants():
    assert A.call_signature("Bash", {"command": "npm test -- --watch=false", "description": "x"}) == "npm test -- --watch=false"
    assert A.call_signature("shell", {"command": ["bash", "-lc", "pytest -q\nexit 1"]}) == "pytest -q"
    assert A.call_signature("exec_command", {"cmd": "cargo build"}) == "cargo build"
    assert A.call_signature("Edit", {"file_path": "/a/b.py", "old_string": "def f(x):\n    return x", "new_string": "y"}) == "def f(x):"
    assert A.call_signature("apply_patch", "*** Begin Patch\n*** Update File: src/a.py\n@@\n-x\n+y\n*** End Patch") == "*** Update File: src/a.py"
    assert A.call_signature("Read", {"file_path": "/etc/hosts"}) == "/etc/hosts"
    assert A.call_signature("Bash", {"command": "ls"}) is None  # too short to be telling


def test_nunjucks_literal():
    assert PF.nunjucks_literal("plain") == "plain"
    assert PF.nunjucks_literal("echo {{ .Name }} {% raw %} {#") == 'echo {{ "{{" }} .Name }} {{ "{%" }} raw %} {{ "{#" }}'
    assert PF.nunjucks_literal("file:///etc/passwd").startswith('{{ "" }}file://')


# ---------------------------------------------------------------------------- peers
def _case_with_braces() -> Case:
    c = Case(
        case_id="tl-000000000001",
        origin="unit",
        cluster_id="te-000000000001",
        family="tool_error",
        cluster_name=None,
        template="template: <Q> failed at {{ .Values }} (line <N>)",
        excerpt=None,
        status="error",
        observed="helm: template: 'x' failed at {{ .Values }} (line 3)",
        agent="claude",
        model="m",
        session_key="claude:s",
        session_id="s",
        project="p",
        cwd="/w",
        git_branch=None,
        event_key="e",
        tool_call_key="k",
        source_file="/f",
        line_no=2,
        call_line_no=1,
        ts=None,
        user_request="deploy {{ env }} with {% if x %}",
        failing_call=Call("Bash", {"command": "helm install {{ .Release }} file://chart"}, "error", "boom"),
    )
    return A.apply(c)


@pytest.mark.peer
def test_promptfoo_accepts_and_grades_the_export(top5, tmp_path):
    """``promptfoo validate`` accepts the exported config; promptfoo's own schemas accept every
    test and assertion; promptfoo's own assertion code flags the observed failure and the
    replayed call, and passes a benign answer. One extra test (appended to a copy) has
    Nunjucks syntax and a ``file://`` reference in its literals."""
    from tracelab.evals import peers

    try:
        peers.ensure_promptfoo()
    except peers.PromptfooUnavailable as exc:
        pytest.skip(f"promptfoo@{peers.PROMPTFOO_VERSION} not installable here: {exc}")
    red, _ = top5
    config = red.files["promptfoo"][0]
    proc = peers.validate(config)
    assert proc.returncode == 0 and "Configuration is valid." in proc.stdout, proc.stdout + proc.stderr
    cfg = yaml.safe_load(Path(config).read_text())
    braces = _case_with_braces()
    cfg["tests"].append(PF.test_case(braces))
    combined = tmp_path / PF.FILENAME
    combined.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True, width=1 << 30), encoding="utf-8")
    outputs = []
    for t in cfg["tests"]:
        m = t["metadata"]
        sig = [k["value"] for k in m["checks"] if k["name"] == "no_repeat_call"]
        replay = f"I'll run it again:\n{sig[0]}\n" if sig else "Retrying the request."
        outputs.append([m["observed_failure"] or "", replay, "I will check the environment first and ask before retrying."])
    result = peers.check_config(combined, outputs)
    assert result["config"] is None
    graded = {"no_error_template": 0, "no_repeat_call": 0}
    for t, e in zip(result["tests"], cfg["tests"]):
        assert t["schema"] is None and t["asserts"] == [None] * len(e["assert"])
        assert [a["metric"] for a in e["assert"]] == [k["name"] for k in e["metadata"]["checks"]]
        observed, replay, benign = t["graded"]
        for i, chk in enumerate(e["metadata"]["checks"]):
            if chk["kind"] == "rubric":
                assert observed[i] is None
                continue
            assert benign[i]["pass"] is True, (chk, benign[i])
            if chk["name"] == "no_error_template":
                assert observed[i]["pass"] is False, (chk, e["metadata"]["observed_failure"])
            if chk["name"] == "no_repeat_call":
                assert replay[i]["pass"] is False, (chk, replay[i])
            graded[chk["name"]] += 1
    assert graded["no_error_template"] >= 10 and graded["no_repeat_call"] >= 10
    assert [k.name for k in braces.checks] == ["no_repeat_call", "no_error_template"]


@pytest.mark.peer
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside inspect_ai's own dependencies
def test_inspect_loads_and_runs_the_dataset(top5):
    pytest.importorskip("inspect_ai", reason="inspect-ai (dev extra) is not installed")
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import json_dataset
    from inspect_ai.model import ChatMessageSystem, ChatMessageUser, ModelOutput, ModelUsage, get_model

    from tracelab.evals.inspect_task import failed_checks, failure_replay

    red, _ = top5
    path = red.files["inspect"][0]
    rows = _jsonl(path)
    ds = json_dataset(path)
    assert len(ds) == len(rows)
    for s, r in zip(ds, rows):
        assert s.id == r["id"] and s.target == r["target"] and s.metadata["source_file"] == r["metadata"]["source_file"]
        assert isinstance(s.input[0], ChatMessageSystem) and isinstance(s.input[1], ChatMessageUser)
        assert s.input[1].text == r["input"][1]["content"]
    # run the exported task offline: even samples replay the failing call, odd ones answer benignly
    outs, want = [], {}
    for i, r in enumerate(rows):
        fc = r["metadata"]["failing_call"]
        replay = i % 2 == 0 and fc is not None
        text = json.dumps({"tool": fc["tool_name"], "input": fc["input"]}, ensure_ascii=False) if replay else "I will check the environment first."
        o = ModelOutput.from_content("mockllm/model", text)
        o.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        outs.append(o)
        want[r["id"]] = "I" if failed_checks(text, r["metadata"]["checks"]) else "C"
    assert "I" in want.values() and "C" in want.values()
    logs = inspect_eval(
        failure_replay(path), model=get_model("mockllm/model", custom_outputs=outs), display="none", max_samples=1, log_dir=str(Path(path).parent / "logs")
    )
    log = logs[0]
    assert log.status == "success", log.error
    got = {s.id: next(iter(s.scores.values())).value for s in log.samples}
    assert got == want


# ---------------------------------------------------------------------------- CLI
def test_cli_export_summary_and_errors(corpus_wh, tmp_path):
    _, wh, _ = corpus_wh
    runner = CliRunner()
    r = runner.invoke(
        cli, ["evals", "export", "--top", "2", "--per-cluster", "2", "--format", "openai", "--format", "promptfoo", "--out", str(tmp_path / "o"), "-w", str(wh)]
    )
    assert r.exit_code == 0, r.output
    assert "Exported 4 case(s) from top 2 failure clusters" in r.output
    top2 = SEL.top_cluster_ids(F.load(wh), 2)
    for cid in top2:
        assert re.search(rf"^\s+{cid}\s+2$", r.output, re.M)
    assert re.search(r"openai\s+4\s+.*openai_evals.jsonl", r.output) and re.search(r"promptfoo\s+4\s+.*promptfooconfig.yaml", r.output)
    assert not (tmp_path / "o" / "inspect_dataset.jsonl").exists()
    assert "Redaction: on" in r.output
    r = runner.invoke(
        cli, ["evals", "export", "--cluster", ",".join(top2), "--per-cluster", "1", "-f", "inspect", "--out", str(tmp_path / "c"), "-w", str(wh), "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["cases_by_cluster"] == {cid: 1 for cid in top2}
    r = runner.invoke(
        cli, ["evals", "export", "--query", "tool_loops", "--param", "min_repeats=4", "--out", str(tmp_path / "q"), "-w", str(wh), "--json", "--no-redact"]
    )
    assert r.exit_code == 0, r.output
    js = json.loads(r.output)
    assert js["cases"] == tracelab.query("tool_loops", warehouse=wh, min_repeats=4).height and js["redacted"] is False
    for args, msg in (
        ([], "exactly one"),
        (["--top", "1", "--cluster", "te-1234"], "exactly one"),
        (["--param", "a=b", "--top", "1"], "--param needs --query"),
        (["--query", "tool_loops", "--param", "novalue"], "NAME=VALUE"),
        (["--cluster", "zz-0000"], "no failure cluster"),
    ):
        r = runner.invoke(cli, ["evals", "export", *args, "--out", str(tmp_path / "e"), "-w", str(wh)])
        assert r.exit_code != 0 and msg in r.output, (args, r.output)


def test_checkability_prefers_what_a_check_can_test():
    assert SEL.checkability("loop", "same tool call with identical input repeated 3+ times in a row") == 0
    assert SEL.checkability("tool_error", "File has not been read yet. Read it first before writing to it") == 0
    assert SEL.checkability("user_rejection", "The user rejected the call with typed feedback") == 0
    # generic messages name no fix
    for generic in ("exit code <N> (no output)", "pytest: tests failed", "Found <N> error", "API error: [trimmed for fixture]"):
        assert SEL.checkability("tool_error", generic) == 1, generic
    assert SEL.checkability("user_rejection", "The user rejected the call") == 1
    assert SEL.checkability("api_error", "API error 500 api_error: Internal server error") == 2
    assert SEL.recognisable("ModuleNotFoundError: No module named <Q>") and not SEL.recognisable("<PATH>: <*>")


def test_top_on_real_samples_skips_interrupts_and_every_case_has_an_assertion(tmp_path_factory, tmp_path):
    """On the samples the largest cluster and the third are interrupts (44 and 18 events, all
    sample folders): --top must not pick them unless asked, and every written case carries at
    least one assertion."""
    from conftest import samples_warehouse

    wh = samples_warehouse(tmp_path_factory)
    f = F.load(wh)
    families = dict(zip(f.clusters["cluster_id"], f.clusters["family"]))
    largest = f.clusters.sort(["n_events", "cluster_id"], descending=[True, False]).head(3)
    assert largest["family"][0] == "interrupt" and list(largest["family"]).count("interrupt") == 2
    res = E.export(wh, tmp_path / "o", top=3, formats=["promptfoo"])
    assert res.by_cluster and not any(families[c] == "interrupt" for c in res.by_cluster)
    cfg = yaml.safe_load(Path(res.files["promptfoo"][0]).read_text())
    assert len(cfg["tests"]) == res.cases and all(t.get("assert") for t in cfg["tests"])
    every = f.clusters.height
    assert "interrupt" in {families[c] for c in SEL.top_cluster_ids(f, every, include_interrupts=True)}
    assert "interrupt" not in {families[c] for c in SEL.top_cluster_ids(f, every)}


def test_top_on_real_samples_passes_over_clusters_that_yield_no_checked_case(samples_wh, tmp_path):
    """On the samples the loop cluster ranked among the first three yields no case with an
    assertion (its repeated calls are polls without a signature, or have no input): --top 3
    passes over it, says why, and still exports three clusters — the first three of the
    ranking that yield a checked case when exported alone (the oracle)."""
    f = F.load(samples_wh)
    families = dict(zip(f.clusters["cluster_id"], f.clusters["family"]))
    want, none = [], []
    for cid in SEL.top_cluster_ids(f, f.clusters.height):
        (want if E.build_cases(samples_wh, clusters=[cid], redact=False) else none).append(cid)
        if len(want) == 3:
            break
    assert len(want) == 3 and "loop" in {families[c] for c in none}
    r = CliRunner().invoke(cli, ["evals", "export", "--top", "3", "-f", "promptfoo", "--out", str(tmp_path / "o"), "-w", str(samples_wh), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.output)
    assert sorted(res["cases_by_cluster"]) == sorted(want)
    assert [line.split(" ")[0] for line in res["passed_over"]] == none
    assert all("yields an assertion" in line for line in res["passed_over"])
    # the same cases, and the same redaction findings, as exporting those clusters by id
    alone = E.export(samples_wh, tmp_path / "c", clusters=want, formats=["promptfoo"])
    assert alone.by_cluster == res["cases_by_cluster"] and alone.redaction_findings == res["redaction_findings"]
    r = CliRunner().invoke(cli, ["evals", "export", "--top", "3", "-f", "promptfoo", "--out", str(tmp_path / "t"), "-w", str(samples_wh)])
    assert f"Passed over {len(none)} cluster(s)" in r.output
    assert all(any(line.strip().startswith(cid + " (") for line in r.output.splitlines()) for cid in none)


def test_export_of_the_real_samples_passes_the_redaction_check(samples_wh, tmp_path):
    """An export is redacted with the policy `tracelab redact --check` applies, so its files pass
    that check: the cases' `session_key` metadata (claude:<uuid>…) is an identifier, not a
    secret under a `…_key` name (it drew 30 secret-json-key findings on the samples)."""
    out = tmp_path / "o"
    r = CliRunner().invoke(cli, ["evals", "export", "--top", "3", "--out", str(out), "-w", str(samples_wh)])
    assert r.exit_code == 0, r.output
    assert any("session_key" in line for line in (out / "openai_evals.jsonl").read_text(encoding="utf-8").splitlines())
    check = CliRunner().invoke(cli, ["redact", "--check", str(out), "--json", "-q"])
    report = json.loads(check.stdout)
    assert check.exit_code == 0 and report["clean"], report["by_detector"]
