"""Text helpers: normalisation, look-alikes, formula neutralisation (Hypothesis)."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from pilot.text import FORMULA_TRIGGERS, neutralize_formula, non_latin_letters, normalize_key

FRENCH = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿ0123456789 '-’.,()/"


def _strip_accents(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@settings(max_examples=1000)
@given(st.text())
def test_normalize_key_is_idempotent(value: str) -> None:
    key = normalize_key(value)
    assert normalize_key(key) == key
    assert key == key.strip() and "  " not in key


@settings(max_examples=500)
@given(st.text(alphabet=FRENCH))
def test_normalize_key_ignores_case_and_accents(value: str) -> None:
    key = normalize_key(value)
    assert normalize_key(value.upper()) == key
    assert normalize_key(_strip_accents(value)) == key


@settings(max_examples=300)
@given(st.text(alphabet=FRENCH), st.sampled_from(["\u200b", "\ufeff", "\u00a0", "\u2060", " "]))
def test_invisible_characters_do_not_change_a_key(value: str, invisible: str) -> None:
    assert normalize_key(invisible + value + invisible) == normalize_key(value)


def test_non_latin_letters_finds_look_alikes() -> None:
    assert non_latin_letters("РRJ-00001") == "Р"  # Cyrillic Er
    assert non_latin_letters("ΜΙ") == "ΜΙ"  # Greek
    assert non_latin_letters("PRJ-00001") == ""
    assert non_latin_letters("Ministère de l'Éducation") == ""
    assert non_latin_letters("M\u200bI") == ""


@settings(max_examples=1000)
@given(st.text())
def test_neutralised_text_never_starts_with_a_formula_trigger(value: str) -> None:
    safe = neutralize_formula(value)
    assert not safe.startswith(FORMULA_TRIGGERS)
    assert safe.endswith(value)  # nothing lost


@settings(max_examples=500)
@given(st.text())
def test_neutralisation_is_idempotent_and_keeps_safe_text(value: str) -> None:
    once = neutralize_formula(value)
    assert neutralize_formula(once) == once
    if not value.startswith(FORMULA_TRIGGERS):
        assert once == value


def test_neutralize_formula_owasp_examples() -> None:
    assert neutralize_formula('=HYPERLINK("http://x","clic")') == '\'=HYPERLINK("http://x","clic")'
    assert neutralize_formula("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert neutralize_formula("@SUM(1+1)") == "'@SUM(1+1)"
    assert neutralize_formula("-2+3") == "'-2+3"
    assert neutralize_formula("\t=1") == "'\t=1"
    assert neutralize_formula("\r=1") == "'\r=1"
    assert neutralize_formula("Chorus Pro") == "Chorus Pro"
    assert neutralize_formula("") == ""
