"""The architecture rules of docs/architecture.md, checked over the source (no warehouse needed).

* Only ``tracelab/store/`` opens DuckDB: no other module calls ``duckdb.connect`` (nor the
  module-level default connection ``duckdb.execute`` / ``duckdb.sql`` / ``duckdb.query``, nor
  ``ibis.duckdb.connect``). Found by walking each module's AST.
* Every ``.sql`` file carries the standard header, is found by the one loader
  (:mod:`tracelab.store.sql`) and declares exactly the ``$params`` its SQL uses.
* No import cycle among ``tracelab`` modules. The graph has an edge A -> B for every
  ``import``/``from … import`` of B in A, **wherever it sits** (module top or inside a function):
  an import moved into a function still closes a cycle when the function runs, it only hides
  it. Imports under ``if TYPE_CHECKING:`` are not edges (they never run). ``from pkg import
  name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg``; an edge from a
  module to its own parent package is left out (every submodule's import runs its package's
  ``__init__``, which is not a cycle).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tracelab.store import sql as SQL

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "tracelab"

#: Calls on the ``duckdb`` module that open a database (``connect``) or use its default one.
OPENERS = {"connect", "execute", "sql", "query", "default_connection", "read_parquet", "read_csv", "read_json", "from_arrow"}

#: Modules outside the store allowed to open DuckDB (none: ingest/commit.py uses
#: ``tracelab.store.scratch_connection()``).
KNOWN_OPENERS: set[str] = set()

#: Import edges allowed to close a cycle, each with its reason (none: the codex/parse <->
#: codex/replay cycle was broken by the ingest split). The test fails if a listed edge is gone.
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        parts = list(p.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _is_type_checking(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _nodes(tree: ast.AST):
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:``."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        todo.extend(child for child in ast.iter_child_nodes(node) if not _is_type_checking(child))


def _imports(tree: ast.AST, modname: str, is_pkg: bool) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) of every import in ``tree``."""
    out: list[tuple[str, str | None, int]] = []
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = modname.split(".") if is_pkg else modname.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            out += [(base, a.name, node.lineno) for a in node.names]
    return out


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported tracelab module: line of the first such import}."""
    mods = _modules()
    graph: dict[str, dict[str, int]] = {m: {} for m in mods}
    for m, path in mods.items():
        for base, name, line in _imports(ast.parse(path.read_text(encoding="utf-8")), m, path.name == "__init__.py"):
            if not base.startswith("tracelab"):
                continue
            target = f"{base}.{name}" if name and f"{base}.{name}" in mods else base
            while target not in mods and "." in target:
                target = target.rsplit(".", 1)[0]
            if target == m or m.startswith(target + "."):
                continue
            graph[m].setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in graph:
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return out


def duckdb_openers(path: Path) -> list[tuple[int, str]]:
    """(line, call) of every call in ``path`` that opens DuckDB outside the store."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {"duckdb", "_duckdb"}  # names the duckdb module (or its compiled engine) is bound to
    direct: set[str] = set()  # names bound to an opener by `from duckdb import connect`
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name in ("duckdb", "_duckdb")}
        elif isinstance(node, ast.ImportFrom) and node.module in ("duckdb", "_duckdb"):
            direct |= {a.asname or a.name for a in node.names if a.name in OPENERS}
    out = []
    for node in _nodes(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in OPENERS:
            v = f.value
            if (isinstance(v, ast.Name) and v.id in aliases) or (isinstance(v, ast.Attribute) and v.attr == "duckdb" and f.attr == "connect"):
                out.append((node.lineno, ast.unparse(f)))
        elif isinstance(f, ast.Name) and f.id in direct:
            out.append((node.lineno, f.id))
    return out


# ------------------------------------------------------------------------------ DuckDB


def test_only_the_store_opens_duckdb():
    found = {}
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("tracelab/store/") or rel in KNOWN_OPENERS:
            continue
        if hits := duckdb_openers(path):
            found[rel] = hits
    assert not found, f"DuckDB opened outside tracelab/store/ (use tracelab.store.Store or scratch_connection()): {found}"


def test_the_store_does_open_duckdb_and_the_scan_sees_it(tmp_path):
    """The scan is not vacuous: it finds the store's own connect, every spelling it checks for,
    and leaves a connection's own methods (``con.execute``) alone."""
    assert any("duckdb.connect" in call for _, call in duckdb_openers(PKG / "store" / "engine.py"))
    src = tmp_path / "probe.py"
    code = (
        "import duckdb\nimport duckdb as d\nfrom duckdb import connect as c\nimport ibis\nimport _duckdb\n"
        "def f(con):\n    duckdb.connect()\n    d.execute('x')\n    c()\n    ibis.duckdb.connect()\n    con.execute('SELECT 1')\n    _duckdb.connect()\n"
    )
    src.write_text(code)
    assert sorted(line for line, _ in duckdb_openers(src)) == [7, 8, 9, 10, 12]


# ------------------------------------------------------------------------------ SQL


def _sql_files_on_disk() -> list[Path]:
    return sorted([*(REPO / "queries").glob("*.sql"), *PKG.rglob("*.sql")])


def test_the_loader_finds_every_sql_file():
    """No SQL outside the loader's areas, and no two files of one name."""
    on_disk = {p.stem for p in _sql_files_on_disk()}
    assert len(on_disk) == len(_sql_files_on_disk())
    assert set(SQL.sql_files()) == on_disk
    assert len(on_disk) > 50


@pytest.mark.parametrize("path", _sql_files_on_disk(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_sql_file_has_the_header(path):
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == f"-- name: {path.stem}", f"{path}: the first line must be '-- name: {path.stem}'"
    assert lines[1].startswith("-- description: ") and len(lines[1]) > len("-- description: ") + 10, f"{path}: the second line must be '-- description: …'"
    q = SQL.parse(text, path.name)  # the whole header parses (params, returns, continuations)
    assert q.name == path.stem and q.description
    assert SQL.referenced_params(q.sql) == set(q.param_names), f"{path}: declared params differ from the $params the SQL uses"


def test_a_file_without_header_is_refused():
    with pytest.raises(SQL.QueryError, match="unrecognised header line"):
        SQL.parse("-- just a comment\nSELECT 1", "x.sql")
    with pytest.raises(SQL.QueryError, match="no '-- name:' line"):
        SQL.parse("SELECT 1", "x.sql")


# ------------------------------------------------------------------------------ imports


def test_no_import_cycles():
    graph = import_graph()
    for a, b in KNOWN_CYCLE_EDGES:
        assert b in graph[a], f"the known edge {a} -> {b} is gone: remove it from KNOWN_CYCLE_EDGES"
        del graph[a][b]
    found = cycles(graph)
    detail = [" -> ".join(c) + " :: " + "; ".join(f"{x} imports {y} (line {graph[x][y]})" for x in c for y in graph[x] if y in c) for c in found]
    assert not found, "import cycles:\n" + "\n".join(detail)


def test_the_cycle_check_finds_a_cycle():
    g = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert cycles(g) == [["a", "b", "c"]]
    assert cycles({"a": {"b": 1}, "b": {}}) == []
