"""``export()``: selection → anchors → cases → redaction → checks → files in three formats."""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl

from tracelab import failures as F
from tracelab import feedback as FB
from tracelab.errors import ParameterError
from tracelab.evals import assertions, context, inspect_dataset, openai_evals, promptfoo
from tracelab.evals import select as SEL
from tracelab.evals.case import Case, Check
from tracelab.evals.scrub import Scrubber
from tracelab.evals.select import SelectionError
from tracelab.library import QueryError, run
from tracelab.store.connection import Store
from tracelab.suggest import api as SUG

FORMATS = ("promptfoo", "inspect", "openai")
MANIFEST = "export.json"


class ExportError(ParameterError, ValueError):
    """The export cannot run (bad selection, no warehouse); the message is for the user."""


@dataclass
class ExportResult:
    out_dir: str
    selection: str
    cases: int
    redacted: bool
    formats: list[str]
    files: dict[str, list[str]] = field(default_factory=dict)
    by_cluster: dict[str, int] = field(default_factory=dict)
    expected_from_feedback: int = 0
    skipped: list[str] = field(default_factory=list)
    #: --top: clusters passed over because none of their cases yields an assertion (one line each)
    passed_over: list[str] = field(default_factory=list)
    redaction_findings: dict[str, int] = field(default_factory=dict)
    redaction_policy: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "selection": self.selection,
            "cases": self.cases,
            "formats": self.formats,
            "files": self.files,
            "cases_by_format": {f: self.cases for f in self.formats},
            "cases_by_cluster": self.by_cluster,
            "expected_from_feedback": self.expected_from_feedback,
            "skipped": self.skipped,
            "passed_over": self.passed_over,
            "redacted": self.redacted,
            "redaction_findings": self.redaction_findings,
            "redaction_policy": self.redaction_policy,
        }


class Made(NamedTuple):
    """A built case, what redacting it found, and its cluster as selected."""

    case: Case
    found: Counter[str]
    cluster_id: str | None


def _selection_label(clusters, top, query, params, sql, suggestion=None) -> str:
    if suggestion:
        return f"suggestion {suggestion}"
    if top is not None:
        return f"top {top} failure clusters"
    if clusters:
        return "clusters " + ", ".join(clusters)
    if query:
        ps = ", ".join(f"{k}={v}" for k, v in (params or {}).items())
        return f"query {query}" + (f" ({ps})" if ps else "")
    return "sql"


def _register_failures(con, f) -> None:
    """Fresh ``failure_members`` / ``failure_clusters`` views for ``--sql`` (the persisted
    tables may be missing or older than the events)."""
    for name, df in (("failure_members", f.members), ("failure_clusters", f.clusters)):
        con.register(f"_tl_{name}", df.to_arrow())
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * FROM "_tl_{name}"')


def build_cases(
    warehouse: str | os.PathLike | Store,
    *,
    clusters: Sequence[str] | None = None,
    top: int | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    sql: str | None = None,
    per_cluster: int = 5,
    context_calls: int = 8,
    redact: bool = True,
    redactor=None,
    scrubber=None,
    skipped: list[str] | None = None,
    include_interrupts: bool = False,
    suggestion: str | None = None,
    passed_over: list[str] | None = None,
) -> list[Case]:
    """The cases of a selection (exactly one of ``clusters``, ``top``, ``query``, ``sql``,
    ``suggestion``), redacted unless ``redact=False``, with their checks and expected behaviour.

    ``top`` takes clusters in the order of :func:`~tracelab.evals.select.ranked_cluster_ids`
    (those that can become a check first, interrupts only with ``include_interrupts``) until
    ``top`` of them yield at least one case with an assertion; a cluster none of whose cases
    does is passed over and appended to ``passed_over`` (one line each, with the reason).
    Rows of a query / SQL selection that locate nothing, and cases no assertion could be derived
    for (they are not returned), are appended to ``skipped`` with the reason. The scrubber's
    findings count the returned cases only."""
    modes = [m for m, v in (("clusters", clusters), ("top", top), ("query", query), ("sql", sql), ("suggestion", suggestion)) if v]
    if len(modes) != 1:
        raise ExportError(
            "select exactly one of: cluster ids, --top K, --query NAME, --sql TEXT, --suggestion ID" + (f" (got {', '.join(modes)})" if modes else "")
        )
    sug = None
    if suggestion:
        sug = SUG.find(warehouse, suggestion)
        if sug.effect == "approval_wait":
            raise ExportError(f"{suggestion} is an allow rule: it changes what the harness asks, not what the agent does, so there is no behaviour to evaluate")
    if per_cluster < 1:
        raise ExportError("per_cluster must be at least 1")
    if not redact:
        scrubber = None
    elif scrubber is None:
        scrubber = Scrubber(redactor)
    store = warehouse if isinstance(warehouse, Store) else _open(warehouse)
    own = store is not warehouse
    con = store.con
    try:
        f = F.load(store)
        names = dict(zip(f.clusters.get_column("cluster_id").to_list(), f.clusters.get_column("name").to_list())) if f.clusters.height else {}
        fb = FB.load(store)

        def checked(anchors: list[SEL.Anchor]) -> list[Made]:
            """Cases at ``anchors``, scrubbed, with their checks and their redaction findings."""
            out = []
            for c in context.build(con, anchors, cluster_names=names, feedback=fb, context_calls=context_calls):
                cid = c.cluster_id  # before redaction, which sees every string
                found: Counter[str] = Counter()
                if scrubber is not None:
                    c, found = _scrub(scrubber, c)
                c = assertions.apply(c)
                if sug is not None:
                    c = _expect_suggestion(c, sug)
                out.append(Made(c, found, cid))
            return out

        try:
            if top is not None:
                made = _top(f, top, include_interrupts, per_cluster, checked, passed_over)
            else:
                if clusters:
                    anchors = SEL.from_clusters(f, SEL.resolve_cluster_ids(f, list(clusters)), per_cluster)
                elif sug is not None:
                    keys = sug.evidence.select("tool_call_key", "session_key").unique(subset=["session_key"], keep="first", maintain_order=True)
                    anchors, missed = SEL.from_frame(con, f, keys, f"suggestion {suggestion}", per_cluster)
                    anchors = anchors[:per_cluster]
                    if skipped is not None:
                        skipped.extend(missed)
                else:
                    anchors, missed = SEL.from_frame(con, f, _selected_rows(con, f, query, params, sql), f"query {query}" if query else "sql", per_cluster)
                    if skipped is not None:
                        skipped.extend(missed)
                made = checked(anchors)
        except SelectionError as exc:
            raise ExportError(str(exc)) from None
    finally:
        if own:
            store.close()
    out = []
    for c, found, _ in made:
        if c.checks:
            out.append(c)
            if scrubber is not None:
                scrubber.findings.update(found)
        elif skipped is not None:
            skipped.append(_why_no_check(c))
    return out


def _selected_rows(con, f, query: str | None, params: Mapping[str, Any] | None, sql: str | None) -> pl.DataFrame:
    """The rows of a ``--query`` or ``--sql`` selection."""
    if query:
        try:
            return run(query, con, **dict(params or {}))
        except QueryError as exc:
            raise ExportError(str(exc)) from None
    assert sql is not None  # exactly one selection mode was checked by the caller
    if "failure_" in sql:
        _register_failures(con, f)
    try:
        return pl.DataFrame(con.sql(sql).to_arrow_table())
    except Exception as exc:  # duckdb raises many error classes; all are the user's SQL
        raise ExportError(f"--sql failed: {exc}") from None


def _scrub(scrubber: Scrubber, c: Case) -> tuple[Case, Counter[str]]:
    """``c`` redacted, and what the redaction found in it (not yet counted in ``scrubber``:
    the caller counts the cases it writes)."""
    before = Counter(scrubber.findings)
    out = scrubber.case(c)
    found = scrubber.findings - before
    scrubber.findings = before
    return out, found


def _top(f, top: int, include_interrupts: bool, per_cluster: int, checked, passed_over: list[str] | None) -> list[Made]:
    """The cases of the first ``top`` ranked clusters that yield a case with an assertion; the
    clusters passed over on the way are appended to ``passed_over``. Clusters are built in
    batches of as many as are still missing, so a selection with nothing to pass over builds
    exactly the ``top`` clusters, in one batch."""
    ranked = SEL.ranked_cluster_ids(f, include_interrupts=include_interrupts)
    info = {r["cluster_id"]: r for r in f.clusters.select("cluster_id", "family", "n_events").to_dicts()} if f.clusters.height else {}
    made: list[Made] = []
    kept = pos = 0
    while kept < top and pos < len(ranked):
        batch = ranked[pos : pos + top - kept]
        pos += len(batch)
        by_cluster: dict[str | None, list[Made]] = {cid: [] for cid in batch}
        for m in checked(SEL.from_clusters(f, batch, per_cluster)):
            by_cluster.setdefault(m.cluster_id, []).append(m)
        for cid in batch:
            cases = by_cluster[cid]
            if any(m.case.checks for m in cases):
                kept += 1
                made += cases
            elif passed_over is not None:
                r = info.get(cid, {})
                passed_over.append(f"{cid} ({r.get('family')}, {r.get('n_events')} events): {_why_passed_over([m.case for m in cases])}")
    return made


def _why_passed_over(cases: list[Case]) -> str:
    """Why a cluster with these cases, none with an assertion, is passed over (each distinct
    reason once, with how many of the cases it holds for when not all)."""
    if not cases:
        return "no member to build a case at"
    counts = Counter((i, part) for c in cases for i, part in enumerate(_no_check_reasons(c)))
    parts = [p if n == len(cases) else f"{p} ({n} of them)" for (_, p), n in sorted(counts.items(), key=lambda kv: kv[0][0])]
    return f"none of its {len(cases)} case(s) yields an assertion ({'; '.join(parts)})"


def _no_check_reasons(c: Case) -> list[str]:
    fc = c.failing_call
    call = "the failing call has no input to compare" if fc is None or fc.input in (None, "", {}) else "the failing call's input gives no signature"
    text = f"its template “{c.template}” has no literal text to match" if c.template else "it has no error template"
    return [call, text, "no reviewer label"]


def _why_no_check(c: Case) -> str:
    """Why no assertion could be derived for case ``c`` (it is not written)."""
    return f"case {c.case_id} ({c.cluster_id or c.origin}): no assertion could be derived ({'; '.join(_no_check_reasons(c))})"


def _expect_suggestion(case: Case, sug: SUG.Suggestion) -> Case:
    """The behaviour the suggestion asks for becomes the case's expectation (a reviewer's
    feedback note on the case still wins)."""
    if case.expected_source == "regression":
        case.expected = f"{sug.rule} {case.expected}"
        case.expected_source = f"suggestion {sug.id} ({sug.kind}/{sug.decision})"
        case.checks.append(Check("rubric", "expected_behaviour", sug.rule, f"the behaviour suggestion {sug.id} asks for"))
    return case


def export(
    warehouse: str | os.PathLike,
    out: str | os.PathLike,
    *,
    clusters: Sequence[str] | None = None,
    top: int | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    sql: str | None = None,
    formats: Sequence[str] = FORMATS,
    redact: bool = True,
    redactor=None,
    per_cluster: int = 5,
    context_calls: int = 8,
    providers: Sequence[Any] | None = None,
    include_interrupts: bool = False,
    suggestion: str | None = None,
) -> ExportResult:
    """Export a selection as eval suites into directory ``out`` (created) and return a summary.

    Files: ``promptfooconfig.yaml``, ``inspect_dataset.jsonl`` + ``inspect_task.py``,
    ``openai_evals.jsonl`` (one per requested format) and ``export.json`` (this summary).
    """
    formats = list(dict.fromkeys(formats))
    bad = [x for x in formats if x not in FORMATS]
    if bad or not formats:
        raise ExportError(f"unknown format(s) {', '.join(bad) or '(none)'}; choose from {', '.join(FORMATS)}")
    scrubber = None
    if redact:
        scrubber = Scrubber(redactor)
    skipped: list[str] = []
    passed_over: list[str] = []
    with _open(warehouse) as store:  # one snapshot for the cases and the manifest
        version = store.snapshot.version
        cases = build_cases(
            store,
            clusters=clusters,
            top=top,
            query=query,
            params=params,
            sql=sql,
            per_cluster=per_cluster,
            context_calls=context_calls,
            redact=redact,
            scrubber=scrubber,
            skipped=skipped,
            include_interrupts=include_interrupts,
            suggestion=suggestion,
            passed_over=passed_over,
        )
    if not cases:
        reasons = passed_over + skipped
        why = ("; ".join(reasons[:5]) + (" …" if len(reasons) > 5 else "")) if reasons else "the selection is empty"
        raise ExportError(f"nothing to export: {why}")
    selection = _selection_label(clusters, top, query, params, sql, suggestion)
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = ExportResult(
        out_dir=str(out_dir.resolve()),
        selection=selection,
        cases=len(cases),
        redacted=redact,
        formats=formats,
        by_cluster=dict(Counter(c.cluster_id or "(none)" for c in cases)),
        expected_from_feedback=sum(1 for c in cases if c.expected_source != "regression"),
        redaction_findings=dict(sorted(scrubber.findings.items())) if scrubber else {},
        redaction_policy=scrubber.policy if scrubber else None,
        skipped=skipped,
        passed_over=passed_over,
    )
    when = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    description = f"tracelab eval export: {len(cases)} cases, {selection} (exported {when}{', redacted' if redact else ', NOT redacted'})"
    if "promptfoo" in formats:
        result.files["promptfoo"] = [str(promptfoo.write(cases, out_dir, description=description, providers=providers))]
    if "inspect" in formats:
        result.files["inspect"] = [str(p) for p in inspect_dataset.write(cases, out_dir)]
    if "openai" in formats:
        result.files["openai"] = [str(openai_evals.write(cases, out_dir))]
    manifest = out_dir / MANIFEST
    manifest.write_text(
        json.dumps({**result.to_dict(), "exported_at": when, "warehouse_snapshot": version}, indent=1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    result.files["manifest"] = [str(manifest)]
    return result


def _open(warehouse: str | os.PathLike | Store) -> Store:
    """The warehouse opened once for the whole export (missing: WarehouseMissing, corrupt:
    WarehouseCorrupt, as for every command)."""
    return warehouse if isinstance(warehouse, Store) else Store(warehouse)
