"""The search index (tracelab/textindex): `tracelab search` answered from the index returns
exactly what the full scan returns (rows, order, total_matches, snippets), on all of the
real samples and on a synthetic warehouse, for plain words and phrases, substrings inside
tokens, regular expressions, case, non-ASCII text and code symbols, and for random patterns
(hypothesis); and it stays exact after an append, a re-parse and a compaction, and falls back
to the scan (never a wrong answer) when a segment is missing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from conftest import SAMPLES, samples_warehouse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracelab import library as q
from tracelab.cli import cli
from tracelab.doctor import check as doctor_check
from tracelab.doctor import repair as doctor_repair
from tracelab.fulltext import search_query, search_table
from tracelab.pipeline import ingest
from tracelab.store.connection import Store
from tracelab.store.warehouse import Warehouse
from tracelab.textindex import TABLE, check, status
from tracelab.textindex.layout import segment_of
from tracelab.textindex.plan import plan, required_literals
from tracelab.textindex.search import run as indexed
from tracelab.textindex.tokens import SEPARATE, is_token_char, words

#: (pattern, regex, case_sensitive, the index answers it) -- the last is checked, so a pattern
#: that silently fell back to the scan would be noticed
PATTERNS = [
    ("error", False, False, True),  # plain word, frequent
    ("Error", False, True, True),  # case-sensitive
    ("ERROR", False, False, True),
    ("rror", False, False, True),  # inside tokens
    ("unc", False, False, True),
    ("exit code", False, False, True),  # phrases
    ("No such file or directory", False, False, True),
    ("permission denied", False, False, True),
    ("ENOENT", False, False, True),  # code symbols
    ("--force", False, False, True),
    ("foo.py", False, False, True),
    ("package.json", False, False, True),
    ("a->b", False, False, True),
    ("->", False, False, False),  # only separators: scanned
    ("::", False, False, False),
    ('"name"', False, False, True),
    ("'s ", False, False, True),
    ("snake_case", False, False, True),
    ("__init__", False, False, True),
    ("/usr/bin", False, False, True),
    ("ü", False, False, True),  # non-ASCII
    ("Über", False, False, True),
    ("日本", False, False, True),
    ("→", False, False, True),
    ("✅", False, False, True),
    ("🐳", False, False, True),
    ("—", False, False, True),
    (r"exit code [1-9]\d*", True, False, True),  # regular expressions
    (r"\bgit (push|commit)\b", True, False, True),
    (r"^\s*import ", True, False, True),
    (r"[0-9]{3} files?", True, False, True),
    (r"error|warning", True, False, False),  # an alternation of whole patterns: scanned
    (r".*", True, False, False),
    (r"(?i)todo", True, True, False),  # inline flags: scanned
    (r"Traceback.*Error", True, True, True),
    (r"[[:alpha:]]+Error", True, False, False),  # POSIX class: scanned
]


def _params(pattern, regex=False, case_sensitive=False, limit=100_000, **filters):
    return dict(
        pattern=pattern,
        regex=regex,
        case_sensitive=case_sensitive,
        since=filters.get("since"),
        until=filters.get("until"),
        agent=filters.get("agent"),
        project=None,
        session=filters.get("session"),
        kinds=filters.get("kinds"),
        tool=filters.get("tool"),
        include_subagents=filters.get("include_subagents", True),
        context=filters.get("context", 60),
        limit=limit,
    )


def _both(store: Store, params: dict):
    """(index answer or None, full-scan answer) on one store."""
    got = indexed(store.con, store.snapshot, store.root, params)
    want = q.run_arrow(search_query(), store.con, **params)
    return got, want


def _assert_same(store: Store, params: dict, answered: bool | None = None):
    got, want = _both(store, params)
    if answered is not None:
        assert (got is not None) == answered, f"index {'did not answer' if answered else 'answered'} {params['pattern']!r}"
    if got is not None:
        assert got.to_pylist() == want.to_pylist(), params
    return want


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    return samples_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def synth_wh(tmp_path_factory) -> Path:
    from tracelab.synth import generate

    corpus = tmp_path_factory.mktemp("textindex_synth")
    generate(corpus / "c", sessions=6, seed=3, weeks=1, jobs=1)
    wh = corpus / "wh"
    s = ingest([str(corpus / "c")], wh, jobs=1)
    assert s.files_failed == 0
    return wh


def test_ingest_indexes_every_part(samples, synth_wh):
    for wh in (samples, synth_wh):
        snap = Warehouse(wh).snapshot()
        st = status(snap)
        assert st.complete and st.indexed, wh
        assert check(Warehouse(wh), snap) == []


@pytest.mark.parametrize("pattern, regex, case_sensitive, answered", PATTERNS)
def test_index_equals_scan_on_all_samples(samples, pattern, regex, case_sensitive, answered):
    with Store(samples) as store:
        want = _assert_same(store, _params(pattern, regex, case_sensitive), answered)
        _assert_same(store, _params(pattern, regex, case_sensitive, limit=7, context=15))  # the newest 7: order and snippets
    if pattern in ("error", "→", "exit code"):
        assert want.num_rows > 0  # the set is not vacuous on the samples


@pytest.mark.parametrize("pattern, regex, case_sensitive, answered", PATTERNS)
def test_index_equals_scan_on_synthetic(synth_wh, pattern, regex, case_sensitive, answered):
    with Store(synth_wh) as store:
        _assert_same(store, _params(pattern, regex, case_sensitive), answered)
        _assert_same(store, _params(pattern, regex, case_sensitive, limit=5))


@pytest.mark.parametrize(
    "filters",
    [
        {"agent": "codex"},
        {"kinds": ["tool_result"]},
        {"since": "2025-09-01", "until": "2026-01-01"},
        {"include_subagents": False},
        {"tool": "Bash"},
    ],
)
def test_filters_equal_the_scan(samples, filters):
    with Store(samples) as store:
        for pattern in ("error", "exit code", "file"):
            _assert_same(store, _params(pattern, limit=20, **filters), True)


def test_search_and_cli_use_the_index_and_no_index_scans(samples):
    a = search_table("error", samples, limit=10)
    b = search_table("error", samples, limit=10, use_index=False)
    assert a.to_pylist() == b.to_pylist() and a.num_rows == 10
    r1 = CliRunner().invoke(cli, ["search", "exit code", "-w", str(samples), "--json", "-n", "5"])
    r2 = CliRunner().invoke(cli, ["search", "exit code", "-w", str(samples), "--json", "-n", "5", "--no-index"])
    assert r1.exit_code == 0 and r2.exit_code == 0, r1.output + r2.output
    assert json.loads(r1.output) == json.loads(r2.output) and len(json.loads(r1.output)) == 5


@pytest.fixture(scope="module")
def texts(samples) -> list[str]:
    with Store(samples) as store:
        rows = store.con.execute(
            "SELECT coalesce(text, tool_input) FROM events WHERE coalesce(text, tool_input) IS NOT NULL ORDER BY event_key LIMIT 3000"
        ).fetchall()
    return [r[0] for r in rows]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_property_random_patterns_index_equals_scan(samples, texts, data):
    """Substrings of stored texts (any cut, separators and all) and random strings, plain or
    case-sensitive: the index's answer is the scan's whenever the index answers."""
    if data.draw(st.booleans()):
        t = data.draw(st.sampled_from(texts))
        i = data.draw(st.integers(0, max(len(t) - 1, 0)))
        pattern = t[i : i + data.draw(st.integers(1, 24))]
    else:
        pattern = data.draw(st.text(alphabet=st.sampled_from(list("aeiostrnERX_-./: →é日🐳\"'0123")), min_size=1, max_size=8))
    cs = data.draw(st.booleans())
    with Store(samples) as store:
        _assert_same(store, _params(pattern, False, cs, limit=10))


def test_tokens_never_split_a_case_insensitive_match():
    """What makes a one-run pattern's postings exact: no character outside ASCII matches an
    ASCII separator case-insensitively (RE2, as DuckDB runs it), and every separator is one byte."""
    seps = [chr(c) for c in range(128) if not is_token_char(chr(c))]
    assert bytes(range(128)).translate(SEPARATE) == bytes(32 if chr(c) in seps else c for c in range(128))
    con = duckdb.connect()
    for s in seps:
        if s in "\n\r":
            continue
        n = con.execute(
            "SELECT count(*) FROM range(128, 1114112) t(i) WHERE (i < 55296 OR i > 57343) AND regexp_matches(chr(i::INTEGER), $rx)",
            {"rx": "(?si)^\\Q" + s + "\\E$"},
        ).fetchall()[0][0]
        assert n == 0, repr(s)
    assert [w.text for w in words("--force foo.py")] == ["force", "foo", "py"]


def test_plans():
    assert plan("ENOENT").proven
    assert not plan("permission denied").proven
    assert plan("::") is None and plan(".*", regex=True) is None
    assert required_literals(r"exit (code|status):? [1-9]") == ["exit ", " "]
    assert required_literals(r"[[:alpha:]]") is None and required_literals(r"\pL") is None and required_literals("a{,3}") is None


def _copy_lines(src: Path, dest: Path, start: int, stop: int | None) -> None:
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    with open(dest, "a", encoding="utf-8") as fh:
        fh.writelines(lines[start:stop])


def _exact(wh: Path) -> None:
    snap = Warehouse(wh).snapshot()
    assert status(snap).complete and check(Warehouse(wh), snap) == []
    with Store(wh) as store:
        for pattern, regex, cs, _ in PATTERNS[:12]:
            _assert_same(store, _params(pattern, regex, cs))


def test_incremental_append_reparse_and_compaction_stay_exact(tmp_path):
    src = sorted((SAMPLES / "codex").rglob("*.jsonl"), key=lambda p: -p.stat().st_size)
    if len(src) < 3:
        pytest.skip("codex samples not found")
    corpus, wh = tmp_path / "c", tmp_path / "wh"
    corpus.mkdir()
    big = corpus / src[0].name
    n = len(src[0].read_text(encoding="utf-8").splitlines())
    _copy_lines(src[0], big, 0, n // 2)
    shutil.copy(src[1], corpus / src[1].name)
    ingest([str(corpus)], wh, jobs=1)
    _exact(wh)
    _copy_lines(src[0], big, n // 2, None)  # append: the file grows
    shutil.copy(src[2], corpus / src[2].name)  # and a new file
    s = ingest([str(corpus)], wh, jobs=1)
    assert s.lines_ingested > 0
    _exact(wh)
    (corpus / src[1].name).write_text(src[1].read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")  # rewritten: re-parse
    ingest([str(corpus)], wh, jobs=1)
    _exact(wh)
    before = len(Warehouse(wh).snapshot().tables["events"])
    r = CliRunner().invoke(cli, ["compact", "-w", str(wh), "--json"])
    assert r.exit_code == 0, r.output
    assert len(Warehouse(wh).snapshot().tables["events"]) < before
    _exact(wh)


def test_missing_segment_falls_back_and_doctor_rebuilds(tmp_path, samples):
    wh = tmp_path / "wh"
    shutil.copytree(samples, wh)
    snap = Warehouse(wh).snapshot()
    seg = snap.tables[TABLE][0]
    (wh / seg).unlink()
    with Store(wh) as store:  # its part is scanned, the others answered from the index
        _assert_same(store, _params("error"), True)
        _assert_same(store, _params("exit code", limit=4), True)
    assert search_table("error", wh, limit=5).to_pylist() == search_table("error", wh, limit=5, use_index=False).to_pylist()
    report = doctor_check(wh)
    assert [f.kind for f in report.findings] == ["search_index"] and seg in report.findings[0].message
    fixed = doctor_repair(wh)
    assert any("search index" in a for a in fixed.actions) and doctor_check(wh).healthy
    _exact(wh)


def test_unindexed_parts_are_scanned_and_index_build_indexes_them(tmp_path, samples):
    wh = tmp_path / "wh"
    shutil.copytree(samples, wh)
    w = Warehouse(wh)
    with w.lock():
        snap = w.snapshot()
        snap.tables[TABLE] = snap.tables[TABLE][1:]  # one part loses its segment
        w.commit(snap)
    assert len(status(w.snapshot()).unindexed) == 1
    with Store(wh) as store:
        _assert_same(store, _params("error"), True)
        _assert_same(store, _params("exit code", limit=3), True)
    r = CliRunner().invoke(cli, ["index", "status", "-w", str(wh), "--json"])
    assert r.exit_code == 0 and not json.loads(r.output)["complete"]
    r = CliRunner().invoke(cli, ["index", "build", "-w", str(wh), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["built"] == 1, r.output
    r = CliRunner().invoke(cli, ["index", "status", "-w", str(wh), "--json"])
    assert json.loads(r.output)["complete"]
    _exact(wh)


@pytest.mark.parametrize("pattern", ["error", "ENOENT", "exit code", "foo.py", "Über", "ü", "日本", "--force", "->"])
def test_sessions_search_from_the_index_equals_the_scan(samples, synth_wh, pattern):
    """`tracelab sessions --search` takes its sessions from the index: the same sessions as the
    scan of every event's text (and the same listing rows); patterns without a token scan."""
    from tracelab.session.listing import sessions_table
    from tracelab.textindex.search import matching_sessions

    found_any = False
    for wh in (samples, synth_wh):
        with Store(wh) as store:
            keys = matching_sessions(store.con, store.snapshot, store.root, pattern)
            want = store.con.execute(
                "SELECT DISTINCT session_key FROM events WHERE tl_search_hit(text, tool_input, $p, false, false) ORDER BY 1", {"p": pattern}
            ).fetchall()
        assert (keys is None) == (pattern == "->"), pattern
        if keys is not None:
            assert keys == [k for (k,) in want]
            found_any = found_any or bool(keys)
        a = sessions_table(wh, search=pattern)
        b = sessions_table(wh, search=pattern, use_index=False)
        assert a.to_pylist() == b.to_pylist()
    if pattern in ("error", "exit code"):
        assert found_any


def test_small_chunks_row_groups_and_order_blocks_stay_exact(tmp_path, samples, monkeypatch):
    """A segment built in many chunks (a token in several posting rows), with row groups of a
    few postings and order blocks of 16 documents (recorded in its footer) answers exactly like
    the one-chunk build."""
    from tracelab.textindex import build as B

    monkeypatch.setattr(B, "CHUNK_ROWS", 97)
    monkeypatch.setattr(B, "ROW_GROUP_TOKENS", 40)
    monkeypatch.setattr(B, "ROW_GROUP_POSTINGS", 64)
    monkeypatch.setattr(B, "ORDER_BLOCK", 16)
    monkeypatch.setattr(B, "ORDER_ROWS_PER_GROUP", 3)
    wh = tmp_path / "wh"
    shutil.copytree(samples, wh)
    shutil.rmtree(wh / TABLE)
    r = CliRunner().invoke(cli, ["index", "build", "-w", str(wh), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["built"] > 0, r.output
    seg = wh / Warehouse(wh).snapshot().tables[TABLE][0]
    rows = duckdb.sql(
        "SELECT count(*) FILTER (WHERE block IS NULL), count(DISTINCT token) FILTER (WHERE block IS NULL) FROM read_parquet($f)", params={"f": str(seg)}
    )
    n_rows, n_tokens = rows.fetchall()[0]
    assert n_rows > n_tokens  # tokens repeat across chunks
    with Store(wh) as store:
        for pattern, regex, cs in [
            ("error", False, False),
            ("exit code", False, False),
            ("ENOENT", False, False),
            ("→", False, False),
            (r"exit code [1-9]", True, False),
        ]:
            for limit in (1, 3, 40, 100_000):
                _assert_same(store, _params(pattern, regex, cs, limit=limit), True)
        _assert_same(store, _params("file", limit=20, agent="codex"), True)


def test_old_format_segments_are_scanned_and_rebuilt(tmp_path, samples):
    """Segments of another format version (here: the v2 files moved to v1 paths) are not used:
    the search scans, `tracelab index build` drops them and builds current ones."""
    wh = tmp_path / "wh"
    shutil.copytree(samples, wh)
    w = Warehouse(wh)
    with w.lock():
        snap = w.snapshot()
        (wh / TABLE / "v2").rename(wh / TABLE / "v1")
        snap.tables[TABLE] = [s.replace(f"{TABLE}/v2/", f"{TABLE}/v1/") for s in snap.tables[TABLE]]
        w.commit(snap)
    assert status(w.snapshot()).indexed == []
    with Store(wh) as store:
        assert indexed(store.con, store.snapshot, store.root, _params("error")) is None
    r = CliRunner().invoke(cli, ["index", "build", "-w", str(wh), "--json"])
    out = json.loads(r.output)
    assert r.exit_code == 0 and out["built"] == out["dropped"] > 0, r.output
    _exact(wh)


def test_cli_search_imports_no_arrow(samples):
    """`tracelab search --json` answers from the index on Python rows: NumPy, pyarrow and pandas
    stay unimported (they are a third of a short search's time)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tracelab.cli import cli\n"
        f"sys.argv = ['tracelab', 'search', 'error', '-w', {str(samples)!r}, '--json', '-n', '5']\n"
        "try:\n    cli()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'pyarrow', 'pandas', 'polars') if m in sys.modules), file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) == 5
    assert r.stderr.strip().splitlines()[-1] == "[]"


def _segment_files(wh: Path) -> set[str]:
    return {p.relative_to(wh).as_posix() for p in (wh / TABLE).rglob("*.parquet")}


def test_ingest_that_compacts_its_new_parts_stays_exact_and_leaves_no_stray_segment(tmp_path, monkeypatch):
    """Ingest builds its new parts' segments in the background (Prebuild) while it derives;
    when the same ingest then merges small events parts, the merged part gets its segment, and
    no segment file is left on disk that the snapshot does not list."""
    from tracelab.store import compact as C

    monkeypatch.setattr(C, "MIN_PARTS", 3)
    files = sorted((SAMPLES / "claude-code").rglob("*.jsonl"))
    if len(files) < 40:
        pytest.skip("claude-code samples not found")
    corpus, wh = tmp_path / "corpus", tmp_path / "wh"
    merged = False
    for i in range(0, 40, 8):
        for f in files[i : i + 8]:
            dest = corpus / f.relative_to(SAMPLES)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
        ingest([str(corpus)], wh, jobs=1)
        snap = Warehouse(wh).snapshot()
        merged = merged or any(re.search(r"-c\d{4}-", rel) for rel in snap.tables["events"])
        assert _segment_files(wh) - set(snap.tables[TABLE]) <= set(snap.retired)  # superseded ones wait for their grace period
        _exact(wh)
    assert merged  # the case above was met


def test_prebuilt_segment_of_a_part_merged_away_is_deleted(tmp_path, samples):
    """sync() deletes a prebuilt segment whose part the snapshot no longer lists, and takes the others."""
    from tracelab.textindex import Prebuild, sync

    wh = tmp_path / "wh"
    shutil.copytree(samples, wh)
    w = Warehouse(wh)
    snap = w.snapshot()
    parts = sorted(snap.tables["events"])
    assert len(parts) >= 3
    snap.tables[TABLE] = []
    for seg in _segment_files(wh):
        (wh / seg).unlink()
    ready = Prebuild(w, parts[:2]).finish()
    assert sorted(ready) == parts[:2] and all((wh / s).is_file() for s in ready.values())
    snap.tables["events"] = parts[1:]  # the first part went (as if merged)
    res = sync(w, snap, parts=parts[1:], prebuilt=ready)
    assert not (wh / ready[parts[0]]).exists()
    assert set(res.built) == {segment_of(p) for p in parts[1:]} == set(snap.tables[TABLE]) == _segment_files(wh)
