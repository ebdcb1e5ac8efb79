"""``export()``: selection → anchors → cases → redaction → checks → files in three formats."""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
            "redacted": self.redacted,
            "redaction_findings": self.redaction_findings,
            "redaction_policy": self.redaction_policy,
        }


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
) -> list[Case]:
    """The cases of a selection (exactly one of ``clusters``, ``top``, ``query``, ``sql``,
    ``suggestion``), redacted unless ``redact=False``, with their checks and expected behaviour.
    ``top`` prefers clusters that can become a check and leaves out interrupts unless
    ``include_interrupts``. Rows of a query / SQL selection that locate nothing, and cases no
    assertion could be derived for (they are not returned), are appended to ``skipped`` with the
    reason."""
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
    store = warehouse if isinstance(warehouse, Store) else _open(warehouse)
    own = store is not warehouse
    con = store.con
    try:
        f = F.load(store)
        try:
            if top is not None:
                anchors = SEL.from_clusters(f, SEL.top_cluster_ids(f, top, include_interrupts=include_interrupts), per_cluster)
            elif clusters:
                anchors = SEL.from_clusters(f, SEL.resolve_cluster_ids(f, list(clusters)), per_cluster)
            elif sug is not None:
                keys = sug.evidence.select("tool_call_key", "session_key").unique(subset=["session_key"], keep="first", maintain_order=True)
                anchors, missed = SEL.from_frame(con, f, keys, f"suggestion {suggestion}", per_cluster)
                anchors = anchors[:per_cluster]
                if skipped is not None:
                    skipped.extend(missed)
            else:
                if query:
                    try:
                        df = run(query, con, **dict(params or {}))
                    except QueryError as exc:
                        raise ExportError(str(exc)) from None
                    origin = f"query {query}"
                else:
                    assert sql is not None  # exactly one selection mode was checked above
                    if "failure_" in sql:
                        _register_failures(con, f)
                    try:
                        df = pl.DataFrame(con.sql(sql).to_arrow_table())
                    except Exception as exc:  # duckdb raises many error classes; all are the user's SQL
                        raise ExportError(f"--sql failed: {exc}") from None
                    origin = "sql"
                anchors, missed = SEL.from_frame(con, f, df, origin, per_cluster)
                if skipped is not None:
                    skipped.extend(missed)
        except SelectionError as exc:
            raise ExportError(str(exc)) from None
        names = dict(zip(f.clusters.get_column("cluster_id").to_list(), f.clusters.get_column("name").to_list())) if f.clusters.height else {}
        fb = FB.load(store)
        cases = context.build(con, anchors, cluster_names=names, feedback=fb, context_calls=context_calls)
    finally:
        if own:
            store.close()
    if redact:
        if scrubber is None:
            scrubber = Scrubber(redactor)
        cases = [scrubber.case(c) for c in cases]
    cases = [assertions.apply(c) for c in cases]
    if sug is not None:
        cases = [_expect_suggestion(c, sug) for c in cases]
    out = []
    for c in cases:
        if c.checks:
            out.append(c)
        elif skipped is not None:
            skipped.append(_why_no_check(c))
    return out


def _why_no_check(c: Case) -> str:
    """Why no assertion could be derived for case ``c`` (it is not written)."""
    what = f"case {c.case_id} ({c.cluster_id or c.origin})"
    fc = c.failing_call
    call = "the failing call has no input to compare" if fc is None or fc.input in (None, "", {}) else "the failing call's input gives no signature"
    text = f"its template “{c.template}” has no literal text to match" if c.template else "it has no error template"
    return f"{what}: no assertion could be derived ({call}; {text}; no reviewer label)"


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
        )
    if not cases:
        why = ("; ".join(skipped[:5]) + (" …" if len(skipped) > 5 else "")) if skipped else "the selection is empty"
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
