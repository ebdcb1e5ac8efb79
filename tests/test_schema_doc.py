"""data/README.md documents every table and column with the declared type."""

from __future__ import annotations

import re
from pathlib import Path

from tracelab import schema as S

DOC = Path(__file__).resolve().parents[1] / "data" / "README.md"


def _doc_tables() -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in DOC.read_text().splitlines():
        m = re.match(r"^### `([a-z_]+)`", line)
        if m:
            current = tables.setdefault(m.group(1), {})
            continue
        if current is None or not line.startswith("| "):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or cells[0] in ("column", "---"):
            continue
        current[cells[0]] = cells[1]
    return tables


def _all_schemas() -> dict:
    """Core tables plus the tables other packages declare (failure clustering, feedback)."""
    from tracelab.catalog import known_schemas

    return known_schemas()


def test_every_table_and_column_documented_with_its_type():
    doc = _doc_tables()
    schemas = _all_schemas()
    assert set(doc) == set(schemas), "tables in data/README.md differ from the declared schemas"
    for name, schema in schemas.items():
        declared = {f.name: str(f.type) for f in schema}
        assert doc[name] == declared, f"{name}: doc and schema disagree"


def test_kinds_documented():
    text = DOC.read_text()
    for kind in S.EVENT_KINDS:
        assert f"`{kind}`" in text, kind


def test_schema_version_documented():
    assert f"`SCHEMA_VERSION` = {S.SCHEMA_VERSION}" in DOC.read_text()


def test_analysis_tables_are_declared_once_and_cheap_to_read():
    """Failure and feedback schemas live in tracelab.schema (the packages re-export the same
    objects), so a catalog connection reads every schema without importing polars."""
    import subprocess
    import sys

    from tracelab.failures import tables as T
    from tracelab.feedback import table as F

    assert T.SCHEMAS == {"failure_members": S.FAILURE_MEMBERS, "failure_clusters": S.FAILURE_CLUSTERS}
    assert T.MEMBERS is S.FAILURE_MEMBERS and F.FEEDBACK is S.FEEDBACK and set(S.ANALYSIS_TABLES) == {*T.SCHEMAS, F.TABLE}
    code = "import sys; from tracelab.catalog import known_schemas; known_schemas(); print('polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
