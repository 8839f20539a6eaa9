"""Text normalisation used to match names, headers and codes; ``keep_text`` for free text
stored as typed.

``normalize_key("  Modernisation de l'INPT ")`` → ``"modernisation de l inpt"``: accents,
case, punctuation and runs of spaces (including non-breaking and zero-width ones) do
not make two names different.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import filterfalse

# Zero-width characters and the control characters that are no whitespace (NUL first:
# PostgreSQL refuses it in any text, so it must never get that far).
_CONTROLS = "".join(chr(c) for c in (*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F))
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad" + _CONTROLS
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS), None)
_HAS_INVISIBLE = re.compile(f"[{re.escape(_INVISIBLE_CHARS)}]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def clean_text(value: str) -> str:
    """Strip, drop invisible characters and fold every kind of space into one space."""
    if not unicodedata.is_normalized("NFKC", value) or _HAS_INVISIBLE.search(value):
        value = unicodedata.normalize("NFKC", value).translate(_INVISIBLE)
    return " ".join(value.split())


_LINE_ENDINGS = re.compile(r"\r\n?")


def keep_text(value: str) -> str:
    """Free text as it was typed (a description, a comment): only the invisible and control
    characters are dropped, line endings become ``\n`` and surrounding spaces are
    stripped; line breaks, non-breaking spaces and "…" are kept. Compare and match with
    ``clean_text``/``normalize_key``, never store their result for such a text."""
    if _HAS_INVISIBLE.search(value):
        value = value.translate(_INVISIBLE)
    if "\r" in value:
        value = _LINE_ENDINGS.sub("\n", value)
    return value.strip()


@lru_cache(maxsize=1 << 16)
def normalize_key(value: str) -> str:
    """Cached: one import asks for the key of each name several times (its checks, the
    project, its recorded names) and for the same zones and choices thousands of times."""
    value = clean_text(value).casefold()
    value = unicodedata.normalize("NFKD", value)
    value = "".join(filterfalse(unicodedata.combining, value))  # accents dropped
    value = value.replace("œ", "oe").replace("æ", "ae")
    return _NON_ALNUM.sub(" ", value).strip()


def non_latin_letters(value: str) -> str:
    """The letters of ``value`` that are not Latin (Cyrillic "Р", Greek "Ο"…), which look
    like Latin ones in codes and identifiers: ``non_latin_letters("РRJ-00001")`` → ``"Р"``."""
    found = []
    for char in clean_text(value):
        if char.isalpha() and "LATIN" not in unicodedata.name(char, "") and char not in found:
            found.append(char)
    return "".join(found)


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(value: str) -> str:
    """A text made safe for a spreadsheet cell or a CSV field (OWASP "CSV injection"):
    when it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, a
    spreadsheet could run it as a formula, so it is prefixed with an apostrophe, which
    spreadsheets show as text. Other texts are returned unchanged.

    ``neutralize_formula('=HYPERLINK("http://x","clic")')`` → ``'\'=HYPERLINK(...)'``.
    """
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
