"""Build a large corpus from the real shared samples, with fresh ids per copy.

Each copy rewrites every id-like token (UUIDs, ``msg_…``, ``req_…``, ``toolu_…``, Codex/Pi ids)
with a copy-specific variant, so copies are distinct sessions to every dedup rule while keeping
the real files' shapes, sizes and content mix. Layouts are kept (Claude ``projects/<dir>/…``,
Codex ``sessions/YYYY/MM/DD/rollout-…``, Pi ``sessions/--cwd--/…``) so ccusage reads the same files.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PREFIXED = re.compile(rb"\b(msg_|req_|toolu_|call_|srvtoolu_|fc_|resp_|rs_)([0-9A-Za-z]{6,})")


def _rewrite(data: bytes, k: int) -> bytes:
    tag = b"%06x" % k

    def uuid_sub(m: re.Match) -> bytes:
        s = m.group(0)
        return tag + s[6:]

    def pref_sub(m: re.Match) -> bytes:
        return m.group(1) + b"c" + tag + m.group(2)[7:]

    return _PREFIXED.sub(pref_sub, _UUID.sub(uuid_sub, data))


def _copy_name(rel: Path, k: int) -> Path:
    tag = "{:06x}".format(k)  # noqa: UP032
    name = rel.name
    m = _UUID.search(name.encode())
    if m:
        name = name.replace(m.group(0).decode(), tag + m.group(0).decode()[6:])
    else:
        stem, dot, ext = name.partition(".")
        name = f"{stem}-c{tag}.{ext}" if dot else f"{stem}-c{tag}"
    parts = list(rel.parts[:-1])
    parts = [(_UUID.sub(lambda m: tag.encode() + m.group(0)[6:], p.encode())).decode() for p in parts]
    return Path(*parts, name) if parts else Path(name)


def sample_files(shared: Path, agent: str) -> list[tuple[Path, Path]]:
    """(source file, layout-relative path) for an agent's samples, laid out for its discovery."""
    from tracelab.devtools import ccusage as cc

    files = cc.shared_sample_files(agent, shared / "samples")
    out = []
    for f in files:
        out.append((f, Path(str(cc.default_relpath(agent, f)))))
    return out


def build(shared: Path, dest: Path, agent: str, target_bytes: int) -> dict:
    """Copy the agent's samples with fresh ids until ``target_bytes`` are written."""
    files = sample_files(shared, agent)
    base = sum(f.stat().st_size for f, _ in files)
    if base == 0:
        raise SystemExit(f"no {agent} samples under {shared}")
    copies = max(1, -(-target_bytes // base))
    root = dest / agent
    if root.exists():
        shutil.rmtree(root)
    written = 0
    nfiles = 0
    blobs = [(f.read_bytes(), rel) for f, rel in files]
    for k in range(copies):
        for data, rel in blobs:
            out = root / _copy_name(rel, k)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(_rewrite(data, k))
            written += len(data)
            nfiles += 1
    return {"agent": agent, "root": str(root), "copies": copies, "files": nfiles, "bytes": written}


if __name__ == "__main__":  # pragma: no cover
    import sys

    shared = Path(os.environ.get("TRACELAB_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
    print(build(shared, Path(sys.argv[1]), sys.argv[2], int(float(sys.argv[3]) * 1e6)))
