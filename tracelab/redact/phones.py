"""Phone numbers: RE2 finds phone-shaped candidates, ``phonenumbers`` (libphonenumber) validates.

Three shapes are candidates, each cheap to find and rare in code and logs:

* **international** — ``+`` and a country code (``+44 20 7946 0958``, ``+1 (415) 555-2671``,
  ``+81-3-1234-5678``, E.164 ``+14155552671``), or the ``00`` trunk prefix followed by a
  separator (``0049 30 1234567``); ``tel:`` URIs (RFC 3966) are this shape too;
* **national with a phone word** — any national format within 24 characters after ``phone``,
  ``tel``, ``mobile``, ``cell``, ``call``, ``fax``, ``whatsapp``, ``sms``, ``contact``, ``ring``
  or their German/French/Spanish/Italian/Portuguese spellings (``Tel.: 030 1234567``);
* **North American with parentheses** — ``(415) 555-2671``.

A candidate is redacted only if libphonenumber says it is a *valid* number (country code, length and
number-range metadata): international shapes are parsed as written; national shapes are tried
against the regions listed in :data:`NATIONAL_REGIONS`. A candidate glued to a letter or digit
(``id+14155552671x``, ``0x00…``), a date or time (``2025-06-15``, ``10:23``) or a version string is
not a number someone wrote down. What is not covered: national numbers written without any phone
word (``020 7946 0958`` alone in prose), which cannot be told from other digit groups in code and
logs at an acceptable false-positive rate; numbers spelled with letters (``1-800-FLOWERS``).
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from tracelab.redact.detectors import Candidate, Detector

__all__ = ["phone_detectors", "NATIONAL_REGIONS", "is_phone_number"]

#: Regions a national-format number (after a phone word) is validated against, in order.
NATIONAL_REGIONS = (
    "US",
    "GB",
    "DE",
    "FR",
    "IN",
    "BR",
    "JP",
    "AU",
    "ES",
    "IT",
    "NL",
    "CA",
    "MX",
    "CN",
    "KR",
    "PL",
    "SE",
    "CH",
    "ZA",
    "NG",
    "RU",
    "TR",
    "ID",
    "PH",
)

_PHONE_WORDS = (
    "phone",
    "tel",
    "mobile",
    "cell",
    "call",
    "fax",
    "whatsapp",
    "sms",
    "contact",
    "ring",
    "telefon",
    "telefono",
    "movil",
    "handy",
    "cellulare",
    "celular",
    "portable",
    "numero",
    "nummer",
)

_SEP = r"[ \t.\-\x{00A0}]"
# a digit group run: digits with single separators, optional (area) groups
_BODY = r"(?:\(\d{1,5}\)" + _SEP + r"?)?\d{1,6}(?:" + _SEP + r"?(?:\(\d{1,5}\)|\d{1,6})){0,7}"
_INTL = r"(?P<s>(?:\+|\b00" + _SEP + r"?)\d{1,3}" + _SEP + r"?" + _BODY + r")"
_WORDS = "|".join(_PHONE_WORDS)
_CONTEXT = r"(?i)(?:" + _WORDS + r")[^\d\n+]{0,24}(?P<s>\+?\(?\d" + r"[\d \t.\-()]{5,22}\d)"
_PAREN = r"(?P<s>\(\d{3}\) ?\d{3}[ .\-]\d{4})"


def _digits(v: str) -> str:
    return "".join(ch for ch in v if ch.isdigit())


def _glued(c: Candidate) -> bool:
    """The span continues a word, number, date or version (``x+1415…``, ``1.2.3``, ``…-15``)."""
    t = c.text
    before = t[c.start - 1 : c.start] if c.start else b""
    after = t[c.end : c.end + 1]
    if before.isalnum() or before in (b"_", b"/", b"=", b"#", b"+") or after.isalnum() or after in (b"_", b"@"):
        return True
    # "...-0958" or ".0958" following digits: part of a longer token (a date, an id, a version)
    if before in (b"-", b".", b":") and t[c.start - 2 : c.start - 1].isdigit():
        return True
    if after in (b"-", b".", b":", b"/") and t[c.end + 1 : c.end + 2].isdigit():
        return True
    return False


def _shape_ok(v: str) -> bool:
    d = _digits(v)
    if not 7 <= len(d) <= 15 or len(set(d)) <= 2:
        return False
    # dates and times: 2025-06-15, 2025.06.15, 10:23
    parts = [p for p in v.replace("(", " ").replace(")", " ").replace(".", " ").replace("-", " ").split() if p]
    if len(parts) >= 3 and len(parts[0].lstrip("+")) == 4 and parts[0].lstrip("+")[:2] in ("19", "20") and len(parts[1]) == 2 and len(parts[2]) == 2:
        return False
    # dotted groups that read as a version or an IP (1.2.3.4) are not phone numbers
    if "." in v and " " not in v and "-" not in v and v.count(".") >= 2 and not v.startswith("+"):
        return False
    return True


@lru_cache(maxsize=4096)
def is_phone_number(value: str, international: bool) -> bool:
    """Is ``value`` a valid phone number (international as written, or national in a known region)?"""
    v = value.strip()
    if not _shape_ok(v):
        return False
    if v.startswith("00"):
        v = "+" + v[2:].lstrip(" \t.-")
    if v.startswith("+"):
        try:
            return phonenumbers.is_valid_number(phonenumbers.parse(v, None))
        except phonenumbers.NumberParseException:
            return False
    if international:
        return False
    for region in NATIONAL_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(v, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _accept_intl(c: Candidate) -> bool:
    return not _glued(c) and is_phone_number(c.value.rstrip(" .-"), True)


def _accept_national(c: Candidate) -> bool:
    # the phone word must start a word ("tel", not "hotel"; "call", not "recall")
    kw_start = c.match.spans[0][0]
    if kw_start > 0 and c.text[kw_start - 1 : kw_start].isalpha():
        return False
    return not _glued(c) and is_phone_number(c.value.rstrip(" .-"), False)


def phone_detectors() -> list[Detector]:
    """The phone-number detectors (category ``identity``, marker ``[REDACTED:phone_number]``)."""
    return list(_compiled())


@lru_cache(maxsize=1)
def _compiled() -> tuple[Detector, ...]:
    dets = [
        Detector(
            id="phone-international",
            kind="phone_number",
            category="identity",
            pattern=_INTL,
            prefilter=r"(?:\+|\b00[ .\-]?)\d{1,3}[ .\-(]{0,2}\d",
            raw_prefilter=r"(?:\+|00[ .\-]?)\d{1,3}[ .\-(]{0,2}\d",
            accept=_accept_intl,
            priority=9,
            description="phone numbers with a country code (+CC …, 00CC …, tel:+…), validated by libphonenumber",
        ),
        Detector(
            id="phone-national",
            kind="phone_number",
            category="identity",
            pattern=_CONTEXT,
            keywords=_PHONE_WORDS,
            accept=_accept_national,
            priority=9,
            description="national-format phone numbers after a phone word (Tel., mobile, call me at …)",
        ),
        Detector(
            id="phone-nanp",
            kind="phone_number",
            category="identity",
            pattern=_PAREN,
            prefilter=r"\(\d{3}\) ?\d{3}[ .\-]\d",
            raw_prefilter=r"\(\d{3}\) ?\d{3}[ .\-]\d",
            accept=_accept_national,
            priority=9,
            description="North American numbers written (415) 555-2671",
        ),
    ]
    return tuple(d.compile() for d in dets)
