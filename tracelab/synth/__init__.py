"""Synthetic native-format corpora of Claude Code, Codex CLI and Pi sessions, with ground truth.

``tracelab synth --out DIR`` (or :func:`generate`) writes session files in each agent's own
directory layout, so ``CLAUDE_CONFIG_DIR=DIR/claude``, ``CODEX_HOME=DIR/codex`` and
``PI_AGENT_DIR=DIR/pi`` point real tools at them, plus ``DIR/truth.json`` (every count,
token total, error rate and latency percentile a test needs) and ``DIR/truth_failures.jsonl``
(one labelled line per failed tool result). See ``README.md`` in this package.
"""

from .engine import DEFAULT_MALFORMED_RATE, DEFAULT_SESSIONS, DEFAULT_START, generate, parse_size
from .families import FAMILIES, Family
from .truth import GENERATOR_VERSION, Truth

__all__ = [
    "DEFAULT_MALFORMED_RATE",
    "DEFAULT_SESSIONS",
    "DEFAULT_START",
    "FAMILIES",
    "GENERATOR_VERSION",
    "Family",
    "Truth",
    "generate",
    "parse_size",
]
