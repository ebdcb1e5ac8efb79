"""The demo job end to end (what `make demo` runs on a machine without agent logs): a generated
corpus, the warehouse, the summary tables, and a weekly report that flags the regression the
generator planted (agent, model and tool from its truth file)."""

from __future__ import annotations

import json

from tracelab.demo import run_demo


def test_demo_builds_everything_and_its_report_flags_the_planted_regression(tmp_path):
    lines: list[str] = []
    res = run_demo(tmp_path / "demo", synthetic=True, echo=lines.append)
    truth = json.loads((tmp_path / "demo" / "corpus" / "truth.json").read_text())
    planted = truth["planted_regression"]
    assert res["summary"]["files_failed"] == 0 and res["summary"]["lines_rejected"] > 0  # planted bad lines
    assert set(res["tables"]) == {"sessions by agent", "tool-error rate by tool (top 12 by calls)", "tokens by model"}
    agents = {row[0] for row in res["tables"]["sessions by agent"][1]}
    assert agents == {"claude", "codex", "pi"}
    report = res["report"]
    assert report.endswith(".html")
    md = (tmp_path / "demo" / "report" / report.rsplit("/", 1)[-1].replace(".html", ".md")).read_text()
    flagged = [ln for ln in md.splitlines() if ln.startswith("- **REGRESSION**")]
    assert len(flagged) == 1, md[:2000]
    assert planted["agent"] in flagged[0] and planted["model"] in flagged[0] and planted["tool"] in flagged[0]
