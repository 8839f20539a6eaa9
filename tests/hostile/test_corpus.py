"""The corpus itself: its cases are what they claim to be."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest
from openpyxl import load_workbook

from tests.hostile import corpus
from tests.hostile.support import CASES


def test_crc32_combine_agrees_with_zlib() -> None:
    a, b = b"PILOT " * 7, b"grands projets" * 13
    assert corpus.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    for times in (1, 2, 3, 10, 17):
        assert corpus.crc32_repeated(b"ab c", times) == zlib.crc32(b"ab c" * times)


def test_case_names_are_unique_and_every_case_says_what_to_do() -> None:
    assert len({c.name for c in CASES}) == len(CASES)
    for case in CASES:
        for expect in (case.gate, case.panorama, case.workbook):
            assert expect.outcome in ("refused", "warning", "accepted")
            assert expect.outcome == "accepted" or expect.fragment


def test_the_control_workbook_is_a_valid_workbook() -> None:
    workbook = load_workbook(io.BytesIO(corpus.by_name("valid_control").data), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert rows[0][0] == "Ministère porteur"
    assert len(rows) == 4


def test_the_declared_bomb_is_small_and_declares_gigabytes() -> None:
    data = corpus.by_name("zip_bomb_declared").data
    assert len(data) < 5_000_000
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sum(i.file_size for i in archive.infolist()) > 3 * 10**9


def test_the_lying_bomb_declares_kilobytes_but_inflates_far_more() -> None:
    data = corpus.by_name("zip_bomb_lying_sizes").data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        assert info.file_size == 4000
        start = info.header_offset + 30 + len(info.filename)
        raw = data[start : start + info.compress_size]
    inflater = zlib.decompressobj(-15)
    assert len(inflater.decompress(raw, 50_000_000)) == 50_000_000  # and it goes on


@pytest.mark.parametrize("name", ["macros_xlsm", "hidden_sheets", "formula_injection"])
def test_openpyxl_reads_the_content_cases(name: str) -> None:
    workbook = load_workbook(io.BytesIO(corpus.by_name(name).data), read_only=True)
    rows = list(workbook.worksheets[-1].iter_rows(values_only=True))
    workbook.close()
    assert len(rows) >= 2
