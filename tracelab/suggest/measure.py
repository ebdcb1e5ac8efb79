"""Score suggestions against the planted truth of ``tracelab synth --plant``.

Used by the acceptance test and ``benchmarks/suggest_bench.py``. Only the planted project is
scored: it is the only place where the complete set of right answers is known (the ordinary
synthetic projects have random approvals and failures with no planted rule behind them).

* permission rules: a suggestion is right when its (decision, Claude Code rule) equals a
  planted one; an allow rule is *broader* when its prefix is a strict token prefix of a
  planted allow prefix.
* instruction rules: right when (pair kind, failing, recovery) equals a planted rule, with
  ``missing_tool`` planted as ``replace_command`` and ``read_before_edit`` keyed by the tool.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl


def _pr(pred: set[Any], truth: set[Any]) -> dict[str, Any]:
    hit = pred & truth
    return {
        "predicted": len(pred),
        "planted": len(truth),
        "correct": len(hit),
        "precision": len(hit) / len(pred) if pred else 0.0,
        "recall": len(hit) / len(truth) if truth else 0.0,
        "false_positives": sorted(map(str, pred - truth)),
        "missed": sorted(map(str, truth - pred)),
    }


def score(frame: pl.DataFrame, planted: dict[str, Any]) -> dict[str, Any]:
    mine = frame.filter((pl.col("project") == planted["project"]) & (pl.col("agent") == planted["agent"]))
    perm = mine.filter(pl.col("kind") == "permission")
    pred_perm = {(r["decision"], r["rule"]) for r in perm.iter_rows(named=True)}
    truth_perm = {(r["decision"], r["claude_rule"]) for r in planted["permission_rules"]}
    broader = []
    for r in perm.filter(pl.col("decision") == "allow").iter_rows(named=True):
        p = json.loads(r["details"])["prefix"]
        for t in planted["permission_rules"]:
            tp = t["prefix"].split()
            if t["decision"] == "allow" and len(p) < len(tp) and tp[: len(p)] == p:
                broader.append((r["rule"], t["claude_rule"]))
    instr = mine.filter(pl.col("kind") == "instruction")
    pred_instr = set()
    for r in instr.iter_rows(named=True):
        d = json.loads(r["details"])
        pred_instr.add((d["pair_kind"], d["failing"], d["recovery"]))
    truth_instr = set()
    for t in planted["instruction_rules"]:
        if t["kind"] == "missing_tool":
            truth_instr.add(("replace_command", t["failing"], t["recovery"]))
        else:
            truth_instr.add((t["kind"], t["tool"], t["recovery"]))
    oot = {}
    for t in planted["instruction_rules"]:
        key = ("replace_command", t["failing"], t["recovery"]) if t["kind"] == "missing_tool" else (t["kind"], t["tool"], t["recovery"])
        for r in instr.iter_rows(named=True):
            d = json.loads(r["details"])
            if (d["pair_kind"], d["failing"], d["recovery"]) == key:
                oot[t["id"]] = r["oot"]
    return {"permission": _pr(pred_perm, truth_perm), "instruction": _pr(pred_instr, truth_instr), "broader_allow": broader, "oot": oot}
