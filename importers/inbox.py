"""The inbox: ``<inbox>/<MINISTRY_CODE>/`` folders scanned on a schedule, one per
ministry, created by ``ensure_folders`` when the scheduler starts.

A file is picked up once it has not changed for ``SETTLE_SECONDS`` (a file still being
written is left alone), then claimed by an atomic rename into ``.processing/`` — of two
schedulers racing for the same file, exactly one rename succeeds, so a file is never
imported twice. After the import the file is moved to ``processed/`` (applied,
duplicate) or ``rejected/`` (rejected, failed), with its report beside it
(``…-rapport.xlsx``). Nothing is ever deleted.

Faults: when the database cannot be reached, or the archive cannot be written (disk
full), the claimed file goes back to the inbox and the scan stops: the next run retries.
A claim left behind by a scheduler that died mid-import (killed, machine restarted) is
given back to the inbox once it is older than ``STALE_CLAIM_SECONDS``; the import then
runs again from scratch (the interrupted one wrote nothing: its transaction never
committed). Each scan first marks ``failed`` the import rows left ``received`` past the
same bound (``intake.fail_interrupted_imports``), saying so in French.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from importers.intake import STALE_IMPORT_SECONDS, ImportOutcome, fail_interrupted_imports, submit
from importers.workbook.report import issues_of, report_workbook
from pilot import db
from pilot.config import Settings, get_settings
from pilot.db import is_unavailable
from pilot.imports.models import ImportStatus
from pilot.ministries.models import Ministry
from pilot.storage import StorageError

log = logging.getLogger(__name__)
SETTLE_SECONDS = 2.0
STALE_CLAIM_SECONDS = STALE_IMPORT_SECONDS  # 15 min: longer than any import within the limits
PROCESSING, PROCESSED, REJECTED = ".processing", "processed", "rejected"
ACCEPTED_SUFFIXES = {".xlsx", ".xlsm", ".ods"}


@dataclass(frozen=True)
class InboxResult:
    path: Path  # where the file now is
    outcome: ImportOutcome


def _ready(path: Path, settle: float) -> bool:
    if path.name.startswith((".", "~$")) or path.suffix.lower() in {".part", ".tmp", ".crdownload"}:
        return False
    try:
        first = path.stat()
    except FileNotFoundError:
        return False
    return time.time() - first.st_mtime >= settle and first.st_size > 0


def _claim(path: Path) -> Path | None:
    """Atomically move the file out of the scanned folder; None if another took it."""
    folder = path.parent / PROCESSING
    folder.mkdir(exist_ok=True)
    target = folder / f"{secrets.token_hex(6)}-{path.name}"
    try:
        os.rename(path, target)
    except (FileNotFoundError, PermissionError):
        return None
    return target


def _unclaim(claimed: Path) -> Path:
    """Give a claimed file back to its ministry's inbox folder, under its original name."""
    original = claimed.name.split("-", 1)[1]
    target = _unique(claimed.parent.parent, original)
    os.rename(claimed, target)
    return target


def recover_stale_claims(folder: Path, *, older_than: float = STALE_CLAIM_SECONDS) -> list[Path]:
    """Give back claims whose scheduler died before finishing them."""
    processing = folder / PROCESSING
    if not processing.is_dir():
        return []
    recovered = []
    for claimed in sorted(processing.iterdir()):
        try:
            age = time.time() - claimed.stat().st_ctime
        except FileNotFoundError:
            continue
        if claimed.is_file() and age >= older_than:
            recovered.append(_unclaim(claimed))
            log.warning("inbox: %s given back after an interrupted import", recovered[-1])
    return recovered


def _unique(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{stem} ({n}){suffix}"
    return candidate


def process_file(claimed: Path, ministry_code: str, engine: Engine) -> InboxResult:
    original = claimed.name.split("-", 1)[1]
    data = claimed.read_bytes()
    outcome = submit(
        data=data,
        filename=original,
        ministry_code=ministry_code,
        submitted_by="inbox",
        channel="inbox",
        engine=engine,
    )
    ok = outcome.status in (ImportStatus.APPLIED.value, ImportStatus.DUPLICATE.value)
    folder = claimed.parent.parent / (PROCESSED if ok else REJECTED)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = _unique(folder, f"{stamp}-import{outcome.import_id}-{original}")
    os.rename(claimed, target)
    try:
        with db.session_scope(engine) as session:
            issues = issues_of(session, outcome.import_id)
        report = report_workbook(data, issues)
        target.with_name(f"{target.stem}-rapport.xlsx").write_bytes(report)
    except Exception:  # the import is recorded; a missing report must not stop the scan
        log.exception("could not write the report of import %s", outcome.import_id)
    return InboxResult(target, outcome)


def ensure_folders(settings: Settings | None = None, engine: Engine | None = None) -> list[Path]:
    """Create the inbox and one folder per ministry (``<inbox>/<CODE>/``) where missing, so
    that each ministry finds its folder before its first file; returns the folders created.
    Called by the scheduler at start (and on each run: a new ministry gets its folder)."""
    settings = settings or get_settings()
    engine = engine or db.get_engine()
    root = settings.inbox_path
    try:
        with db.session_scope(engine) as session:
            codes = [m.code for m in session.exec(select(Ministry).order_by(col(Ministry.code)))]
    except DBAPIError as error:
        if not is_unavailable(error):
            raise
        log.warning("inbox: ministry folders not checked: %s", error)
        return []
    created = []
    for code in codes:
        if not code or code.startswith(".") or "/" in code or os.sep in code:
            continue  # not a folder name (codes are letters: never expected)
        folder = root / code
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            created.append(folder)
    if created:
        log.info("inbox: folders created for %s", ", ".join(p.name for p in created))
    return created


def scan_inbox(
    settings: Settings | None = None,
    engine: Engine | None = None,
    *,
    settle_seconds: float = SETTLE_SECONDS,
    stale_claim_seconds: float = STALE_CLAIM_SECONDS,
) -> list[InboxResult]:
    """Import every settled file of every ministry folder once."""
    settings = settings or get_settings()
    engine = engine or db.get_engine()
    try:
        fail_interrupted_imports(engine, older_than=stale_claim_seconds)
    except DBAPIError as error:
        if not is_unavailable(error):
            raise
        log.warning("inbox: interrupted imports not checked: %s", error)
    root = settings.inbox_path
    results: list[InboxResult] = []
    if not root.is_dir():
        return results
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        recover_stale_claims(folder, older_than=stale_claim_seconds)
        for path in sorted(folder.iterdir()):
            if not path.is_file() or not _ready(path, settle_seconds):
                continue
            claimed = _claim(path)
            if claimed is None:
                continue
            try:
                results.append(process_file(claimed, folder.name, engine))
            except (StorageError, DBAPIError) as error:
                if isinstance(error, DBAPIError) and not is_unavailable(error):
                    raise
                _unclaim(claimed)
                log.warning("inbox: %s left for the next run: %s", path.name, error)
                return results  # the database or the disk is down: retry on the next run
    return results
