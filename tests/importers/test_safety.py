"""The safety gate on every hostile case: a clear French refusal, bounded memory."""

from __future__ import annotations

import io
import tracemalloc

import openpyxl
import pytest
from openpyxl import load_workbook

from importers.safety import UnsafeFile, check_workbook_bytes, inspect_workbook, sniff
from pilot.config import Settings
from tests.hostile import corpus
from tests.hostile.support import CASES, matches

MB = 1024 * 1024


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_gate_does_what_the_corpus_expects(case: corpus.HostileCase) -> None:
    settings = Settings.model_validate(case.limits)
    tracemalloc.start()
    try:
        if case.gate.outcome == "refused":
            with pytest.raises(UnsafeFile) as caught:
                check_workbook_bytes(case.data, case.filename, settings)
            assert matches(str(caught.value), case.gate.fragment), str(caught.value)
            assert str(caught.value).startswith(case.filename)
        else:
            info = inspect_workbook(case.data, case.filename, settings)
            if case.gate.outcome == "warning":
                assert any(matches(w, case.gate.fragment) for w in info.warnings), info.warnings
            else:
                assert info.warnings == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # sanity bound, generous: the gate streams, it never holds an inflated part
    assert peak < 32 * MB, f"{case.name}: {peak / MB:.1f} MB"


def test_unsafe_file_is_a_value_error() -> None:
    assert issubclass(UnsafeFile, ValueError)


def test_openpyxl_parses_with_defusedxml() -> None:
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize(
    "name",
    [
        "billion_laughs_in_sheet",
        "xxe_in_sheet",
        "billion_laughs_in_sharedStrings",
        "xxe_in_sharedStrings",
    ],
)
def test_openpyxl_alone_refuses_entities_too(name: str) -> None:
    """Defence in depth: even without the gate, defusedxml stops the expansion."""
    data = corpus.by_name(name).data
    with pytest.raises(Exception) as caught:
        workbook = load_workbook(io.BytesIO(data), read_only=True)
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                assert "root:" not in " ".join(str(v) for v in row)
    chain: list[BaseException] = []
    error: BaseException | None = caught.value
    while error is not None and len(chain) < 10:  # openpyxl wraps the parser's exception
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(type(e).__module__.startswith("defusedxml") for e in chain), repr(chain)


def test_limits_come_from_the_settings() -> None:
    valid = corpus.by_name("valid_control").data
    check_workbook_bytes(valid, "ok.xlsx", Settings())
    with pytest.raises(UnsafeFile, match="décompressé"):
        check_workbook_bytes(valid, "ok.xlsx", Settings(max_uncompressed_bytes=1000))
    with pytest.raises(UnsafeFile, match="éléments"):
        check_workbook_bytes(valid, "ok.xlsx", Settings(max_zip_entries=3))


def test_a_dtd_split_across_two_chunks_is_still_seen() -> None:
    # the marker straddles the 64 KiB chunk boundary of the scan
    padding = " " * (64 * 1024 - 5)
    sheet = f'<?xml version="1.0"?>{padding}<!DOCTYPE x []><worksheet/>'.encode()
    entries = corpus.xlsx_entries([corpus.Sheet("Feuil1")])
    entries[-1] = corpus.Entry("xl/worksheets/sheet1.xml", sheet)
    with pytest.raises(UnsafeFile, match="DTD"):
        check_workbook_bytes(corpus.zip_bytes(entries), "x.xlsx", Settings())


def test_the_highly_compressible_but_honest_part_is_refused_by_ratio() -> None:
    part = corpus.bomb_part("xl/worksheets/sheet1.xml", 50 * MB)
    data = corpus.xlsx([corpus.Sheet("Feuil1")], sheet_parts={1: part})
    with pytest.raises(UnsafeFile, match="fois"):
        check_workbook_bytes(data, "x.xlsx", Settings())


def test_sniff_tells_the_formats_apart() -> None:
    assert sniff(corpus.by_name("valid_control").data) == "zip"
    assert sniff(corpus.fake_ole()) == "ole"
    assert sniff("Ministère;Nom\n".encode()) == "text"
    assert sniff(bytes(range(256))) == "binary"
