"""Each tolerance of the panorama reader, on a small file written by the test itself."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from importers.panorama import HEADERS, PanoramaError, read_panorama
from pilot.indicators.figures import compute_figures
from tests.importers.panorama_files import csv_text, row, xlsx_bytes


def test_semicolon_separated_csv_is_read() -> None:
    panorama = read_panorama(
        csv_text([row(name="A", cost="12,5"), row(name="B")], delimiter=";").encode(), "a.csv"
    )
    assert [r.name for r in panorama.rows] == ["A", "B"]
    assert panorama.rows[0].cost_meur == Decimal("12.5")


def test_comma_separated_csv_with_commas_inside_quoted_values_is_read() -> None:
    panorama = read_panorama(
        csv_text([row(zone="Fiscalité indirecte, Dédouanement", cost="12.5")]).encode(), "a.csv"
    )
    assert panorama.rows[0].functional_zone == "Fiscalité indirecte, Dédouanement"
    assert panorama.rows[0].cost_meur == Decimal("12.5")


def test_utf8_with_bom_is_read() -> None:
    data = b"\xef\xbb\xbf" + csv_text([row(name="Télédéclaration")]).encode("utf-8")
    panorama = read_panorama(data, "a.csv")
    assert panorama.rows[0].name == "Télédéclaration"
    assert panorama.rows[0].ministry_code == "MJ"  # the first header was found despite the BOM


def test_utf8_without_bom_is_read() -> None:
    panorama = read_panorama(csv_text([row(name="Télédéclaration")]).encode("utf-8"), "a.csv")
    assert panorama.rows[0].name == "Télédéclaration"


def test_windows_1252_is_read() -> None:
    text = csv_text([row(name="Système d’information œuvres", zone="Sécurité")], delimiter=";")
    panorama = read_panorama(text.encode("cp1252"), "a.csv")
    assert panorama.rows[0].name == "Système d’information œuvres"
    assert panorama.rows[0].functional_zone == "Sécurité"
    assert panorama.rows[0].phase == "Conception / Réalisation"


def test_xlsx_with_french_date_strings_is_read() -> None:
    panorama = read_panorama(xlsx_bytes([row(start="2017-01-15")]), "a.xlsx")
    assert panorama.rows[0].raw["Début"] == "15/01/2017"
    assert panorama.rows[0].start == date(2017, 1, 15)
    assert panorama.published_on() == date(2017, 6, 1)
    assert panorama.rows[0].cost_meur == Decimal("52.0")


def test_xlsx_with_real_date_cells_is_read() -> None:
    panorama = read_panorama(xlsx_bytes([row(start="2017-01-15")], real_dates=True), "a.xlsx")
    assert panorama.rows[0].start == date(2017, 1, 15)
    assert panorama.published_on() == date(2017, 6, 1)


def test_header_below_a_title_line_is_found() -> None:
    panorama = read_panorama(xlsx_bytes([row(name="A")], title_rows=2), "a.xlsx")
    assert [r.name for r in panorama.rows] == ["A"]
    assert panorama.rows[0].line == 4  # the spreadsheet row a person sees


def test_trailing_spaces_case_and_accents_in_headers_do_not_matter() -> None:
    headers = [f"{h} " for h in HEADERS]
    headers[0] = "MINISTERE PORTEUR  "
    panorama = read_panorama(csv_text([row(name="A")], headers=headers).encode(), "a.csv")
    assert panorama.rows[0].ministry_code == "MJ"
    assert panorama.rows[0].cost_meur == Decimal("52.0")


def test_empty_trailing_columns_and_blank_lines_are_ignored() -> None:
    text = csv_text([row(name="A"), row(name="B")], extra_empty_columns=11) + ",,,,\r\n" * 5
    panorama = read_panorama(text.encode(), "a.csv")
    assert [r.name for r in panorama.rows] == ["A", "B"]


def test_multi_line_descriptions_stay_in_their_row() -> None:
    description = "Premier paragraphe ;\nsecond paragraphe, avec une virgule.\n\nFin."
    panorama = read_panorama(
        csv_text([row(name="A", description=description), row(name="B")]).encode(), "a.csv"
    )
    assert [r.name for r in panorama.rows] == ["A", "B"]
    assert panorama.rows[0].description == description


@pytest.mark.parametrize("unknown", ["En cadrage", "NA", "", "  ", "N/A"])
def test_unknown_numeric_cells_are_unknown_not_zero(unknown: str) -> None:
    rows = [
        row(name="A", cost="10", duration="2", bracket="entre 9 et 20 M€"),
        row(name="B", cost=unknown, duration=unknown, phase="Cadrage", bracket="En cadrage"),
    ]
    panorama = read_panorama(csv_text(rows).encode(), "a.csv")
    b = panorama.rows[1]
    assert (b.cost_meur, b.duration_years, b.cost_bracket) == (None, None, "En cadrage")
    assert panorama.warnings == []
    figures = compute_figures(r.portfolio_row() for r in panorama.rows)
    assert figures.mean_duration_years == Decimal("2.0")  # B is left out, not counted as 0
    assert figures.costed_projects == 1


def test_decimal_comma_and_decimal_point_give_the_same_value() -> None:
    rows = [row(name="A", cost="52,4", duration="3,5"), row(name="B", cost="52.4", duration="3.5")]
    a, b = read_panorama(csv_text(rows, delimiter=";").encode(), "a.csv").rows
    assert a.cost_meur == b.cost_meur == Decimal("52.4")
    assert a.duration_years == b.duration_years == Decimal("3.5")
    assert a.cost_eur == 52_400_000


def test_functional_zones_differing_by_case_or_accents_are_one_zone() -> None:
    rows = [
        row(name="A", zone="Ressources Humaines"),
        row(name="B", zone="ressources humaines "),
        row(name="C", zone="RESSOURCES HUMAINES"),
        row(name="D", zone="Sécurité intérieure"),
        row(name="E", zone="Securite Interieure"),
    ]
    panorama = read_panorama(csv_text(rows).encode(), "a.csv")
    assert panorama.rows[1].raw["Zone fonctionnelle"] == "ressources humaines "  # original kept
    figures = compute_figures(r.portfolio_row() for r in panorama.rows)
    assert figures.by_functional_zone == {"Ressources Humaines": 3, "Sécurité intérieure": 2}


@pytest.mark.parametrize(
    ("financing", "programmes"),
    [
        ("Coordination du travail gouvernemental (P129)", [129]),
        ("Programmes 156/349/218", [156, 349, 218]),
        ("Police nationale (P176) à 80% / Administration territoriale (P307) à 16,8%", [176, 307]),
        ("Financement PLFSS", []),
    ],
)
def test_programmes_are_parsed_and_the_original_text_kept(
    financing: str, programmes: list[int]
) -> None:
    parsed = read_panorama(csv_text([row(financing=financing)]).encode(), "a.csv").rows[0]
    assert parsed.programmes == programmes
    assert parsed.financing == financing


def test_a_cost_bracket_that_disagrees_with_the_cost_warns_and_the_cost_wins() -> None:
    rows = [row(name="A", cost="7", bracket="entre 20 et 100 M€")]
    panorama = read_panorama(csv_text(rows).encode(), "a.csv")
    assert panorama.rows[0].cost_bracket == "entre 5 et 9 M€"
    assert len(panorama.warnings) == 1
    assert "entre 20 et 100 M€" in panorama.warnings[0] and "ligne 2" in panorama.warnings[0]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2015-01-01", date(2015, 1, 1)),
        ("01/01/2017", date(2017, 1, 1)),
        ("janvier 2015", date(2015, 1, 1)),
        ("octobre 14", date(2014, 10, 1)),
        ("1er janvier 2015", date(2015, 1, 1)),
    ],
)
def test_iso_and_french_dates_are_read(written: str, expected: date) -> None:
    assert read_panorama(csv_text([row(start=written)]).encode(), "a.csv").rows[0].start == expected


def test_an_unreadable_value_is_a_warning_and_the_value_is_ignored() -> None:
    panorama = read_panorama(csv_text([row(cost="beaucoup")]).encode(), "a.csv")
    assert panorama.rows[0].cost_meur is None
    assert "beaucoup" in panorama.warnings[0]


def test_missing_required_columns_give_a_french_error() -> None:
    with pytest.raises(PanoramaError, match="obligatoires"):
        read_panorama(b"Nom;Prenom\nA;B\n", "a.csv")


def test_rows_without_ministry_or_name_are_all_reported() -> None:
    rows = [row(name=""), row(name="B"), row(code="", ministry="")]
    with pytest.raises(PanoramaError) as error:
        read_panorama(csv_text(rows).encode(), "a.csv")
    assert "Ligne 2" in str(error.value) and "Ligne 4" in str(error.value)


def test_an_empty_file_gives_a_french_error() -> None:
    with pytest.raises(PanoramaError, match="vide"):
        read_panorama(b"  \n", "a.csv")


def test_utf16_text_exported_by_excel_is_read() -> None:
    data = b"\xff\xfe" + csv_text([row(name="Télé")], delimiter="\t").encode("utf-16-le")
    panorama = read_panorama(data, "a.txt")
    assert panorama.rows[0].name == "Télé" and panorama.rows[0].cost_meur == Decimal("52.0")
