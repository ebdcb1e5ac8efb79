"""What to redact and how: the :class:`Policy`, its fingerprint and :data:`POLICY_VERSION`.

``POLICY_VERSION`` names the built-in catalogue (bump it whenever a built-in detector changes what
it matches); ``Policy.fingerprint()`` additionally covers every switch, rule file, deny word,
known secret (hashed) and the pseudonym key (as a key id), so a manifest that records it says
exactly which redaction a warehouse went through without revealing any of those inputs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tracelab.redact import checks, names
from tracelab.redact.pseudonym import Pseudonymizer, key_from_env, random_key

__all__ = ["Policy", "POLICY_VERSION", "env_secrets", "read_lines_file"]

#: Version of the built-in detector catalogue and replacement formats.
POLICY_VERSION = "tracelab-redact/2"

_MIN_KNOWN_SECRET = 6


def env_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose *names* look secret (``*_TOKEN``, ``*_PASSWORD``…).

    Only values of 8+ characters that are not placeholders, paths, URLs or booleans are kept —
    these are matched literally wherever they appear, so short or common values would do harm.
    """
    env = os.environ if environ is None else environ
    out: list[str] = []
    for name, value in env.items():
        level = names.secret_level(name)
        if level not in (names.PASSWORD, names.STRONG):
            continue
        v = value.strip()
        if len(v) < 8 or checks.is_placeholder(v, words=True):
            continue
        if v.startswith(("/", "~", "./", "http://", "https://")) or v.lower() in {"true", "false", "yes", "no"}:
            continue
        out.append(v)
    return sorted(set(out))


def read_lines_file(path: str | os.PathLike) -> list[str]:
    """Non-empty, non-comment lines of a text file (``--secret-file`` / ``--deny-file``)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Policy:
    """Redaction settings. Defaults are the safe-to-share profile used by ``tracelab redact``.

    ``key`` is the pseudonym key; when ``None``, ``TRACELAB_REDACT_KEY`` is used, else a random
    per-process key (pseudonyms then agree within one run only). It never appears in ``repr``.
    """

    builtin: bool = True
    emails: bool = True
    ip_addresses: bool = True
    hostnames: bool = False
    home_paths: bool = True
    phone_numbers: bool = True
    propagate_usernames: bool = True
    propagate_secrets: bool = True
    high_entropy: bool = True
    skip_images: bool = True
    skip_opaque: bool = True
    known_secrets: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    usernames: tuple[str, ...] = ()
    rules_files: tuple[str, ...] = ()
    key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.known_secrets = tuple(sorted({s for s in self.known_secrets if len(s) >= _MIN_KNOWN_SECRET}))
        self.deny = tuple(sorted({d for d in self.deny if len(d.strip()) >= 2}))
        self.usernames = tuple(sorted(set(self.usernames)))
        self.rules_files = tuple(str(p) for p in self.rules_files)
        if self.key is None:
            self.key = key_from_env()
        self._ephemeral_key = self.key is None
        if self.key is None:
            self.key = random_key()
        elif isinstance(self.key, str):
            self.key = self.key.encode("utf-8")

    @property
    def ephemeral_key(self) -> bool:
        """True if no key was given (pseudonyms are stable within this process only)."""
        return self._ephemeral_key

    def pseudonymizer(self) -> Pseudonymizer:
        assert self.key is not None  # __post_init__ always sets a key
        return Pseudonymizer(self.key)

    def with_env_secrets(self, environ: Mapping[str, str] | None = None) -> Policy:
        """A copy that also treats secret-named environment values as known secrets."""
        return self.replace(known_secrets=tuple(self.known_secrets) + tuple(env_secrets(environ)))

    def replace(self, **changes) -> Policy:
        """A copy with ``changes`` applied (validated and normalised again by ``__post_init__``)."""
        return dataclasses.replace(self, **changes)

    def describe(self) -> dict:
        """The fingerprinted description (no secret material: secrets and words are hashed)."""
        from tracelab.redact.detectors import builtin_detectors, identity_detectors
        from tracelab.redact.phones import phone_detectors

        catalogue = [(d.id, d.pattern) for d in builtin_detectors()]
        catalogue += [(d.id, d.pattern) for d in identity_detectors(emails=True, ip_addresses=True, hostnames=True, home_paths=True)]
        catalogue += [(d.id, d.pattern) for d in phone_detectors()]
        rules = []
        for p in self.rules_files:
            try:
                digest = _sha(Path(p).read_bytes())
            except OSError:
                digest = "unreadable"
            rules.append({"file": Path(p).name, "sha256": digest})
        return {
            "policy_version": POLICY_VERSION,
            "builtin": self.builtin,
            "emails": self.emails,
            "ip_addresses": self.ip_addresses,
            "hostnames": self.hostnames,
            "home_paths": self.home_paths,
            "phone_numbers": self.phone_numbers,
            "propagate_usernames": self.propagate_usernames,
            "propagate_secrets": self.propagate_secrets,
            "high_entropy": self.high_entropy,
            "skip_images": self.skip_images,
            "skip_opaque": self.skip_opaque,
            "known_secrets": {"count": len(self.known_secrets), "sha256": _sha("\n".join(_sha(s.encode()) for s in self.known_secrets).encode())},
            "deny": {"count": len(self.deny), "sha256": _sha("\n".join(self.deny).encode())},
            "usernames": {"count": len(self.usernames), "sha256": _sha("\n".join(self.usernames).encode())},
            "rules": rules,
            "catalogue_sha256": _sha(json.dumps(catalogue).encode())[:32],
            "key_id": self.pseudonymizer().key_id(),
        }

    def fingerprint(self) -> str:
        """Stable hash of :meth:`describe`, including the pseudonym key's id (two runs with this
        fingerprint produce the same output; recorded by ``ingest --redact``)."""
        blob = json.dumps(self.describe(), sort_keys=True, separators=(",", ":")).encode()
        return "sha256:" + _sha(blob)[:32]

    def policy_hash(self) -> str:
        """Hash of what the policy detects: :meth:`describe` without the pseudonym key's id.

        ``tracelab redact`` and ``tracelab redact --check`` print this one (a check does not
        pseudonymise, and a run without a key draws a random one), so the hash a dataset card
        records for the redaction is the hash the gate was run with."""
        d = self.describe()
        d.pop("key_id", None)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":")).encode()
        return "sha256:" + _sha(blob)[:32]
