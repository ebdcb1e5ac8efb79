"""Failure clustering on the real sample sessions against hand labels.

``tests/fixtures/failure_labels.csv`` labels every failure event the samples contain (tool
calls that failed or were rejected or interrupted, API errors, interrupts, hook errors,
limit notices) by reading it: one label per fixable cause. The rows reference the event
(file, line, tool call id), never its text. ``benchmarks/results/failures.md`` reports the
numbers; the floors here are a little below them so a regression fails the suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from tracelab.cli import cli
from tracelab.failures import api
from tracelab.failures.metrics import adjusted_rand_index, inverse_purity, purity
from tracelab.pipeline import ingest

pytestmark = pytest.mark.xdist_group("failures_real")

SHARED = Path(os.environ.get("TRACELAB_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
SAMPLES = SHARED / "samples"
LABELS = Path(__file__).parent / "fixtures" / "failure_labels.csv"

ARI_FLOOR = 0.95
PURITY_FLOOR = 0.97
INVERSE_PURITY_FLOOR = 0.9


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not SAMPLES.is_dir():
        pytest.skip(f"shared samples not found at {SAMPLES} (set TRACELAB_SHARED)")
    wh = tmp_path_factory.mktemp("failures_real") / "wh"
    ingest([str(SAMPLES / d) for d in ("claude-code", "codex", "pi")], wh, jobs=1)
    api.build(wh)
    return api.load(wh)


@pytest.fixture(scope="module")
def labelled(real):
    labels = pl.read_csv(LABELS, comment_prefix="#", schema_overrides={"line_no": pl.Int32, "tool_call_id": pl.String}).with_columns(
        pl.col("tool_call_id").fill_null("")
    )
    root = str(SAMPLES.resolve()) + "/"
    ev = api.failure_events(real).with_columns(pl.col("source_file").str.replace(root, "", literal=True), pl.col("tool_call_id").fill_null(""))
    return labels.join(
        ev.select("source_file", "line_no", "tool_call_id", "cluster_id", "family", "template"), on=["source_file", "line_no", "tool_call_id"], how="left"
    ), ev


def test_the_label_set_is_large_and_covers_every_failure_event(labelled):
    j, ev = labelled
    assert j.height >= 150
    assert j.filter(pl.col("cluster_id").is_null()).height == 0, "a labelled failure event was not found"
    # adapters may learn to see more failures than when the labels were written
    assert j.height >= 0.95 * ev.height, "many failure events are unlabelled: extend the fixture"


def test_agreement_with_hand_labels(labelled):
    j, _ = labelled
    ref, pred = j.get_column("label").to_list(), j.get_column("cluster_id").to_list()
    assert adjusted_rand_index(ref, pred) >= ARI_FLOOR
    assert purity(ref, pred) >= PURITY_FLOOR
    assert inverse_purity(ref, pred) >= INVERSE_PURITY_FLOOR


def test_families_of_labelled_events(labelled):
    j, _ = labelled
    fam = dict(j.select("label", "family").unique().iter_rows())
    assert fam["interrupt_generation"] == fam["interrupt_tool_use"] == "interrupt"
    assert fam["rate_limited"] == fam["usage_limit_fallback"] == "rate_limit"
    assert fam["permission_requires_approval"] == fam["permission_not_granted"] == "permission_denied"
    assert fam["user_rejected_edit"] == fam["user_feedback_command"] == "user_rejection"
    assert fam["hook_blocking_error"] == "hook_block" and fam["hook_nonblocking_error"] == "hook_error"
    assert fam["api_server_error"] == fam["api_auth_error"] == "api_error"
    assert fam["edit_string_not_found"] == fam["pytest_failures"] == "tool_error"


def test_member_keys_are_unique(real):
    """One row per member: a failure after several compactions in a row is one episode (the
    Codex sample has three compactions before one failure), so the table has a stable order."""
    m = real.members
    assert m.height > 0 and m.get_column("member_key").n_unique() == m.height
    cx = m.filter(pl.col("family") == "context_exhaustion", pl.col("related_event_key").is_not_null())
    assert cx.height > 0 and cx.get_column("event_key").n_unique() == cx.height


def test_build_is_idempotent(real):
    before = real.members.select("member_key", "cluster_id").sort("member_key")
    api.build(real.warehouse.root)
    after = api.load(real.warehouse.root).members.select("member_key", "cluster_id").sort("member_key")
    assert before.equals(after)


def test_show_on_real_data_prints_the_surrounding_events(real):
    cid = real.clusters.filter(pl.col("family") == "tool_error").sort("n_events", descending=True).row(0, named=True)["cluster_id"]
    res = CliRunner().invoke(cli, ["failures", "-w", str(real.warehouse.root), "show", cid, "--json", "--before", "3", "--after", "3"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["exemplars"]
    for ex in out["exemplars"]:
        kinds = [r["kind"] for r in ex["context"]]
        anchor = [r for r in ex["context"] if r["offset"] == 0]
        assert len(anchor) == 1 and anchor[0]["line_no"] == ex["member"]["line_no"]
        assert len(kinds) >= 2
