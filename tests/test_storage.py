"""Archiving: atomic, content-addressed, and a clean French refusal when the disk is full."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pilot.storage import StorageError, archive_bytes


def test_archive_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    first = archive_bytes(b"classeur", tmp_path / "uploads", suffix=".xlsx")
    again = archive_bytes(b"classeur", tmp_path / "uploads", suffix=".xlsx")
    assert first == again and first.read_bytes() == b"classeur"
    assert first.name.endswith(".xlsx") and len(first.stem) == 64
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name]


def test_disk_full_is_refused_cleanly(tiny_disk: Path) -> None:
    kept = archive_bytes(b"petit", tiny_disk)
    with pytest.raises(StorageError, match="le disque est plein") as caught:
        archive_bytes(os.urandom(200_000), tiny_disk)
    assert "n'a pas été enregistré" in str(caught.value)
    assert [p.name for p in tiny_disk.iterdir()] == [kept.name]  # no partial file left


def test_file_size_limit_is_refused_cleanly(tmp_path: Path) -> None:
    """Where no tmpfs can be mounted: the same failure through RLIMIT_FSIZE."""
    script = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from pilot.storage import StorageError, archive_bytes\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))\n"
        "try:\n"
        "    archive_bytes(b'x' * 100_000, Path(sys.argv[1]))\n"
        "except StorageError as error:\n"
        "    print(error.strerror)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert "dépasse la taille permise" in done.stdout
    assert list(tmp_path.iterdir()) == []
