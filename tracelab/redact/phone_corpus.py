"""A planted set of phone numbers in international formats, for recall (tests and benchmarks).

Numbers are drawn from libphonenumber's own example numbers of 30 regions (mobile and fixed line),
with their last digits re-drawn until the number is still valid, so every planted value is a
number a real person in that country could have. Each is written in one of the formats people
use — E.164, the ITU international format, ``00`` trunk prefix, ``tel:`` URI, dotted or dashed
international, North American ``(415) 555-2671``, and the national format after a phone word —
and placed in a carrier (prose, a signature, a CSV row, a JSON tool result, a YAML config).

:func:`planted_phones` returns :class:`Planted` items; a number is *caught* when its written form
no longer occurs in the redactor's output.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

__all__ = ["Planted", "planted_phones", "REGIONS", "FORMATS"]

REGIONS = (
    "US",
    "CA",
    "GB",
    "IE",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "BE",
    "CH",
    "AT",
    "SE",
    "NO",
    "PL",
    "PT",
    "BR",
    "MX",
    "AR",
    "IN",
    "JP",
    "KR",
    "CN",
    "AU",
    "NZ",
    "ZA",
    "NG",
    "KE",
    "SG",
    "AE",
)

FORMATS = ("e164", "international", "intl_dashed", "intl_dotted", "trunk00", "tel_uri", "national_after_word", "nanp_parens")

_WORDS = ("Phone:", "Tel.", "tel:", "Mobile", "call me at", "Cell:", "WhatsApp", "Fax", "contact number", "ring me on", "Telefon:", "SMS")


@dataclass(frozen=True)
class Planted:
    region: str
    fmt: str
    written: str  # the number as it appears in the text
    text: str  # the carrier text or JSON line


def _random_valid(rng: random.Random, region: str, kind: int) -> phonenumbers.PhoneNumber | None:
    ex = phonenumbers.example_number_for_type(region, kind)
    if ex is None:
        return None
    nsn = str(ex.national_number)
    for _ in range(50):
        k = min(4, len(nsn) - 2)
        cand = nsn[:-k] + "".join(rng.choice("0123456789") for _ in range(k))
        num = phonenumbers.PhoneNumber(country_code=ex.country_code, national_number=int(cand))
        if ex.italian_leading_zero:
            num.italian_leading_zero = True
        if phonenumbers.is_valid_number(num):
            return num
    return ex


def _write(rng: random.Random, num: phonenumbers.PhoneNumber, fmt: str) -> str | None:
    intl = phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL)
    if fmt == "e164":
        return phonenumbers.format_number(num, PhoneNumberFormat.E164)
    if fmt == "international":
        return intl
    if fmt == "intl_dashed":
        return intl.replace(" ", "-")
    if fmt == "intl_dotted":
        return intl.replace(" ", ".").replace("-", ".")
    if fmt == "trunk00":
        return "00" + intl[1:]
    if fmt == "tel_uri":
        return phonenumbers.format_number(num, PhoneNumberFormat.RFC3966)
    if fmt == "nanp_parens":
        if num.country_code != 1:
            return None
        return phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL)


def _carry(rng: random.Random, written: str, fmt: str) -> str:
    word = rng.choice(_WORDS) if fmt == "national_after_word" else rng.choice(("", "", "Phone: ", "call ", "number "))
    said = f"{word} {written}".strip() if word else written
    style = rng.randrange(5)
    if style == 0:
        return f"Thanks! If anything breaks, {said} and ask for Dana."
    if style == 1:
        return f"Best regards,\nDana Smith\nSupport lead\n{said}\n"
    if style == 2:
        return f"id,name,phone\n17,Dana,{written}\n18,Lee,n/a\n"
    if style == 3:
        return json.dumps({"type": "tool_result", "content": f"contact:\n  name: Dana\n  {('phone: ' + written) if not word else said}\n"})
    return json.dumps({"role": "user", "content": [{"type": "text", "text": f"Please update my profile: {said}."}]})


def planted_phones(seed: int = 7, per_region: int = 4) -> list[Planted]:
    """``per_region`` numbers (mobile and fixed line alternating) per region, in formats drawn
    round-robin from :data:`FORMATS` (``nanp_parens`` only for +1 numbers)."""
    rng = random.Random(seed)
    out: list[Planted] = []
    fi = 0
    for region in REGIONS:
        for i in range(per_region):
            num = _random_valid(rng, region, PhoneNumberType.MOBILE if i % 2 == 0 else PhoneNumberType.FIXED_LINE)
            if num is None:
                continue
            if region in ("US", "CA") and i == 1:
                fmt = "nanp_parens"
            else:
                fmt = FORMATS[fi % len(FORMATS)]
                fi += 1
            written = _write(rng, num, fmt)
            if written is None:
                fmt = "international"
                written = _write(rng, num, fmt)
            assert written is not None
            out.append(Planted(region, fmt, written, _carry(rng, written, fmt)))
    return out
