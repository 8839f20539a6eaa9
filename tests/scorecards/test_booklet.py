"""The PDF booklet: tagged (PDF/UA-1's structure tree, language, title), with a title
page, contents, bookmarks, page numbers and one page per project; a confidential project
withholds its figures as the site does.

veraPDF cannot run here (no network to fetch it): these checks are what is verified of
PDF/UA; see the README for what is not."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, BooleanObject, Destination, DictionaryObject
from sqlmodel import Session

from scorecards.booklet import AUTHOR, booklet_pdf
from scorecards.view import EditionView, draft_view
from tests.scorecards.conftest import PUBLISHED_ON

DESCRIPTION = "Première ligne de la description\nDeuxième ligne, gardée à part"


def _small_edition(demo: Session) -> EditionView:
    """Four projects of the demo portfolio, VITAM (confidential) among them, the first with
    a description typed on two lines."""
    view = draft_view(demo, today=PUBLISHED_ON)
    vitam = next(r for r in view.rows if r.name == "VITAM")
    others = [r for r in view.rows if not r.confidential][:3]
    first = replace(others[0], values={**others[0].values, "description": DESCRIPTION})
    return replace(view, rows=[first, *others[1:], vitam])


def _structure_types(node: Any, found: set[str]) -> set[str]:
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, ArrayObject):
        for kid in node:
            _structure_types(kid, found)
    elif isinstance(node, DictionaryObject):
        if "/S" in node:
            found.add(str(node["/S"]))
        if "/K" in node:
            _structure_types(node["/K"], found)
    return found


@pytest.fixture
def booklet(demo: Session, tmp_path: Any) -> tuple[EditionView, PdfReader]:
    view = _small_edition(demo)
    path = tmp_path / "livret.pdf"
    path.write_bytes(booklet_pdf(view))
    return view, PdfReader(path)


def test_booklet_is_tagged_in_french_with_its_title(
    booklet: tuple[EditionView, PdfReader],
) -> None:
    _, pdf = booklet
    catalog: Any = pdf.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] == BooleanObject(True)
    assert catalog["/Lang"] == "fr"
    # A reader shows the document's title, not its file name.
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == BooleanObject(True)
    tree = catalog["/StructTreeRoot"]
    assert "/ParentTree" in tree
    types = _structure_types(tree, set())
    assert {"/H1", "/H2", "/H3", "/P", "/Table", "/TH", "/TD", "/L", "/LI", "/Link"} <= types
    assert all("/StructParents" in page for page in pdf.pages)  # every page's content tagged
    assert pdf.metadata is not None
    assert pdf.metadata.title is not None
    assert pdf.metadata.title.startswith("Panorama des grands projets numériques de l'État")
    assert pdf.metadata.author == AUTHOR and pdf.metadata.subject


def test_booklet_has_a_title_page_contents_bookmarks_and_one_page_per_project(
    booklet: tuple[EditionView, PdfReader],
) -> None:
    view, pdf = booklet
    names = [row.name for row in view.rows]
    # Title page, one page of contents, one page per project.
    assert len(pdf.pages) == 1 + 1 + len(view.rows)
    assert "Panorama des grands projets" in pdf.pages[0].extract_text()
    # A bookmark for the contents, then one for each project, at its page.
    outline = [o for o in pdf.outline if isinstance(o, Destination)]  # flat: no nested list
    assert len(outline) == len(pdf.outline)
    marks = [(str(o.title), pdf.get_destination_page_number(o)) for o in outline]
    assert marks == [("Sommaire", 1), *[(name, 2 + i) for i, name in enumerate(names)]]
    # The contents give each project's page number (as printed: from 1).
    contents = pdf.pages[1].extract_text()
    for i, row in enumerate(view.rows):
        entry = rf"{re.escape(row.name)} \({re.escape(row.ministry)}\), page {3 + i}\b"
        assert re.search(entry, contents)
    # "Page X sur Y" on every page; each project's page names it, its ministry and figures.
    for number, page in enumerate(pdf.pages, start=1):
        assert f"Page {number} sur {len(pdf.pages)}" in page.extract_text()
    for i, row in enumerate(view.rows):
        text = " ".join(pdf.pages[2 + i].extract_text().split())  # lines joined
        assert row.name in text and row.pilot_id in text and "Chiffres clés" in text
        if not row.confidential:  # health and météo in words
            assert "Santé calculée :" in text and "météo déclarée :" in text


def test_booklet_keeps_the_line_breaks_of_a_description(
    booklet: tuple[EditionView, PdfReader],
) -> None:
    _, pdf = booklet
    lines = pdf.pages[2].extract_text().splitlines()
    assert "Première ligne de la description" in lines
    assert "Deuxième ligne, gardée à part" in lines


def test_a_confidential_project_withholds_its_figures_in_the_booklet(
    booklet: tuple[EditionView, PdfReader],
) -> None:
    view, pdf = booklet
    text = " ".join(pdf.pages[2 + len(view.rows) - 1].extract_text().split())
    assert "VITAM" in text and "Chiffres non communiqués" in text
    assert "non communiqués (confidentiel)" in text and "Coûts et durées" not in text
    assert "M€" not in text and " ans" not in text  # no cost, no duration
    for weather in ("soleil", "nuageux", "orage"):
        assert weather not in text
