"""Offline, versioned, date-effective model prices.

The prices live in a data file, ``prices.toml`` (shipped with the package), not in code: one
entry per model with its aliases, and one or more price rows per model, each with an
``effective_from`` date. A call is priced with the latest row whose ``effective_from`` is on or
before the call's timestamp. The same table is installed in every catalog connection as
``tl_prices`` (see ``queries/_macros.sql``: ``tl_llm_calls`` joins it with an ASOF join), and
:func:`cost_usd` is the Python twin used by tests and notebooks.

Unknown is never zero: a model that matches no entry, a call before the model's first
``effective_from``, or a call that used a token kind the entry has no price for, gets cost
``None`` / SQL ``NULL``, and the queries count such calls as ``unpriced_calls``.

Model names are matched after :func:`match_key`: lower-cased, surrounding blanks removed and
anything up to the last ``/`` dropped (``anthropic/claude-sonnet-4-5`` -> ``claude-sonnet-4-5``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tracelab import schema_types as ct
from tracelab.errors import ConfigError

__all__ = ["PRICE_COLUMNS", "PriceRow", "PricingError", "cost_usd", "load", "lookup", "match_key", "price_table", "table_version"]

#: Token components, in the order of the columns of :func:`price_table`.
COMPONENTS = ("input", "output", "cache_read", "cache_write")


class PricingError(ConfigError, ValueError):
    """The price file is malformed."""


@dataclass(frozen=True)
class PriceRow:
    match_key: str  #: normalised name this row answers to (the model or one of its aliases)
    model: str  #: canonical model name of the entry
    provider: str
    effective_from: _dt.datetime  #: UTC
    input: float | None
    output: float | None
    cache_read: float | None
    cache_write: float | None
    source: str


def match_key(model: str | None) -> str | None:
    """Normalised model name used to find a price (the SQL twin is the macro ``tl_price_key``)."""
    if model is None:
        return None
    key = model.strip().lower()
    if "/" in key:
        key = key.rsplit("/", 1)[1]
    return key or None


def _num(entry: dict, field: str, where: str) -> float | None:
    if field not in entry:
        return None
    v = entry[field]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise PricingError(f"{where}: {field} must be a non-negative number, got {v!r}")
    return float(v)


def _parse(doc: dict[str, Any]) -> tuple[str, list[PriceRow]]:
    version = doc.get("version")
    if not isinstance(version, str) or not version:
        raise PricingError("price file needs a top-level version string")
    if doc.get("currency") != "USD" or doc.get("unit") != "per_million_tokens":
        raise PricingError("price file must declare currency = 'USD' and unit = 'per_million_tokens'")
    rows: list[PriceRow] = []
    seen: dict[str, str] = {}
    for m in doc.get("model", []):
        name = m.get("model")
        if not isinstance(name, str) or not name:
            raise PricingError(f"model entry without a name: {m!r}")
        keys: list[str] = []
        for raw in [name, *m.get("aliases", [])]:
            key = match_key(raw)
            if key is None:
                raise PricingError(f"{name}: blank model name or alias {raw!r}")
            keys.append(key)
        for k in keys:
            if k in seen:
                raise PricingError(f"{k!r} is listed under both {seen[k]!r} and {name!r}")
            seen[k] = name
        prices = m.get("price", [])
        if not prices:
            raise PricingError(f"{name}: no [[model.price]] rows")
        dates = []
        for p in prices:
            eff = p.get("effective_from")
            if not isinstance(eff, _dt.date) or isinstance(eff, _dt.datetime):
                raise PricingError(f"{name}: effective_from must be a TOML date, got {eff!r}")
            dates.append(eff)
            where = f"{name} from {eff}"
            vals = {c: _num(p, c, where) for c in COMPONENTS}
            if vals["input"] is None or vals["output"] is None:
                raise PricingError(f"{where}: input and output prices are required")
            start = _dt.datetime(eff.year, eff.month, eff.day, tzinfo=_dt.UTC)
            for k in keys:
                rows.append(PriceRow(k, name, str(m.get("provider", "")), start, **vals, source=str(p.get("source", ""))))
        if len(set(dates)) != len(dates):
            raise PricingError(f"{name}: two price rows with the same effective_from")
    rows.sort(key=lambda r: (r.match_key, r.effective_from))
    return version, rows


def _price_file_text() -> str:
    """``prices.toml`` beside this module (through :mod:`importlib.resources` only where the
    package is not a directory on disk: that machinery costs a command ~10 ms of start-up)."""
    path = Path(__file__).with_name("prices.toml")
    if path.is_file():
        return path.read_text(encoding="utf-8")
    from importlib import resources

    return resources.files(__name__).joinpath("prices.toml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _loaded() -> tuple[str, tuple[PriceRow, ...]]:
    import tomllib  # ~5 ms: only where a price is looked up

    version, rows = _parse(tomllib.loads(_price_file_text()))
    return version, tuple(rows)


def load() -> list[PriceRow]:
    """Every (match key, effective date) price row of the packaged table."""
    return list(_loaded()[1])


def table_version() -> str:
    return _loaded()[0]


#: The columns of :func:`price_table` (documented in ``queries/_macros.sql``), without pyarrow:
#: the command line creates ``tl_prices`` from them in SQL.
PRICE_COLUMNS = ct.TableSchema(
    "tl_prices",
    (
        ("match_key", ct.string()),
        ("price_model", ct.string()),
        ("provider", ct.string()),
        ("effective_from", ct.timestamp("ms", tz="UTC")),
        ("input_per_mtok", ct.float64()),
        ("output_per_mtok", ct.float64()),
        ("cache_read_per_mtok", ct.float64()),
        ("cache_write_per_mtok", ct.float64()),
        ("source", ct.string()),
        ("table_version", ct.string()),
    ),
)


def price_schema():
    """The columns of :func:`price_table` as a pyarrow schema (see :data:`PRICE_COLUMNS`)."""
    return PRICE_COLUMNS.arrow()


def price_rows() -> list[tuple]:
    """The price rows as tuples in :func:`price_schema` order (no pyarrow arrays: building one
    from Python values imports pandas, which the command line does not load)."""
    version = table_version()
    return [(r.match_key, r.model, r.provider, r.effective_from, r.input, r.output, r.cache_read, r.cache_write, r.source, version) for r in load()]


def price_table():
    """The price rows as a pyarrow Table (columns documented in ``queries/_macros.sql``)."""
    import pyarrow as pa

    schema = price_schema()
    rows = price_rows()
    return pa.table({f.name: pa.array([r[i] for r in rows], f.type) for i, f in enumerate(schema)}, schema=schema)


def lookup(model: str | None, ts: _dt.datetime) -> PriceRow | None:
    """The price row in effect for ``model`` at ``ts`` (aware or naive-UTC), or None."""
    key = match_key(model)
    if key is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=_dt.UTC)
    best = None
    for r in _loaded()[1]:
        if r.match_key == key and r.effective_from <= ts:
            best = r
    return best


def cost_usd(
    model: str | None,
    ts: _dt.datetime,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> float | None:
    """Cost of one call in USD, or None when it cannot be priced (unknown model or component)."""
    row = lookup(model, ts)
    if row is None:
        return None
    total = 0.0
    for tokens, price in (
        (input_tokens, row.input),
        (output_tokens, row.output),
        (cache_read_tokens, row.cache_read),
        (cache_write_tokens, row.cache_write),
    ):
        if tokens:
            if price is None:
                return None
            total += tokens * price
    return total / 1_000_000
