"""Read feedback records from CSV or JSON Lines files.

Both formats carry the same fields, by name (CSV: the header row; JSONL: one object per line):

``target_type``, ``target_key`` (or ``target`` as ``TYPE:KEY`` / a bare key), ``label``,
``score``, ``note``, ``author``, ``source``, ``created_at`` (aliases ``timestamp``, ``ts``),
``feedback_id`` (optional; computed when absent).

Unknown field names are refused (a typo such as ``lable`` would otherwise drop data silently).
Records are numbered by their physical line, so error messages point into the file.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from tracelab.feedback.table import FeedbackError

FIELDS = ("feedback_id", "target_type", "target_key", "target", "label", "score", "note", "author", "source", "created_at")
ALIASES = {"timestamp": "created_at", "ts": "created_at", "type": "target_type", "key": "target_key", "comment": "note"}
FORMATS = ("csv", "jsonl")


def detect_format(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise FeedbackError(f"{path}: cannot tell the format from the suffix {suffix!r}; pass format='csv' or 'jsonl'")


def _normalise_keys(rec: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in rec.items():
        name = ALIASES.get(str(k).strip().lower(), str(k).strip().lower())
        if name not in FIELDS:
            raise FeedbackError(f"{where}: unknown field {k!r} (known: {', '.join(FIELDS)})")
        if name in out and out[name] not in (None, ""):
            raise FeedbackError(f"{where}: field {name!r} given twice")
        out[name] = v
    return out


def read_csv(text: str, name: str = "<csv>") -> tuple[list[dict[str, Any]], list[str]]:
    """Records and their locations (``name:line``). The delimiter is sniffed (comma, tab,
    semicolon); quoted fields may span lines."""
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    if not reader.fieldnames:
        return [], []
    records, where = [], []
    line = reader.line_num
    for row in reader:
        loc = f"{name}:{line + 1}"
        line = reader.line_num
        if None in row:
            raise FeedbackError(f"{loc}: more cells than header columns")
        if all(v in (None, "") for v in row.values()):
            continue
        records.append(_normalise_keys({k: (v if v != "" else None) for k, v in row.items()}, loc))
        where.append(loc)
    return records, where


def read_jsonl(text: str, name: str = "<jsonl>") -> tuple[list[dict[str, Any]], list[str]]:
    """Records and their locations; blank lines are skipped, every other line must be an object."""
    records, where = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        loc = f"{name}:{n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FeedbackError(f"{loc}: invalid JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise FeedbackError(f"{loc}: expected a JSON object, got {type(obj).__name__}")
        records.append(_normalise_keys(obj, loc))
        where.append(loc)
    return records, where


def read_file(path: str | os.PathLike, format: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    fmt = (format or detect_format(path)).lower()
    if fmt not in FORMATS:
        raise FeedbackError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise FeedbackError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise FeedbackError(f"{path}: not UTF-8 text") from None
    return read_csv(text, p.name) if fmt == "csv" else read_jsonl(text, p.name)
