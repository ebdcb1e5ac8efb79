"""Cold-ingest throughput of the newer formats (Gemini CLI, Copilot CLI, OpenTelemetry, Hub STS),
beside ccusage on the same files where it reads the format (``ccusage gemini``).

    python -m benchmarks.formats_bench [--size-mb 50] [--work DIR]

The corpus is built from the real shared samples (``$TRACELAB_SHARED/samples``): each sample
is copied until the format's share of ``--size-mb`` is reached, every copy with fresh ids
(Gemini ``sessionId`` and message ids, Copilot event and session ids, OTel trace/span and
conversation ids), so no copy is a duplicate of another. The STS corpus is ``tracelab export
sts`` of the Gemini + Copilot warehouse. Each measurement is one fresh child process
(``tracelab ingest --agent <name>`` into an empty warehouse; ccusage with its harness's
isolated environment), wall seconds. Results are appended to ``benchmarks/results/formats.md``
with machine, command and date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "formats.md"
PY = sys.executable


def _samples() -> Path:
    env = os.environ.get("TRACELAB_SHARED")
    return (Path(env) if env else REPO.parent / "shared") / "samples"


def _gemini_copy(src: Path, n: int) -> bytes:
    doc = json.loads(src.read_bytes())
    doc["sessionId"] = f"{doc.get('sessionId', src.stem)}-c{n}"
    for m in doc.get("messages", []):
        if isinstance(m, dict) and isinstance(m.get("id"), str):
            m["id"] = f"{m['id']}-c{n}"
    return json.dumps(doc, indent=2, ensure_ascii=False).encode()


def _jsonl_copy(src: Path, n: int, fields: tuple[str, ...]) -> bytes:
    """Each line with the string values of ``fields`` (top level and in ``data``/``attributes``) suffixed."""
    out = []
    for line in src.read_bytes().splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        for holder in (obj, obj.get("data"), obj.get("attributes")):
            if isinstance(holder, dict):
                for f in fields:
                    if isinstance(holder.get(f), str) and holder[f]:
                        holder[f] = f"{holder[f]}-c{n}"
        out.append(json.dumps(obj, ensure_ascii=False).encode())
    return b"\n".join(out) + b"\n"


def build(work: Path, size_mb: float) -> dict[str, Path]:
    s = _samples()
    share = size_mb * 1e6 / 3
    plans = {
        "gemini": (sorted((s / "gemini-cli").glob("*.json")), lambda f, n: _gemini_copy(f, n)),
        "copilot": (sorted((s / "copilot-cli").glob("*.jsonl")), lambda f, n: _jsonl_copy(f, n, ("id", "parentId", "sessionId", "messageId"))),
        "otel": (
            sorted((s / "otel").glob("copilot-sdk-*.jsonl")),
            lambda f, n: _jsonl_copy(f, n, ("traceId", "spanId", "parentSpanId", "gen_ai.conversation.id")),
        ),
    }
    dirs = {}
    for agent, (files, copy) in plans.items():
        d = work / "corpus" / agent
        d.mkdir(parents=True, exist_ok=True)
        total, n = 0, 0
        while total < share:
            for f in files:
                data = copy(f, n)
                if agent == "gemini":
                    target = d / f"h{n % 50}" / "chats" / f"session-{n}-{f.name}"
                elif agent == "copilot":
                    target = d / f"{n}-{f.stem}" / "events.jsonl"
                else:
                    target = d / f"{n}-{f.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                total += len(data)
            n += 1
        dirs[agent] = d
    return dirs


def _size(d: Path) -> int:
    return sum(p.stat().st_size for p in d.rglob("*") if p.is_file())


def _run(argv: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - t0


def ingest_seconds(corpus: Path, wh: Path, agent: str) -> float:
    shutil.rmtree(wh, ignore_errors=True)
    return _run([PY, "-m", "tracelab", "ingest", str(corpus), "-w", str(wh), "--agent", agent, "-q", "--json"])


def ccusage_gemini_seconds(corpus: Path, work: Path) -> float | None:
    from tracelab.devtools import ccusage as cc

    if cc.ensure_ccusage() is None:
        return None
    files = [(f"tmp/{p.parent.parent.name}/chats/{p.name}", p) for p in sorted(corpus.rglob("session-*.json"))]
    home = cc.stage_corpus("gemini", files, work / "cc_gemini")
    t0 = time.perf_counter()
    cc.run_ccusage("gemini", home)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=float, default=50.0, help="corpus size over gemini + copilot + otel (default 50)")
    ap.add_argument("--work", type=Path, default=None, help="scratch directory (default: a temp dir, removed)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="tracelab-formats-"))
    started = dt.datetime.now(dt.UTC)
    try:
        dirs = build(work, args.size_mb)
        rows = []
        for agent, d in dirs.items():
            mb = _size(d) / 1e6
            secs = ingest_seconds(d, work / f"wh_{agent}", agent)
            peer = ccusage_gemini_seconds(d, work) if agent == "gemini" else None
            rows.append((agent, mb, secs, peer))
        # STS: the export of the gemini + copilot warehouses, read back
        sts_dir = work / "corpus" / "sts"
        for agent in ("gemini", "copilot"):
            subprocess.run(
                [PY, "-m", "tracelab", "export", "sts", "-w", str(work / f"wh_{agent}"), "--out", str(sts_dir)], check=True, stdout=subprocess.DEVNULL
            )
        rows.append(("sts", _size(sts_dir) / 1e6, ingest_seconds(sts_dir, work / "wh_sts", "sts"), None))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    cores = os.cpu_count()
    load = os.getloadavg()
    lines = [
        f"\n## {started:%Y-%m-%d %H:%M} UTC: `python -m benchmarks.formats_bench --size-mb {args.size_mb:g}`\n",
        f"- machine: {cores} cores, {platform.system()} {platform.release()} {platform.machine()}; Python {platform.python_version()}; load average at end {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}",
        "- corpus: copies of the real shared samples with fresh ids (`benchmarks/formats_bench.py`); cold ingest = `tracelab ingest DIR --agent A` into an empty warehouse, one process, wall time",
        "",
        "| format | input | tracelab cold ingest | ccusage (same files) | ratio ccusage ÷ tracelab |",
        "|---|---|---|---|---|",
    ]
    for agent, mb, secs, peer in rows:
        peer_cell = f"{peer:.2f} s (`ccusage gemini daily --json --offline`)" if peer is not None else "— (ccusage does not read this format)"
        ratio = f"{peer / secs:.3f}×" if peer is not None else ""
        lines.append(f"| {agent} | {mb:.1f} MB | {secs:.2f} s = **{mb / secs:.1f} MB/s** | {peer_cell} | {ratio} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with open(RESULTS, "a") as fh:
        if RESULTS.stat().st_size == 0:
            fh.write("# Cold ingest of the newer formats (`benchmarks/formats_bench.py`)\n")
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
