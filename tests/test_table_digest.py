"""Every table a clean ingest of the real samples produces is pinned, row for row.

Refactors must leave these digests alone; a deliberate change of output regenerates them with
``python -m tests.table_digest --write`` and says why in its commit.
"""

from __future__ import annotations

import json

from conftest import require_samples

from tests import table_digest as D


def test_sample_tables_match_the_pinned_digest():
    for name in D.AGENT_DIRS:
        require_samples(name)
    want = json.loads(D.GOLDEN.read_text())
    got = D.build(require_samples("claude-code").parent)
    diff = {t: (want.get(t), got.get(t)) for t in sorted(set(want) | set(got)) if want.get(t) != got.get(t)}
    assert not diff, f"tables differ from tests/golden/table_digest.json (want, got): {diff}"
