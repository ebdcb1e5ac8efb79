"""Redaction benchmark: speed (MB/s per core), recall and false redactions.

    .venv/bin/python benchmarks/redact_bench.py            # full run, writes benchmarks/results/redact.md
    .venv/bin/python benchmarks/redact_bench.py --quick    # smaller corpora, prints only

Measures, each in a fresh Python process (RE2 builds its DFAs lazily; a fresh process pays that
warm-up like a real ``tracelab redact`` run does), with CPU time of that process (``time.process_time``),
so the number is per core and not distorted by other load on the machine:

1. the real shared samples (``../shared/samples/**/*.jsonl``), once and concatenated ``--repeat`` times;
2. the planted-secret corpus of :mod:`tracelab.redact.bench` (secret lines, hard negatives and
   ordinary trace lines) — recall, false redactions per MB, MB/s;
3. the dense part of it alone (only secret and hard-negative lines): a stress number;
4. the real samples with gitleaks' own rule file loaded as well (``--rules``);
5. every secret-category finding on the real samples, listed for review (none should fire);
6. the gitleaks test vectors and detect-secrets fixtures (true/false positives).

A CPU calibration loop is timed in the parent so numbers from a loaded machine can be compared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ["TRACELAB_SHARED"]) if os.environ.get("TRACELAB_SHARED") else REPO.parent / "shared"
RESULTS = REPO / "benchmarks" / "results" / "redact.md"


# ------------------------------------------------------------------------------------ workers


def _sample_lines() -> list[bytes]:
    lines: list[bytes] = []
    for p in sorted((SHARED / "samples").rglob("*.jsonl")):
        lines += p.read_bytes().splitlines(True)
    return lines


def _time_lines(lines: list[bytes], policy_kw: dict) -> dict:
    from tracelab.redact import Policy, Redactor

    r = Redactor(Policy(key=b"bench", **policy_kw))
    n = sum(len(x) for x in lines)
    t0, w0 = time.process_time(), time.perf_counter()
    findings = changed = 0
    for raw in lines:
        out, found, _ = r.redact_line(raw)
        findings += len(found)
        changed += out is not raw
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    return {"mb": n / 1e6, "lines": len(lines), "cpu_s": cpu, "wall_s": wall, "mb_per_s": n / 1e6 / cpu, "findings": findings, "changed_lines": changed}


def worker(task: str, args: dict) -> dict:
    if task == "samples":
        lines = _sample_lines() * args["repeat"]
        rules = (str(SHARED / "redaction" / "gitleaks" / "config" / "gitleaks.toml"),) if args.get("gitleaks") else ()
        return _time_lines(lines, {"rules_files": rules})
    if task == "planted":
        from tracelab.redact import Policy, Redactor
        from tracelab.redact.bench import evaluate, generate

        corpus = generate(
            args["secrets"], negatives_per_secret=args["negatives"], ordinary_per_secret=args["ordinary"], identities=args["identities"], seed=args["seed"]
        )
        res = evaluate(corpus, Redactor(Policy(key=b"bench")))
        out = res.summary()
        out.update(
            cpu_s=round(res.cpu_seconds, 3),
            per_kind=res.per_kind,
            per_carrier=res.per_carrier,
            missed_list=[[p.kind, p.context, p.agent, p.carrier] for p in res.missed],
            false_by_detector=res.false_by_detector,
            negative_identity_findings=res.negative_identity_findings,
            lines=len(corpus.lines),
            agents=sorted({p.agent for p in corpus.planted}),
        )
        return out
    if task == "review":
        import tempfile

        from tracelab.redact import Policy, Redactor
        from tracelab.redact.files import redact_paths

        with tempfile.TemporaryDirectory() as tmp:
            rep = redact_paths(Redactor(Policy(key=b"bench")), [str(SHARED / "samples")], tmp)
        secret = [f.to_dict() for f in rep.findings if f.category == "secret"]
        return {
            "mb": sum(r.bytes_in for r in rep.files) / 1e6,
            "files": len(rep.files),
            "by_detector": dict(rep.counts("detector")),
            "secret_findings": secret,
        }
    if task == "vectors":
        import hashlib

        from tracelab.redact import Policy, Redactor

        rows = [json.loads(x) for x in (SHARED / "redaction" / "gitleaks" / "rule_test_vectors.jsonl").read_text().splitlines() if x.strip()]
        frag = {f["row"] for f in json.loads((REPO / "tests" / "fixtures" / "redaction" / "gitleaks_fragments.json").read_text())["fragments"]}
        r = Redactor(Policy(key=b"bench", propagate_secrets=False))
        tp = [i for i, x in enumerate(rows) if x["label"] == "TP" and i not in frag]
        fp = [i for i, x in enumerate(rows) if x["label"] == "FP"]
        tp_hit = sum(r.redact_text(rows[i]["text"])[0] != rows[i]["text"] for i in tp)
        fp_hit = [rows[i]["rule_id"] for i in fp if r.redact_text(rows[i]["text"])[0] != rows[i]["text"]]
        labels = json.loads((REPO / "tests" / "fixtures" / "redaction" / "detect_secrets_labels.json").read_text())
        data = SHARED / "redaction" / "detect-secrets" / "test_data"
        r2 = Redactor(Policy(key=b"bench"))
        removed = 0
        split = re.compile(r"[\s'\",()\[\]=:@]+")
        for lab in labels["redacted"]:
            text = (data / lab["file"]).read_text(encoding="utf-8", errors="surrogateescape")
            out, _ = r2.redact_text(text)
            toks = {hashlib.sha256(t.encode()).hexdigest() for t in split.split(out) if t}
            removed += all(d not in toks for d in lab["secret_sha256"])
        return {
            "tp": len(tp),
            "tp_redacted": tp_hit,
            "fragments": len(frag),
            "fp": len(fp),
            "fp_touched": len(fp_hit),
            "fp_touched_rules": fp_hit,
            "ds_labels": len(labels["redacted"]),
            "ds_removed": removed,
        }
    if task == "phones":
        from tracelab.redact import Policy, Redactor
        from tracelab.redact.files import redact_paths
        from tracelab.redact.phone_corpus import FORMATS, REGIONS, planted_phones

        r = Redactor(Policy(key=b"bench"))
        per_fmt: dict = {}
        t0 = time.process_time()
        for seed in range(args["seeds"]):
            for p in planted_phones(seed=seed, per_region=6):
                out = r.redact_line(p.text.encode())[0].decode() if p.text.startswith("{") else r.redact_text(p.text)[0]
                hit, tot = per_fmt.get(p.fmt, (0, 0))
                per_fmt[p.fmt] = (hit + (p.written.removeprefix("tel:") not in out), tot + 1)
        cpu = time.process_time() - t0
        rep = redact_paths(Redactor(Policy(key=b"bench")), [str(SHARED / "samples")], None, check=True)
        mb = sum(f.bytes_in for f in rep.files) / 1e6
        phones = [f.to_dict() for f in rep.findings if f.kind == "phone_number"]
        return {
            "per_format": per_fmt,
            "regions": len(REGIONS),
            "formats": len(FORMATS),
            "seeds": args["seeds"],
            "cpu_s": round(cpu, 2),
            "samples_mb": mb,
            "sample_findings": phones,
        }
    if task == "gate":
        import random
        import tempfile

        from tracelab.redact import Policy, Redactor
        from tracelab.redact.bench import _Gen
        from tracelab.redact.placements import KINDS, PLACEMENTS, placed, planted_secret

        rng = random.Random(args["seed"])
        failed_gate = survived = 0
        by_placement: dict = {}
        for _ in range(args["trials"]):
            g = _Gen(rng)
            kind, placement = rng.choice(KINDS), rng.choice(PLACEMENTS)
            secret, value = planted_secret(kind, g)
            line = json.dumps({"type": "user", "message": {"content": [{"type": "tool_result", "content": placed(rng, g, kind, secret, placement)}]}}).encode()
            out = Redactor(Policy(key=b"bench")).redact_line(line)[0]
            again = Redactor(Policy(key=b"bench")).redact_line(out)[1]
            gone = value not in out.decode() and value not in json.dumps(json.loads(out), ensure_ascii=False)
            failed_gate += bool(again)
            survived += not gone and not again
            hit, tot = by_placement.get(placement, (0, 0))
            by_placement[placement] = (hit + gone, tot + 1)
        with tempfile.TemporaryDirectory() as tmp:
            from tracelab.redact.files import redact_paths

            red = redact_paths(Redactor(Policy(key=b"bench")), [str(SHARED / "samples")], tmp)
            chk = redact_paths(Redactor(Policy(key=b"bench")), [tmp], None, check=True)
        return {
            "trials": args["trials"],
            "gate_fails_on_output": failed_gate,
            "survived_unflagged": survived,
            "by_placement": by_placement,
            "samples_check_clean": chk.clean,
            "same_hash": red.policy_fingerprint == chk.policy_fingerprint,
            "policy": f"{red.policy_version} {red.policy_fingerprint}",
        }
    raise ValueError(task)


def _run(task: str, **args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", task, "--worker-args", json.dumps(args)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------ parent


def _machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    t = time.process_time()
    s = 0
    for i in range(5_000_000):
        s += i * i
    calib = time.process_time() - t
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "calibration_s": round(calib, 3),
    }


def _fmt_pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100 * a / b:.1f}%)" if b else "n/a"


def render(res: dict) -> str:
    m = res["machine"]
    s1, s3, sg, pl, de, rv, vc = (res[k] for k in ("samples1", "samplesN", "samples_gitleaks", "planted", "dense", "review", "vectors"))
    lines = [
        "# Redaction benchmark (`tracelab redact`)",
        "",
        f"- date: {res['date']}",
        f"- command: `{res['command']}`",
        f"- machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['platform']}",
        f"- load average at start: {', '.join(f'{x:.2f}' for x in m['loadavg']) if m['loadavg'] else 'n/a'}; CPU calibration loop (5M `s += i*i`): {m['calibration_s']} s",
        "- speed = input MB / **CPU seconds of the measuring process** (one core; each measurement in a fresh process, so RE2's lazily built DFAs start cold)",
        "",
        "## Speed",
        "",
        "| corpus | MB | lines | CPU s | MB/s per core |",
        "|---|---:|---:|---:|---:|",
        f"| real samples, one pass | {s1['mb']:.1f} | {s1['lines']:,} | {s1['cpu_s']:.2f} | **{s1['mb_per_s']:.1f}** |",
        f"| real samples × {res['repeat']} (concatenated) | {s3['mb']:.1f} | {s3['lines']:,} | {s3['cpu_s']:.2f} | **{s3['mb_per_s']:.1f}** |",
        f"| real samples × {res['repeat']} with gitleaks.toml loaded too | {sg['mb']:.1f} | {sg['lines']:,} | {sg['cpu_s']:.2f} | {sg['mb_per_s']:.1f} |",
        f"| planted corpus (secrets + hard negatives + ordinary lines) | {pl['mb']:.1f} | {pl['lines']:,} | {pl['cpu_s']:.2f} | **{pl['mb_per_s']:.1f}** |",
        f"| dense part only (every line a secret or a hard negative; stress) | {de['mb']:.1f} | {de['lines']:,} | {de['cpu_s']:.2f} | {de['mb_per_s']:.1f} |",
        "",
        "## Planted-secret corpus",
        "",
        f"Generated by `tracelab.redact.bench.generate({res['secrets']}, negatives_per_secret={res['negatives']}, ordinary_per_secret={res['ordinary']}, identities={res['identities']}, seed={res['seed']})`: "
        f"{pl['secrets']:,} secrets of {pl['kinds']} kinds in Claude Code / Codex / Pi lines ({', '.join(pl['agents'])}), {pl['negative_mb']:.1f} MB of secret-free lines "
        f"({pl['ordinary_mb']:.1f} MB ordinary trace content, the rest hard negatives).",
        "",
        f"- **recall {pl['recall']:.4f}** ({pl['secrets'] - pl['missed']}/{pl['secrets']}; a secret counts as missed if any 16-character window of it survives in the decoded output line)",
        f"- **false redactions: {pl['false_redactions']} on {pl['negative_mb']:.1f} MB of secret-free lines = {pl['false_per_mb']:.3f} per MB** ({pl['false_on_ordinary']} on the {pl['ordinary_mb']:.1f} MB of ordinary lines)"
        + (f"; by detector: {pl['false_by_detector']}" if pl["false_by_detector"] else ""),
        f"- identities (emails, home-directory usernames, IPv4) pseudonymised/redacted: recall {pl['identity_recall']:.4f}; identity findings on secret-free lines (home paths in `cwd`, by policy): {pl['negative_identity_findings']:,}",
        "",
        "| kind | redacted |",
        "|---|---:|",
    ]
    for kind, (hit, tot) in sorted(pl["per_kind"].items()):
        lines.append(f"| {kind} | {_fmt_pct(hit, tot)} |")
    lines += ["", "| agent / carrier | redacted |", "|---|---:|"]
    for k, (hit, tot) in sorted(pl["per_carrier"].items()):
        lines.append(f"| {k} | {_fmt_pct(hit, tot)} |")
    if pl["missed_list"]:
        lines += ["", "Missed (kind, context, agent, carrier):", ""]
        from collections import Counter

        for (kind, ctx, agent, carrier), n in Counter(tuple(x) for x in pl["missed_list"]).most_common():
            lines.append(f"- {n} × {kind} / {ctx} / {agent} / {carrier}")
    secret = rv["secret_findings"]
    true_pos = sum(1 for f in secret if f["detector"] == "tavily-api-key" and f["file"].endswith("agent-engram-8baa78ec-events.jsonl"))
    lines += [
        "",
        "## Real samples: what fires",
        "",
        f"{rv['files']} files, {rv['mb']:.1f} MB. Findings by detector: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(rv["by_detector"].items(), key=lambda kv: -kv[1]))
        + ".",
        "",
        f"- **secret-category findings: {len(secret)}**, of which {true_pos} true positives (the curator-neutralised Tavily key "
        "`tvly-dev-EXAMPLEKEY…` in `copilot-cli/agent-engram-8baa78ec-events.jsonl`, 4 tool results × content/detailedContent) → "
        f"false redactions per MB on real trace text: **{(len(secret) - true_pos) / rv['mb']:.3f}**. "
        "Every other secret finding would be false; the ones that fired during development "
        "(GitHub Actions cache keys after `key:`, Go test `--- PASS:` lines, a git-status file name with a timestamp and UUID, "
        "`foo:bar@baz@example.com` URL-validator fixtures in the Gemini samples) were reviewed and the detectors tightened; "
        "any finding is listed below.",
    ]
    for f in secret[:30]:
        lines.append(f"  - {f['detector']} {f['file']}:{f['line']} {f['path']}")
    lines += [
        "- identity findings are policy, not errors: `home-path`/`encoded-home-path`/`known-username` pseudonymise the authors' usernames "
        "(in `cwd`, file paths, `ls -l` owners, git branches), `email` the addresses in git logs and package metadata, "
        "`ip-address` the few public server addresses; well-known public resolvers (8.8.8.8, 1.1.1.1) are kept.",
        "",
        "## Reference vectors",
        "",
        f"- gitleaks `rule_test_vectors.jsonl`: true positives with secret material redacted by the built-in detectors: **{_fmt_pct(vc['tp_redacted'], vc['tp'])}** "
        f"({vc['fragments']} further TP rows are extraction fragments without secret material, labelled in `tests/fixtures/redaction/gitleaks_fragments.json`); "
        f"false positives touched: **{_fmt_pct(vc['fp_touched'], vc['fp'])}** ({', '.join(sorted(set(vc['fp_touched_rules'])))})",
        f"- detect-secrets `test_data`: hand-labelled planted secrets removed: **{vc['ds_removed']}/{vc['ds_labels']}**",
    ]
    ph, gt = res["phones"], res["gate"]
    hit = sum(h for h, _ in ph["per_format"].values())
    tot = sum(t for _, t in ph["per_format"].values())
    lines += [
        "",
        "## Phone numbers",
        "",
        f"Planted set `tracelab.redact.phone_corpus.planted_phones(seed, per_region=6)` for {ph['seeds']} seeds: {tot:,} valid numbers of "
        f"{ph['regions']} regions in {ph['formats']} formats, in prose, signatures, CSV rows and JSON tool results. "
        f"**Recall {hit / tot:.4f}** ({hit}/{tot}; {ph['cpu_s']} CPU s). Real samples ({ph['samples_mb']:.1f} MB): "
        f"**{len(ph['sample_findings'])} phone findings = {len(ph['sample_findings']) / ph['samples_mb']:.3f} per MB** (none is a phone number).",
        "",
        "| format | redacted |",
        "|---|---:|",
    ]
    for fmt, (h, t) in sorted(ph["per_format"].items()):
        lines.append(f"| {fmt} | {_fmt_pct(h, t)} |")
    for f in ph["sample_findings"][:20]:
        lines.append(f"  - {f['detector']} {f['file']}:{f['line']} {f['path']}")
    lines += [
        "",
        "## Gate: `redact` output passes `redact --check`",
        "",
        f"{gt['trials']:,} generated lines, each with one planted secret of a random kind and placement (JSON-escaped, nested JSON, "
        "spliced into a base64 blob, inside a URL): the check fired on the redacted output **"
        f"{gt['gate_fails_on_output']}** times; a planted value survived unflagged **{gt['survived_unflagged']}** times. "
        "Value gone, by placement: " + ", ".join(f"{k} {_fmt_pct(h, t)}" for k, (h, t) in sorted(gt["by_placement"].items())) + ". "
        f"All real samples redacted then checked: {'clean' if gt['samples_check_clean'] else 'NOT clean'}; "
        f"`redact` and `--check` print the same policy hash: {'yes' if gt['same_hash'] else 'NO'} ({gt['policy']}).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--secrets", type=int, default=2000)
    ap.add_argument("--negatives", type=float, default=2.0)
    ap.add_argument("--ordinary", type=float, default=6.0)
    ap.add_argument("--identities", type=int, default=200)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=3, help="concatenate the real samples this many times")
    ap.add_argument("--quick", action="store_true", help="1000 secrets, repeat 1, print only")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--worker-args", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.worker, json.loads(a.worker_args))))
        return 0
    if not (SHARED / "samples").is_dir():
        print(f"shared samples not found at {SHARED} (set TRACELAB_SHARED)", file=sys.stderr)
        return 2
    if a.quick:
        a.secrets, a.repeat = 1000, 1
    res: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["python benchmarks/redact_bench.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": _machine(),
        "repeat": a.repeat,
        "secrets": a.secrets,
        "negatives": a.negatives,
        "ordinary": a.ordinary,
        "identities": a.identities,
        "seed": a.seed,
    }
    res["samples1"] = _run("samples", repeat=1)
    res["samplesN"] = _run("samples", repeat=a.repeat)
    res["samples_gitleaks"] = _run("samples", repeat=a.repeat, gitleaks=True)
    res["planted"] = _run("planted", secrets=a.secrets, negatives=a.negatives, ordinary=a.ordinary, identities=a.identities, seed=a.seed)
    res["dense"] = _run("planted", secrets=a.secrets, negatives=a.negatives, ordinary=0.0, identities=a.identities, seed=a.seed)
    res["review"] = _run("review")
    res["vectors"] = _run("vectors")
    res["phones"] = _run("phones", seeds=3 if a.quick else 10)
    res["gate"] = _run("gate", trials=300 if a.quick else 2000, seed=a.seed)
    md = render(res)
    print(md)
    if not a.quick:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(md, encoding="utf-8")
        print(f"wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
