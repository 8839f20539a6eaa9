"""The panorama reader on the hostile corpus: a French error or warning, never a crash,
bounded memory, and the database unchanged when refused."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from importers.panorama import PanoramaError, import_panorama_file, read_panorama
from pilot.config import Settings
from pilot.db import session_scope
from pilot.ministries.models import Ministry
from pilot.projects.models import Project
from pilot.text import neutralize_formula
from tests.hostile import corpus
from tests.hostile.support import CASES, matches, table_counts

MB = 1024 * 1024
Limits = Callable[[dict[str, int]], Settings]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_panorama_reader_does_what_the_corpus_expects(
    case: corpus.HostileCase, apply_limits: Limits
) -> None:
    apply_limits(case.limits)
    tracemalloc.start()
    try:
        if case.panorama.outcome == "refused":
            with pytest.raises(PanoramaError) as caught:
                read_panorama(case.data, case.filename)
            assert matches(str(caught.value), case.panorama.fragment), str(caught.value)
            assert len(str(caught.value)) < 500
        else:
            result = read_panorama(case.data, case.filename)
            assert result.rows
            if case.panorama.outcome == "warning":
                assert any(matches(w, case.panorama.fragment) for w in result.warnings), (
                    result.warnings
                )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * MB, f"{case.name}: {peak / MB:.1f} MB"  # sanity bound, generous


REFUSED = [c for c in CASES if c.panorama.outcome == "refused"]


@pytest.mark.parametrize("case", REFUSED, ids=[c.name for c in REFUSED])
def test_refused_file_leaves_the_database_unchanged(
    case: corpus.HostileCase,
    engine: Engine,
    panorama_dir: Path,
    tmp_path: Path,
    apply_limits: Limits,
) -> None:
    with session_scope(engine, write=True) as session:
        import_panorama_file(session, panorama_dir / "panorama-2016-11.csv")
    apply_limits(case.limits)
    before = table_counts(engine)
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    with pytest.raises(PanoramaError), session_scope(engine, write=True) as session:
        import_panorama_file(session, path)
    assert table_counts(engine) == before


def _load(engine: Engine, tmp_path: Path, case: corpus.HostileCase) -> None:
    path = tmp_path / case.filename
    path.write_bytes(case.data)
    with session_scope(engine, write=True) as session:
        import_panorama_file(session, path)


def test_hidden_sheets_are_never_loaded(engine: Engine, tmp_path: Path) -> None:
    _load(engine, tmp_path, corpus.by_name("hidden_sheets"))
    with session_scope(engine) as session:
        codes = set(session.exec(select(Ministry.code)))
        names = set(session.exec(select(Project.name)))
    assert codes == {"MI"}
    assert "Projet caché" not in names


def test_invisible_characters_do_not_make_a_new_ministry(engine: Engine, tmp_path: Path) -> None:
    _load(engine, tmp_path, corpus.by_name("invisible_characters"))
    with session_scope(engine) as session:
        assert list(session.exec(select(Ministry.code))) == ["MI"]


def test_formula_injection_is_kept_as_text_and_neutralised_on_export(
    engine: Engine, tmp_path: Path
) -> None:
    _load(engine, tmp_path, corpus.by_name("formula_injection"))
    with session_scope(engine) as session:
        names = set(session.exec(select(Project.name)))
    assert '=HYPERLINK("http://x","clic")' in names  # nothing lost, nothing run
    assert "+cmd|' /C calc'!A0" in names
    for name in names:
        assert neutralize_formula(name)[0] not in "=+-@\t\r"


def test_absurd_amounts_are_dropped_with_a_warning_and_load(engine: Engine, tmp_path: Path) -> None:
    case = corpus.by_name("negative_and_absurd_amounts")
    result = read_panorama(case.data, case.filename)
    assert all(r.cost_meur is None or 0 <= r.cost_meur <= 100_000 for r in result.rows)
    assert any("hors des limites" in w for w in result.warnings)
    _load(engine, tmp_path, case)  # nothing overflows a BIGINT


def test_french_dates_typed_as_text_are_read() -> None:
    case = corpus.by_name("dates_as_text")
    starts = [r.start for r in read_panorama(case.data, case.filename).rows]
    assert [d.isoformat() if d else None for d in starts[:6]] == [
        "2017-01-01",
        "2017-02-01",
        "2017-03-01",
        "2017-04-01",
        "2017-05-01",
        "2018-01-01",
    ]
    assert all(d is None for d in starts[7:])  # other locales: warned, ignored


def test_a_csv_with_a_huge_field_is_refused_in_french() -> None:
    data = ('Ministère porteur,Nom du projet\nMI,"' + "x" * 200_000 + '"\n').encode()
    with pytest.raises(PanoramaError, match=r"CSV illisible|caractères"):
        read_panorama(data, "x.csv")


def test_a_csv_with_a_nul_byte_is_refused_in_french() -> None:
    with pytest.raises(PanoramaError):
        read_panorama(b"Minist\xe8re porteur,Nom du projet\nMI,A\x00B\n", "x.csv")


@pytest.mark.slow
def test_a_million_rows_are_refused_within_the_row_limit(apply_limits: Limits) -> None:
    apply_limits({})
    case = corpus.million_rows_case()
    with pytest.raises(PanoramaError, match="200000 lignes"):
        read_panorama(case.data, case.filename)


def test_many_rows_are_refused_at_the_configured_limit(apply_limits: Limits) -> None:
    apply_limits({"max_rows_per_sheet": 1000})
    case = corpus.million_rows_case(rows=5000)
    with pytest.raises(PanoramaError, match="1000 lignes"):
        read_panorama(case.data, case.filename)
