"""The one way into a warehouse: :class:`Store` reads the snapshot once and opens DuckDB on it.

A command opens one :class:`Store` and hands it to every reader it calls (queries, failure
clusters, feedback, evals), so everything one command shows comes from one snapshot even when
an ingest commits meanwhile. The store's connection has:

* the settings every tracelab connection runs with (``TimeZone = 'UTC'``; a memory limit and
  a temp directory where given; see :func:`configure`);
* one view per table: the core tables, the failure and feedback tables (empty views when the
  snapshot has none yet) and any other table the snapshot lists, each reading exactly the
  snapshot's Parquet files (:func:`register_views`);
* the shared macros (``tracelab/sql/derive_macros.sql``, ``queries/_macros.sql``) and the
  price table ``tl_prices`` (:func:`install`);
* by default, **read-only**: DuckDB may read only the snapshot's Parquet files, writes no file
  (``COPY … TO``, ``EXPORT``, ``ATTACH`` of a file, ``INSTALL`` all refused), and the
  configuration is locked so a statement cannot lift that. ``read_only=False`` opens it as
  a plain DuckDB connection.

Only this package calls ``duckdb.connect`` (:func:`tracelab.store.engine.connect`;
``tests/test_architecture.py`` checks it). Code
that needs an engine without the warehouse views (staging, derive, failure clustering) takes
:func:`scratch_connection`.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Collection, Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tracelab import schema as S
from tracelab.errors import ParameterError, WarehouseMissing
from tracelab.store import engine
from tracelab.store.ddl import create_table, empty_select
from tracelab.store.needs import MACRO_SCRIPTS, plan, script_objects
from tracelab.store.snapshot import LAYOUT_TABLES, ReaderLease, Snapshot, WarehouseFiles, default_warehouse, sql_list
from tracelab.store.sql import sql_text

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    import pyarrow as pa

    from tracelab.store.warehouse import Warehouse

__all__ = [
    "MEMORY_LIMIT",
    "Store",
    "configure",
    "connect",
    "default_warehouse",
    "install",
    "known_schemas",
    "no_progress_bar",
    "refuse_writes",
    "register_views",
    "scratch_connection",
]

#: DuckDB memory limit of the engines that build tables (derive, failure clustering, ingest
#: staging); env TRACELAB_DUCKDB_MEMORY overrides. A reading :class:`Store` keeps DuckDB's
#: default unless it is given one.
MEMORY_LIMIT = os.environ.get("TRACELAB_DUCKDB_MEMORY", "768MB")


def known_schemas() -> dict[str, pa.Schema]:
    """Every table tracelab declares: the core tables plus failure clustering and feedback, so
    their views exist (empty) before anything wrote them; as Arrow schemas (the declarations
    without pyarrow are :data:`tracelab.schema.SCHEMAS`)."""
    return {**S.TABLES, **S.ANALYSIS_TABLES}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def no_progress_bar(con: duckdb.DuckDBPyConnection) -> None:
    """No DuckDB progress bar on stderr (the CLI draws its own). Inside Jupyter DuckDB refuses
    to change the setting unless ipywidgets is installed; leave it alone there."""
    try:
        con.execute("SET enable_progress_bar = false")
    except engine.error():
        pass


def configure(
    con: duckdb.DuckDBPyConnection,
    *,
    memory_limit: str | None = None,
    temp_directory: str | os.PathLike | None = None,
    progress_bar: bool = True,
) -> None:
    """The settings of every tracelab connection: UTC, and the given memory limit / temp
    directory / no progress bar. Values are settings, not user data (quoted all the same)."""
    con.execute("SET TimeZone = 'UTC'")
    if not progress_bar:
        no_progress_bar(con)
    if memory_limit:
        con.execute(f"SET memory_limit = {_quote(str(memory_limit))}")
    if temp_directory is not None:
        con.execute(f"SET temp_directory = {_quote(str(temp_directory))}")


def scratch_connection(*, memory_limit: str | None = MEMORY_LIMIT, temp_directory: str | os.PathLike | None = None) -> duckdb.DuckDBPyConnection:
    """A plain in-memory DuckDB with tracelab's settings and no views: the engine of code that
    builds tables (ingest staging, derive, failure clustering). Close it when done."""
    con = engine.connect()
    configure(con, memory_limit=memory_limit, temp_directory=temp_directory, progress_bar=False)
    return con


def register_views(
    con: duckdb.DuckDBPyConnection,
    wh: WarehouseFiles,
    snap: Snapshot,
    tables: tuple[str, ...] | list[str] | None = None,
    *,
    only: pa.Table | None = None,
    temp: bool = False,
    union_by_name: bool = True,
) -> None:
    """One view per table over ``snap``'s Parquet files (``CREATE OR REPLACE``).

    ``tables``: which (default: every declared table plus any other the snapshot lists, but the
    search index's :data:`~tracelab.store.snapshot.LAYOUT_TABLES`; a declared table without
    files gets an empty view of its schema). ``only``: a table with a
    ``session_key`` column; the views then hold just those sessions' rows and read only the
    parts that hold any of them (one narrow column scanned). ``temp``: temporary views.
    ``union_by_name``: match columns by name across parts (parts written by different tracelab
    versions); the derive step, which reads parts of one schema, skips it (no footer reads).
    """
    schemas = S.SCHEMAS
    names = list(tables) if tables is not None else list(schemas) + [t for t in snap.tables if t not in schemas and t not in LAYOUT_TABLES]
    where = ""
    if only is not None:
        con.register("_only_sessions", only)
        where = " WHERE session_key IN (SELECT session_key FROM _only_sessions)"
    kind = "TEMP VIEW" if temp else "VIEW"
    by_name = ", union_by_name = true" if union_by_name else ""
    for name in names:
        files = [str(p) for p in wh.files_of(name, snap)]
        if files and only is not None:
            files = sorted(
                r[0] for r in con.execute(f"SELECT DISTINCT filename FROM read_parquet($files, filename = true){where}", {"files": files}).fetchall()
            )
        if files:
            con.execute(f'CREATE OR REPLACE {kind} "{name}" AS SELECT * FROM read_parquet({sql_list(files)}, hive_partitioning = false{by_name}){where}')
        elif name in schemas:  # typed SQL, not con.register: registering Arrow data makes DuckDB import pandas
            con.execute(f'CREATE OR REPLACE {kind} "{name}" AS {empty_select(schemas[name])}')


def install(con: duckdb.DuckDBPyConnection, objects: Collection[str] | None = None, *, prices: bool = True) -> None:
    """The shared macros and the price table, on a connection with the table views.

    Idempotent (``CREATE OR REPLACE``). The macros the derive step shares
    (``tracelab/sql/derive_macros.sql``) go in first, then ``queries/_macros.sql``. ``objects``:
    only these of the scripts' macros and temporary tables (see :mod:`tracelab.store.needs`);
    ``prices``: whether to create the price table.
    """
    # Every view reference binds read_parquet over the snapshot's files (union_by_name reads
    # each footer); a named query references the tables many times through the macros, so
    # without the cache binding alone costs ~0.2 s a query at 10M events. Warehouse parts are
    # immutable (new parts get new names), so cached footers never go stale.
    con.execute("SET parquet_metadata_cache = true")
    if prices:
        from tracelab.pricing import PRICE_COLUMNS, price_rows  # parses the price table (tomllib): only when used

        create_table(con, "tl_prices", PRICE_COLUMNS, price_rows())  # from rows: Arrow data makes DuckDB (and pyarrow) import pandas
    if objects is None:
        for script in MACRO_SCRIPTS:
            con.execute(sql_text(script))
        return
    wanted = set(objects)
    for name, statement in script_objects():
        if name in wanted:
            con.execute(statement)


def lock_down(con: duckdb.DuckDBPyConnection, files: list[str]) -> None:
    """Make ``con`` read-only: it may read ``files`` and nothing else, write no file, load no
    extension, and no statement can change that (the configuration is locked)."""
    con.execute(f"SET allowed_paths = [{', '.join(_quote(f) for f in files)}]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


#: Statement types a read-only store refuses before DuckDB sees them: COPY (``COPY … TO`` could
#: overwrite a Parquet part the connection may read), EXPORT, ATTACH, INSTALL/LOAD.
WRITING_STATEMENTS = ("COPY", "EXPORT", "ATTACH", "LOAD")


def refuse_writes(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise :class:`~tracelab.errors.ParameterError` when ``sql`` holds a statement that writes
    files or attaches databases (:data:`WRITING_STATEMENTS`); a SQL syntax error is left for
    the statement's execution to report."""
    try:
        statements = con.extract_statements(sql)
    except engine.error():
        return
    for st in statements:
        kind = st.type.name
        if kind in WRITING_STATEMENTS:
            raise ParameterError(
                f"{kind} is not allowed: the warehouse is opened read-only (write results with -o FILE, or lift it with --write)", statement=kind
            )


class Store:
    """One warehouse opened for one command: its snapshot (read once) and a DuckDB connection
    with every table view over that snapshot.

    ``Store(path)`` raises :class:`~tracelab.errors.WarehouseMissing` when there is no
    warehouse and :class:`~tracelab.errors.WarehouseCorrupt` when its snapshot cannot be read.
    Pass the store (or ``store.con``) to every reader of the command; close it at the end (or
    use it as a context manager). While the store is open its parts stay on disk, whatever
    ingests commit meanwhile: it holds a reader's lease
    (:class:`~tracelab.store.snapshot.ReaderLease`, released by :meth:`close` or when the
    connection is garbage-collected), so a store kept open in a notebook goes on reading its
    snapshot. Where the warehouse cannot be written (no lease) superseded parts stay for
    :data:`~tracelab.store.snapshot.GRACE_SECONDS`.

    ``needs``: the SQL (one text or several) the caller will run, when it knows all of it; the
    store then creates only the views, macros and price table that SQL can reach
    (:func:`tracelab.store.needs.plan`; start-up of a short command) and ``complete`` tells
    whether that was everything. A ``duckdb.CatalogException`` on a store that is not complete
    may come from the plan: re-run on a store opened without ``needs``.

    ``bare_engine``: connect through DuckDB's compiled engine alone where the ``duckdb`` package
    is not imported yet (:func:`tracelab.store.engine.module`, ~0.1 s of start-up less), for a
    caller that only executes SQL and fetches Python rows and hands the connection to no one.
    """

    def __init__(
        self,
        warehouse: str | os.PathLike | WarehouseFiles | None = None,
        *,
        read_only: bool = True,
        memory_limit: str | None = None,
        temp_directory: str | os.PathLike | None = None,
        database: str = ":memory:",
        needs: str | Iterable[str] | None = None,
        bare_engine: bool = False,
    ) -> None:
        # the Parquet-reading Warehouse (pyarrow) is made when asked for: see ``warehouse``
        self._files = warehouse if isinstance(warehouse, WarehouseFiles) else WarehouseFiles(warehouse if warehouse is not None else default_warehouse())
        if not self._files.exists:
            self._files.snapshot()  # a lost snapshot beside table parts is corrupt, not missing
            root = self._files.root
            raise WarehouseMissing(f"no tracelab warehouse at {root} (run `tracelab ingest --warehouse {root}` first)", path=str(root))
        if read_only and database != ":memory:":
            raise ParameterError("a database file is written to; open it with read_only=False", param="database")
        # the lease first: from then on no commit deletes a part of the snapshot read next
        lease = ReaderLease.take(self._files.root)
        try:
            self.snapshot: Snapshot = self._files.snapshot()
            if lease is not None:
                lease.pin(self.snapshot)
            self.read_only = read_only
            tables = list(S.SCHEMAS) + [t for t in self.snapshot.tables if t not in S.SCHEMAS and t not in LAYOUT_TABLES]  # register_views' list
            part = plan(needs, tables) if needs is not None else None
            #: False when the store was opened with ``needs`` and holds only part of the catalog
            self.complete: bool = part is None or part.complete
            self.con: duckdb.DuckDBPyConnection = engine.connect(database, bare=bare_engine)
        except BaseException:
            if lease is not None:
                lease.release()
            raise
        # released by close(), or when the connection is garbage-collected (``connect()``
        # hands out only the connection)
        self._release = weakref.finalize(self.con, lease.release) if lease is not None else None
        try:
            configure(self.con, memory_limit=memory_limit, temp_directory=temp_directory)
            # before the views: binding each view reads its parts' footers, which the cache then
            # keeps for every later bind and scan (install() sets it too, for other callers)
            self.con.execute("SET parquet_metadata_cache = true")
            if part is None:
                register_views(self.con, self._files, self.snapshot)
                install(self.con)
            else:
                register_views(self.con, self._files, self.snapshot, part.views)
                install(self.con, part.objects, prices=part.prices)
            if read_only:
                lock_down(self.con, self.files())
        except BaseException:
            self.close()
            raise

    @property
    def root(self) -> Path:
        return self._files.root

    @property
    def warehouse(self) -> Warehouse:
        """The warehouse as a :class:`~tracelab.store.warehouse.Warehouse` (reads and writes
        Parquet; imports pyarrow on first use, which opening the store does not)."""
        from tracelab.store.warehouse import Warehouse  # pyarrow: only for callers reading Arrow

        if not isinstance(self._files, Warehouse):
            self._files = Warehouse(self._files.root)
        return self._files

    def files(self) -> list[str]:
        """Every Parquet file of the snapshot (absolute paths)."""
        return [str(self._files.root / rel) for rels in self.snapshot.tables.values() for rel in rels]

    def files_of(self, table: str) -> list[Path]:
        """The Parquet files of ``table`` in this store's snapshot."""
        return self._files.files_of(table, self.snapshot)

    def read_table(self, table: str, columns: list[str] | None = None) -> pa.Table:
        """``table`` of this store's snapshot as pyarrow (cast to its declared schema)."""
        return self.warehouse.read_table(table, self.snapshot, columns=columns)

    def close(self) -> None:
        self.con.close()
        if self._release is not None:
            self._release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "read-write"
        return f"Store({str(self.root)!r}, snapshot {self.snapshot.version}, {mode})"


def connect(warehouse: str | os.PathLike | WarehouseFiles | None = None, *, read_only: bool = True, **settings: Any) -> duckdb.DuckDBPyConnection:
    """The connection of a new :class:`Store` over ``warehouse`` (see there)."""
    return Store(warehouse, read_only=read_only, **settings).con
