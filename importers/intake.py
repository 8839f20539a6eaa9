"""The one entry point every channel calls (CLI, HTTP upload, GraphQL, web, inbox).

``submit`` archives the bytes unchanged (by SHA-256) before anything else and records an
``ImportFile`` row. Then the workbook is read, and its values parsed, in the isolated
reader (``importers.reading``: a child process under OS limits; this process never
parses the file), outside any transaction. Then it is checked against the ministry's
data (every finding) in a read transaction, and, when no error was found, applied in one
short write transaction serialised per ministry, through the same bulk functions as
every other path (``workbook.apply``): all or nothing. Should the ministry's data have
changed between the two, the checks run again under the write lock
(``_check_and_apply``). A dry run is the same path without the write.
Re-sending a file already applied for the same ministry changes nothing and says so
(``duplicate``). The import row and its findings are always recorded, even when the
workbook is rejected; findings are bounded per kind (``findings.bound_issues``). A file
the reader could not finish (a crash or a limit) fails with a French finding; the
archived file stays.

The transaction that records an import's outcome also enqueues its follow-up (a job of
``pilot.jobs``: the alerts it raised, its findings summary to the ministry; nothing for
a dry run) and, when it applied the workbook, keeps its reports' milestone forecasts
(``record_forecasts``): the caller is answered without waiting for the follow-up, and a
crash never loses it.

An import whose process died (killed, machine restarted) leaves its row ``received``:
``fail_interrupted_imports``, run at the start of every import and of every inbox scan,
marks it ``failed`` once it is older than ``STALE_IMPORT_SECONDS``, with a French finding
(nothing was applied: its transaction never committed).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col

from importers.reading import IsolationError, read_workbook_isolated
from importers.workbook.apply import apply
from importers.workbook.findings import Issue, bound_issues, count_errors
from importers.workbook.reader import WorkbookData, WorkbookError
from importers.workbook.state import MinistryState, load_state
from importers.workbook.validate import Validated, referenced_ids, validate
from pilot import db
from pilot.audit.models import AuditEvent
from pilot.config import Settings, get_settings
from pilot.db import is_unavailable
from pilot.imports.models import Finding, ImportFile, ImportStatus, Severity
from pilot.jobs import service as jobs
from pilot.ministries import service as ministries
from pilot.ministries.models import Ministry
from pilot.projects.forecasts import record_forecasts
from pilot.projects.models import Project, ProjectName
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
    issues = bound_issues(issues, get_settings().max_findings_per_kind)
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
    dry_run = session.execute(
        select(col(ImportFile.dry_run)).where(col(ImportFile.id) == import_id)
    ).scalar()
    if not dry_run:  # its follow-up (alerts, findings summary), committed with the outcome
        jobs.enqueue(
            session, jobs.IMPORT_FOLLOWUP, f"import_followup:{import_id}", {"import_id": import_id}
        )
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


def _row_counts(workbook: WorkbookData) -> dict[str, int]:
    """Rows read per sheet."""
    return {f"rows_{name.lower()}": len(s.rows) for name, s in workbook.sheets.items()}


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
    try:
        outcome = _submit(
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
        outcome = _outcome_of(engine, stopped.import_id)
    # its follow-up (alerts, the findings summary) was enqueued with the outcome: the job
    # queue runs it (pilot.jobs, pilot.followup), the caller does not wait for it
    return outcome


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
    started = time.perf_counter()
    try:
        workbook = read_workbook_isolated(data, filename, settings)
    except WorkbookError as error:
        issue = Issue("unreadable", str(error))
        return _finish_alone(engine, import_id, ImportStatus.REJECTED, [issue], {})
    except IsolationError as error:
        issue = Issue("unreadable", str(error))
        return _finish_alone(
            engine, import_id, ImportStatus.FAILED, [issue], {}, message=error.reason
        )
    counts = _row_counts(workbook) | {"read_ms": _ms_since(started)}
    try:
        return _check_and_apply(
            engine, import_id, ministry_id, sha256, workbook, submitted_by, counts, dry_run, step
        )
    except _Rejected as rejected:
        return _finish_alone(
            engine, import_id, ImportStatus.REJECTED, rejected.issues, rejected.counts
        )
    except _NoLongerReceived:
        raise
    except Exception as error:
        return _failed(engine, import_id, error, counts)


def _data_version(session: Session, ministry_id: int) -> tuple[Any, ...]:
    """What changes whenever the ministry's project data changes: the count and largest
    id of its projects, of their names and of their audit events. Every change of the
    project domain writes its audit events (``pilot.projects.bulk``), and events are
    never deleted: a count catches even an event whose id was taken before another's but
    committed after it (PostgreSQL's sequences)."""
    owned = select(col(Project.id)).where(col(Project.ministry_id) == ministry_id)
    found: list[Any] = []
    for statement in (
        select(func.count(), func.max(col(Project.id))).where(
            col(Project.ministry_id) == ministry_id
        ),
        select(func.count(), func.max(col(ProjectName.id))).where(
            col(ProjectName.ministry_id) == ministry_id
        ),
        select(func.count(), func.max(col(AuditEvent.id))).where(
            col(AuditEvent.project_id).in_(owned)
        ),
    ):
        found.extend(session.execute(statement).one())
    return tuple(found)


def _check(
    session: Session, ministry_id: int, workbook: WorkbookData
) -> tuple[MinistryState, Validated]:
    state = load_state(session, ministry_id, referenced_ids(workbook))
    return state, validate(workbook, state, today=today())


def _checked_rows(workbook: WorkbookData) -> Callable[[], None]:
    """What checking changes in the rows read (the project each row is for): a function
    that puts it back, so that the workbook can be checked again."""
    saved = [
        (data.rows, [row.project for row in data.rows])
        for data in workbook.sheets.values()
        if data.parsed
    ]

    def restore() -> None:
        for rows, projects in saved:
            for row, project in zip(rows, projects, strict=True):
                row.project = project

    return restore


def _timed_apply(
    session: Session,
    validated: Validated,
    state: MinistryState,
    actor: str,
    import_id: int,
    *,
    write: bool,
) -> dict[str, Any]:
    """``apply`` (``write=False``: only count what it would change), with its time."""
    started = time.perf_counter()
    counts = apply(
        session, validated, state, actor=actor, import_id=import_id, today=today(), write=write
    )
    return counts | {"apply_ms": _ms_since(started)}


def _check_and_apply(
    engine: Engine,
    import_id: int,
    ministry_id: int,
    sha256: str,
    workbook: WorkbookData,
    actor: str,
    counts: dict[str, int],
    dry_run: bool,
    step: Progress,
) -> ImportOutcome:
    """Check the workbook read against the ministry's data in a read transaction (no
    write lock held meanwhile), then apply it in one short write transaction (all or
    nothing). Under the write lock, the ministry's data version read with the checked
    data (``_data_version``) is read again: when anything changed in between, the
    workbook is checked again there, against the data as it now is, so that what is
    applied is always what the checks saw. A dry run is the same path without the write,
    counting what the import would change. The ministry's imports are serialised (its
    row locked on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises every write)."""
    step("vérification")
    started = time.perf_counter()
    restore = _checked_rows(workbook)
    with db.session_scope(engine) as session:
        version = None if dry_run else _data_version(session, ministry_id)
        state, validated = _check(session, ministry_id, workbook)
        counts = counts | {"validate_ms": _ms_since(started)}
        if dry_run:
            if validated.errors:
                raise _Rejected(validated.issues, counts)
            counts |= _timed_apply(session, validated, state, actor, import_id, write=False)
    if dry_run:
        return _finish_alone(engine, import_id, ImportStatus.VALIDATED, validated.issues, counts)
    if not validated.errors:
        step("enregistrement")  # waits for the write lock, then writes
    with db.session_scope(engine, write=True) as session:
        _lock_ministry(session, ministry_id)
        previous = _already_applied(session, ministry_id, sha256, import_id)
        if previous is not None:
            issue = Issue(
                "duplicate",
                f"Ce fichier a déjà été importé (import n° {previous}) : rien n'a changé.",
                Severity.WARNING,
            )
            return _finish(session, import_id, ImportStatus.DUPLICATE, [issue], counts)
        if _data_version(session, ministry_id) != version:  # changed since: check again
            restore()
            started = time.perf_counter()
            state, validated = _check(session, ministry_id, workbook)
            counts["validate_ms"] += _ms_since(started)
        if validated.errors:
            raise _Rejected(validated.issues, counts)
        counts |= _timed_apply(session, validated, state, actor, import_id, write=True)
        record_forecasts(session, import_id)  # the milestone trend: this report's dates
        return _finish(session, import_id, ImportStatus.APPLIED, validated.issues, counts)


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


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
