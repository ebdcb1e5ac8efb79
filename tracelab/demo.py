"""The demo job: ingest the user's own sessions if any, else a generated corpus; summarise;
write the weekly report."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from tracelab.ingest import registry
from tracelab.pipeline import ingest
from tracelab.reports.weekly import write_weekly_report
from tracelab.reports.weeks import IsoWeek
from tracelab.store import sql_text
from tracelab.store.connection import Store
from tracelab.synth import generate


def _own_sessions_exist() -> bool:
    for ad in registry.adapters().values():
        for root in ad.default_roots():
            if root.is_dir() and any(True for _ in ad.discover(root)):
                return True
    return False


def run_demo(out_dir: Path, *, synthetic: bool = False, sessions: int = 80, seed: int = 7, echo: Callable[[str], Any] = print) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    wh = out_dir / "warehouse"
    week = None  # the report's default: the latest week that has events
    if not synthetic and _own_sessions_exist():
        source = "your own agent sessions (default locations)"
        echo("ingesting your own sessions from the default locations …")
        summary = ingest([], wh)
    else:
        corpus = out_dir / "corpus"
        if not (corpus / "truth.json").exists():
            echo(f"no agent logs on this machine: generating a synthetic corpus in {corpus} …")
            generate(corpus, sessions=sessions, seed=seed)
        source = f"generated corpus {corpus} (seed {seed})"
        summary = ingest([str(corpus / "claude"), str(corpus / "codex"), str(corpus / "pi")], wh)
        # the generated corpus ends with the week of its planted regression: report on that week
        planted = json.loads((corpus / "truth.json").read_text()).get("planted_regression") or {}
        if planted.get("week_start"):
            week = str(IsoWeek.of(date.fromisoformat(planted["week_start"])))
    echo(
        f"ingested {summary.files_parsed} files ({summary.files_unchanged} unchanged), "
        f"{summary.lines_total} lines: {summary.lines_ingested} ingested, {summary.lines_duplicate} duplicate, {summary.lines_rejected} rejected"
    )
    with Store(wh) as store:
        con = store.con
        tables = {}
        for title, name in (
            ("sessions by agent", "demo_sessions"),
            ("tool-error rate by tool (top 12 by calls)", "demo_tool_errors"),
            ("tokens by model", "demo_tokens"),
        ):
            cur = con.execute(sql_text(name))
            tables[title] = ([d[0] for d in cur.description], cur.fetchall())
    paths = write_weekly_report(wh, out_dir / "report", week)
    report = str(paths.get("html") or next(iter(paths.values())))
    return {"source": source, "warehouse": str(wh), "tables": tables, "report": report, "summary": summary.to_dict()}
