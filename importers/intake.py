"""The one entry point every channel calls (CLI, HTTP upload, GraphQL, inbox).

``submit`` archives the bytes unchanged (by SHA-256) before anything else, records an
``ImportFile`` row, then in one write transaction, serialised per ministry (and holding
the write lock while the workbook is read, see ``_apply``), reads the workbook sheet by
sheet, validates each sheet (every finding) and writes it while no error has been found;
any error rolls everything back (rejected, nothing changed). A dry run reads, then
validates, outside any write transaction. Re-sending a file already applied for the
same ministry changes nothing and says so (``duplicate``). The import row and its
findings are always recorded, even when the workbook is rejected.

An import whose process died (killed, machine restarted) leaves its row ``received``:
``fail_interrupted_imports``, run at the start of every import and of every inbox scan,
marks it ``failed`` once it is older than ``STALE_IMPORT_SECONDS``, with a French finding
(nothing was applied: its transaction never committed).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col

from importers.workbook.apply import Inline, Writer, WriterThread, apply
from importers.workbook.columns import SHEETS
from importers.workbook.findings import Issue, count_errors
from importers.workbook.reader import (
    OpenedWorkbook,
    WorkbookData,
    WorkbookError,
    open_workbook,
    read_workbook,
)
from importers.workbook.state import foreign_owners, load_state
from importers.workbook.validate import (
    Checker,
    parse_sheet_rows,
    referenced_ids,
    sheet_referenced_ids,
    validate,
)
from pilot import db
from pilot.config import Settings, get_settings
from pilot.db import is_unavailable
from pilot.imports.models import Finding, ImportFile, ImportStatus, Severity
from pilot.ministries import service as ministries
from pilot.ministries.models import Ministry
from pilot.storage import archive_bytes
from pilot.timeutil import today, utcnow

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
STALE_IMPORT_SECONDS = 15 * 60  # longer than any import of a file within the size limits


@dataclass(frozen=True)
class ImportOutcome:
    import_id: int
    status: str  # pilot.imports.models.ImportStatus value
    duplicate: bool  # same SHA-256 already applied for this ministry: nothing changed
    errors: int
    warnings: int
    counts: dict[str, int]


class _Rejected(Exception):
    """Validation found errors: roll the write transaction back."""

    def __init__(self, issues: list[Issue], counts: dict[str, int]) -> None:
        super().__init__(len(issues))
        self.issues = issues
        self.counts = counts


class _NoLongerReceived(Exception):
    """The import row was finished meanwhile (marked interrupted): roll back, change nothing."""

    def __init__(self, import_id: int) -> None:
        super().__init__(import_id)
        self.import_id = import_id


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def archive(data: bytes, sha256: str, filename: str, settings: Settings) -> Path:
    """Store the bytes unchanged under ``uploads/<aa>/<sha256><suffix>`` (once), atomically
    (``pilot.storage``): a full disk raises a French ``StorageError`` and leaves nothing."""
    suffix = Path(_SAFE_NAME.sub("_", filename)).suffix.lower()[:10]
    return archive_bytes(data, settings.uploads_path / sha256[:2], suffix=suffix)


def _record(
    engine: Engine,
    *,
    data: bytes,
    sha256: str,
    stored: Path,
    filename: str,
    ministry: str,
    submitted_by: str,
    channel: str,
    dry_run: bool,
) -> tuple[int, int | None]:
    with db.session_scope(engine, write=True) as session:
        found = ministries.get_by_code(session, ministry) if ministry.strip() else None
        record = ImportFile(
            kind="workbook",
            ministry_id=found.id if found else None,
            filename=(filename or "classeur")[:500],
            sha256=sha256,
            size_bytes=len(data),
            stored_path=str(stored),
            submitted_by=submitted_by[:200],
            channel=channel[:20],
            dry_run=dry_run,
            status=ImportStatus.RECEIVED.value,
        )
        session.add(record)
        session.flush()
        assert record.id is not None
        return record.id, found.id if found else None


def _finish(
    session: Session,
    import_id: int,
    status: ImportStatus,
    issues: list[Issue],
    counts: dict[str, int],
    message: str | None = None,
) -> ImportOutcome:
    errors = count_errors(issues)
    warnings = len(issues) - errors
    counts = {**counts, "errors": errors, "warnings": warnings}
    result = session.execute(
        update(ImportFile)
        .where(
            col(ImportFile.id) == import_id,
            col(ImportFile.status) == ImportStatus.RECEIVED.value,  # finished once only
        )
        .values(status=status.value, counts=counts, message=message, finished_at=utcnow())
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        raise _NoLongerReceived(import_id)
    if issues:
        session.execute(
            insert(Finding),
            [
                {
                    "import_id": import_id,
                    "sheet": i.sheet[:100] if i.sheet else None,
                    "row": i.row,
                    "column": i.column,
                    "field": i.field,
                    "value": i.value,
                    "code": i.code,
                    "message": i.message,
                    "severity": i.severity.value,
                }
                for i in issues
            ],
        )
    return ImportOutcome(
        import_id=import_id,
        status=status.value,
        duplicate=status == ImportStatus.DUPLICATE,
        errors=errors,
        warnings=warnings,
        counts=counts,
    )


def _finish_alone(engine: Engine, import_id: int, *args: object, **kwargs: object) -> ImportOutcome:
    with db.session_scope(engine, write=True) as session:
        return _finish(session, import_id, *args, **kwargs)  # type: ignore[arg-type]


_INTERRUPTED = "L'import a été interrompu avant sa fin (processus arrêté) : rien n'a été appliqué."
_RESEND = " Renvoyez le fichier."
_GIVEN_BACK = " Le fichier a été remis dans la boîte de dépôt pour être importé de nouveau."


def fail_interrupted_imports(
    engine: Engine | None = None, *, older_than: float = STALE_IMPORT_SECONDS
) -> list[int]:
    """Mark ``failed`` every import still ``received`` after ``older_than`` seconds, with a
    French finding, in its own short transaction; return their ids.

    Such an import's process died mid-import: its single write transaction never
    committed, so nothing was applied (an inbox file comes back to the inbox after the same
    bound, ``importers.inbox``). A running import is younger than the bound; were one to
    outlive it, its own ``_finish`` would find the row no longer ``received`` and roll its
    work back, so the row never lies. Each row is finished once (``status = 'received'``
    in the ``UPDATE``): of two processes marking it, one does.
    """
    engine = engine or db.get_engine()
    cutoff = utcnow() - timedelta(seconds=older_than)
    stale = (
        select(col(ImportFile.id), col(ImportFile.channel))
        .where(
            col(ImportFile.status) == ImportStatus.RECEIVED.value,
            col(ImportFile.received_at) < cutoff,
        )
        .order_by(col(ImportFile.id))
    )
    with db.session_scope(engine) as session:
        rows = session.execute(stale).all()
    if not rows:
        return []
    marked = []
    with db.session_scope(engine, write=True) as session:
        for import_id, channel in rows:
            text = _INTERRUPTED + (_GIVEN_BACK if channel == "inbox" else _RESEND)
            try:
                _finish(
                    session,
                    import_id,
                    ImportStatus.FAILED,
                    [Issue("interrupted", text)],
                    {},
                    message=f"interrupted: still received after {older_than:g} s",
                )
            except _NoLongerReceived:
                continue  # finished meanwhile, or marked by another process
            marked.append(import_id)
    for import_id in marked:
        log.warning("import %s was interrupted before its end: marked failed", import_id)
    return marked


def _outcome_of(engine: Engine, import_id: int) -> ImportOutcome:
    with db.session_scope(engine) as session:
        row = session.get(ImportFile, import_id)
        assert row is not None
        counts = dict(row.counts)
        return ImportOutcome(
            import_id=import_id,
            status=row.status,
            duplicate=row.status == ImportStatus.DUPLICATE.value,
            errors=int(counts.get("errors", 0)),
            warnings=int(counts.get("warnings", 0)),
            counts=counts,
        )


def _lock_ministry(session: Session, ministry_id: int) -> None:
    """Serialise imports of one ministry (SQLite's BEGIN IMMEDIATE already serialises)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(col(Ministry.id)).where(col(Ministry.id) == ministry_id).with_for_update()
        )


def _already_applied(session: Session, ministry_id: int, sha256: str, import_id: int) -> int | None:
    return session.execute(
        select(col(ImportFile.id))
        .where(
            col(ImportFile.ministry_id) == ministry_id,
            col(ImportFile.sha256) == sha256,
            col(ImportFile.status) == ImportStatus.APPLIED.value,
            col(ImportFile.id) != import_id,
        )
        .limit(1)
    ).scalar()


def _row_counts(workbook: WorkbookData, sizes: dict[str, int] | None = None) -> dict[str, int]:
    """Rows read per sheet (``sizes``: counted before the rows were released)."""
    return {
        f"rows_{name.lower()}": sizes[name] if sizes is not None else len(s.rows)
        for name, s in workbook.sheets.items()
    }


_gc_lock = threading.Lock()
_gc_paused = 0  # imports running with the cyclic garbage collector paused
_gc_was_enabled = False


@contextmanager
def _gc_paused_during_import() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while an import runs: a big workbook makes
    millions of tuples and lists, none of them cyclic garbage, and the collector kept
    walking them (a sixth of the import's CPU). Reference counting still frees memory as
    usual. Imports running at once in threads share one pause, counted."""
    global _gc_paused, _gc_was_enabled
    with _gc_lock:
        if _gc_paused == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_paused += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_paused -= 1
            if _gc_paused == 0 and _gc_was_enabled:
                gc.enable()


def submit(
    *,
    data: bytes,
    filename: str,
    ministry_code: str,
    submitted_by: str,
    channel: str,
    dry_run: bool = False,
    engine: Engine | None = None,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Import a ministry workbook (see the module docstring); never raises for bad input."""
    engine = engine or db.get_engine()
    with _gc_paused_during_import():
        try:
            return _submit(
                data=data,
                filename=filename,
                ministry_code=ministry_code,
                submitted_by=submitted_by,
                channel=channel,
                dry_run=dry_run,
                engine=engine,
                progress=progress,
            )
        except _NoLongerReceived as stopped:  # outlived the bound: marked interrupted
            return _outcome_of(engine, stopped.import_id)


def _submit(
    *,
    data: bytes,
    filename: str,
    ministry_code: str,
    submitted_by: str,
    channel: str,
    dry_run: bool,
    engine: Engine,
    progress: Progress | None,
) -> ImportOutcome:
    settings = get_settings()
    step = progress or (lambda _label: None)
    filename = filename.replace("\x00", "")  # PostgreSQL refuses NUL in any text
    sha256 = hashlib.sha256(data).hexdigest()
    stored = archive(data, sha256, filename, settings)
    try:
        fail_interrupted_imports(engine)
    except Exception as error:  # bookkeeping of past imports must not stop this one
        if isinstance(error, DBAPIError) and is_unavailable(error):
            raise
        log.exception("could not mark interrupted imports")
    import_id, ministry_id = _record(
        engine,
        data=data,
        sha256=sha256,
        stored=stored,
        filename=filename,
        ministry=ministry_code,
        submitted_by=submitted_by,
        channel=channel,
        dry_run=dry_run,
    )
    if ministry_id is None:
        issue = Issue(
            "unknown_ministry",
            f"Ministère inconnu : « {ministry_code} ». Vérifiez le code de votre ministère.",
        )
        return _finish_alone(engine, import_id, ImportStatus.REJECTED, [issue], {})
    step("lecture")
    if not dry_run:
        return _submit_streamed(
            engine, import_id, ministry_id, sha256, data, filename, settings, submitted_by, step
        )
    timings: dict[str, int] = {}
    started = time.perf_counter()
    try:
        workbook = read_workbook(data, filename, settings=settings, rows=parse_sheet_rows)
    except WorkbookError as error:
        issue = Issue("unreadable", str(error))
        return _finish_alone(engine, import_id, ImportStatus.REJECTED, [issue], {})
    timings["read_ms"] = _ms_since(started)
    counts = _row_counts(workbook)
    try:
        with db.session_scope(engine) as session:
            step("vérification")
            started = time.perf_counter()
            state = load_state(session, ministry_id, referenced_ids(workbook))
            validated = validate(workbook, state, today=today())
            timings["validate_ms"] = _ms_since(started)
            if validated.errors == 0:
                counts |= apply(
                    session,
                    validated,
                    state,
                    actor=submitted_by,
                    import_id=import_id,
                    today=today(),
                    write=False,
                )
        status = ImportStatus.REJECTED if validated.errors else ImportStatus.VALIDATED
        return _finish_alone(engine, import_id, status, validated.issues, counts | timings)
    except _NoLongerReceived:
        raise
    except Exception as error:
        return _failed(engine, import_id, error, counts)


def _failed(
    engine: Engine, import_id: int, error: Exception, counts: dict[str, int]
) -> ImportOutcome:
    log.exception("import %s failed", import_id)
    issue = Issue(
        "internal_error",
        "Une erreur inattendue a empêché l'import ; rien n'a été modifié. L'équipe PILOT "
        "en a été avertie : renvoyez le fichier plus tard.",
    )
    return _finish_alone(
        engine, import_id, ImportStatus.FAILED, [issue], counts, message=repr(error)[:2000]
    )


def _submit_streamed(
    engine: Engine,
    import_id: int,
    ministry_id: int,
    sha256: str,
    data: bytes,
    filename: str,
    settings: Settings,
    actor: str,
    step: Progress,
) -> ImportOutcome:
    """Read, check and apply (not a dry run): the safety gate first, then everything else
    in the write transaction (``_apply``); any finding of an error rolls it back."""
    try:
        opened = open_workbook(data, filename, settings=settings)
    except WorkbookError as error:
        issue = Issue("unreadable", str(error))
        return _finish_alone(engine, import_id, ImportStatus.REJECTED, [issue], {})
    counts: dict[str, int] = {}
    try:
        return _apply(engine, import_id, ministry_id, sha256, opened, actor, counts, step)
    except _Rejected as rejected:
        return _finish_alone(
            engine, import_id, ImportStatus.REJECTED, rejected.issues, rejected.counts
        )
    except WorkbookError as error:  # a sheet could not be read: nothing was applied
        issue = Issue("unreadable", _first_reading_error(data, filename, settings, error))
        return _finish_alone(engine, import_id, ImportStatus.REJECTED, [issue], {})
    except _NoLongerReceived:
        raise
    except Exception as error:
        return _failed(engine, import_id, error, counts)


def _first_reading_error(
    data: bytes, filename: str, settings: Settings, error: WorkbookError
) -> str:
    """The message ``read_workbook`` gives (reading the sheets in the file's order, it may
    stop at another sheet than the fixed order did)."""
    try:
        read_workbook(data, filename, settings=settings, rows=parse_sheet_rows)
    except WorkbookError as first:
        return str(first)
    return str(error)


def _apply(
    engine: Engine,
    import_id: int,
    ministry_id: int,
    sha256: str,
    opened: OpenedWorkbook,
    actor: str,
    counts: dict[str, int],
    step: Progress,
) -> ImportOutcome:
    """The import in one write transaction, the workbook read while it is open.

    The ministry is locked and its projects loaded first; then the sheets are read in the
    fixed order Projets, Jalons, Risques, Budget (whatever the file's), and each one, as
    soon as it is read, is checked (the identifiers it cites that are not the ministry's:
    one query) and, as long as no error has been found so far, handed to the writer.
    On SQLite the writer is a background thread that owns the connection
    (``apply.WriterThread``): the inserts of a sheet run while the next one is read, on
    the other core. After an error the remaining sheets are still checked (every finding
    is reported) but no longer written, and the transaction is rolled back: the database
    is left as it was. The findings and what is written are those of reading the whole
    workbook, checking it, then applying it.

    The write lock (SQLite: the whole database; PostgreSQL: the ministry) is therefore
    held while the workbook is read: a few seconds for 10 000 projects, milliseconds for
    a ministry's ~100 projects.
    """
    timings = {"read_ms": 0, "validate_ms": 0}
    with db.session_scope(engine, write=True) as session:
        _lock_ministry(session, ministry_id)
        previous = _already_applied(session, ministry_id, sha256, import_id)
        if previous is not None:
            for _ in opened.sheets(rows=parse_sheet_rows):  # counted, as before
                pass
            issue = Issue(
                "duplicate",
                f"Ce fichier a déjà été importé (import n° {previous}) : rien n'a changé.",
                Severity.WARNING,
            )
            counts |= _row_counts(opened.workbook())
            return _finish(session, import_id, ImportStatus.DUPLICATE, [issue], counts)
        started = time.perf_counter()
        state = load_state(session, ministry_id)
        checker = Checker(WorkbookData(opened.format, {}, []), state, today())
        threaded = session.get_bind().dialect.name == "sqlite"
        database: WriterThread | Inline
        with WriterThread() if threaded else Inline() as database:
            # created before any work is handed over: it reads the tables' largest ids
            writer = Writer(
                session,
                state,
                checker.result,
                actor=actor,
                import_id=import_id,
                today=today(),
                write=True,
                database=database,
            )
            timings["validate_ms"] += _ms_since(started)
            errors = count_errors(opened.issues)
            asked: set[int] = set()
            sizes: dict[str, int] = {}
            apply_ms = 0.0
            # closed after the last sheet: calamine's helper thread and file released now
            with closing(opened.sheets(SHEETS, rows=parse_sheet_rows)) as sheets:
                for sheet in SHEETS:
                    started = time.perf_counter()
                    _, data = next(sheets)
                    timings["read_ms"] += _ms_since(started)
                    started = time.perf_counter()
                    errors += count_errors(opened.sheet_issues.get(sheet.name, []))
                    if data is not None:
                        sizes[sheet.name] = len(data.rows)
                        checker.workbook.sheets[sheet.name] = data
                        cited = sheet_referenced_ids(data) - state.projects.keys() - asked
                        if cited:
                            asked |= cited
                            state.foreign.update(
                                database.call(partial(foreign_owners, session, ministry_id, cited))
                            )
                    before = len(checker.result.issues)
                    checker.check(sheet)
                    errors += count_errors(checker.result.issues[before:])
                    timings["validate_ms"] += _ms_since(started)
                    if errors == 0:
                        started = time.perf_counter()
                        writer.sheet(sheet)
                        checker.result.release(sheet)  # handed over: not needed any more
                        if data is not None:
                            data.rows = []
                        apply_ms += time.perf_counter() - started
            workbook = opened.workbook()
            issues = workbook.issues + checker.result.issues
            counts |= _row_counts(workbook, sizes)
            if errors:
                raise _Rejected(issues, counts | timings)
            step("enregistrement")
            started = time.perf_counter()
            counts |= writer.finish()
            database.drain()
            timings["apply_ms"] = round((apply_ms + time.perf_counter() - started) * 1000)
        return _finish(session, import_id, ImportStatus.APPLIED, issues, counts | timings)


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
