"""Text normalisation used to match names, headers and codes.

``normalize_key("  Modernisation de l'INPT ")`` → ``"modernisation de l inpt"``: accents,
case, punctuation and runs of spaces (including non-breaking and zero-width ones) do
not make two names different.
"""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def clean_text(value: str) -> str:
    """Strip, drop invisible characters and fold every kind of space into one space."""
    value = unicodedata.normalize("NFKC", value).translate(_INVISIBLE)
    return " ".join(value.split())


def normalize_key(value: str) -> str:
    value = clean_text(value).casefold()
    value = unicodedata.normalize("NFKD", value)
    value = "".join(c for c in value if not unicodedata.combining(c))
    value = value.replace("œ", "oe").replace("æ", "ae")
    return _NON_ALNUM.sub(" ", value).strip()
