"""Fuzzing the panorama reader (Hypothesis): any bytes give a result or a PanoramaError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.panorama import HEADERS, PanoramaError, read_panorama

cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["MI", "En cadrage", "NA", "12,5", "-3", "1e40", "2017-06-01", "Oui", '"']),
)
rows = st.lists(st.lists(cell, max_size=17), max_size=8)


def _csv(header: list[str], body: list[list[str]], delimiter: str) -> bytes:
    lines = [header, *body]
    return "\n".join(delimiter.join(line) for line in lines).encode("utf-8", "surrogatepass")


def _read(data: bytes) -> None:
    try:
        result = read_panorama(data, "fuzz.csv")
    except PanoramaError as error:
        assert str(error)
        return
    assert result.rows


pytestmark = pytest.mark.usefixtures("settings")
SETTINGS = settings(
    max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_the_reader(data: bytes) -> None:
    _read(data)


@SETTINGS
@given(rows, st.sampled_from([",", ";"]), st.permutations(HEADERS))
def test_random_csv_under_real_headers_never_crashes(
    body: list[list[str]], delimiter: str, header: list[str]
) -> None:
    try:
        data = _csv(header, body, delimiter)
    except UnicodeEncodeError:
        return
    _read(data)
