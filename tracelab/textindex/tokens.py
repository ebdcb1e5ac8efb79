"""What the search index calls a token, and how a search pattern maps onto tokens.

A **token** is a maximal run of *token characters*: ASCII letters, digits and ``_``, and every
character outside ASCII (letters of any script, CJK, emoji, accents, non-ASCII punctuation).
Everything else (ASCII punctuation, spaces, control characters) separates tokens. So
``ENOENT``, ``snake_case``, ``naïve``, ``日本語`` and ``🎉`` are tokens, ``foo.py`` is the two
tokens ``foo`` and ``py``, ``--force`` is ``force``. Tokens are kept as written (case and all)
and never cut, so every token is a substring of the text it came from.

Why this split makes the index exact (see data/README.md, "Search index"): a case-insensitive
match (RE2's simple case folding, as DuckDB's ``(?i)``) never pairs a token character with a
separator, because the only characters that fold onto ASCII letters are non-ASCII (the Kelvin
sign, the long s), which are token characters too, and no other ASCII character has a case
partner. A plain pattern made of token characters only therefore matches inside one token of
the text, or not at all.

Splitting is done on UTF-8 bytes: every separator is one ASCII byte, so :data:`SEPARATE`
(a ``bytes.translate`` table) turns them into spaces and a whitespace split yields the tokens;
no multi-byte character is ever cut.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SEPARATE", "Word", "is_token_char", "runs", "words"]

#: ASCII bytes that separate tokens: all but letters, digits and '_'
_SEPARATORS = bytes(c for c in range(128) if not (chr(c).isalnum() or chr(c) == "_"))
#: ``bytes.translate`` table mapping every separator byte to a space
SEPARATE = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))


def is_token_char(ch: str) -> bool:
    """Whether ``ch`` belongs to tokens (ASCII letter, digit, '_', or any non-ASCII character)."""
    return ord(ch) >= 128 or ch.isalnum() or ch == "_"


def runs(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into maximal runs of token characters (True) and separators (False)."""
    out: list[tuple[bool, str]] = []
    for ch in text:
        t = is_token_char(ch)
        if out and out[-1][0] == t:
            out[-1] = (t, out[-1][1] + ch)
        else:
            out.append((t, ch))
    return out


@dataclass(frozen=True)
class Word:
    """One token run of a pattern and how a stored token must relate to it for the pattern
    to occur in the token's text: ``open_start`` (the pattern starts with this run, so the
    token may hold more characters before it) and ``open_end`` (ends with it)."""

    text: str
    open_start: bool
    open_end: bool

    @property
    def anchors(self) -> tuple[str, str]:
        """The regex anchors that say it: ('^' unless open at the start, '$' unless open at the end)."""
        return ("" if self.open_start else "^", "" if self.open_end else "$")


def words(literal: str) -> list[Word]:
    """The token runs of a literal string with the constraint each puts on the token that holds
    it in any text containing ``literal``: a run preceded (followed) by a separator in the
    literal is preceded (followed) by one in the text, so the token starts (ends) there."""
    rs = runs(literal)
    return [Word(text, i == 0, i == len(rs) - 1) for i, (tok, text) in enumerate(rs) if tok]
