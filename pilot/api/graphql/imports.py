"""Imported files and their findings; uploading a workbook (multipart)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from strawberry.file_uploads import Upload
from strawberry.types import Info

from pilot.api.graphql import permissions
from pilot.api.graphql.context import ctx
from pilot.api.graphql.errors import ACCESS_ERRORS, BadUserInput, Busy, NotFound, StorageFull
from pilot.api.graphql.permissions import Action
from pilot.api.graphql.types import (
    CountType,
    MinistryType,
    PageInfo,
    decode_cursor,
    encode_cursor,
    page_size,
)
from pilot.api.turns import ImportsBusy, ImportTurns
from pilot.auth.access import AccessDenied, workbook_ministry
from pilot.auth.models import Role
from pilot.imports.models import Finding, ImportFile
from pilot.keys import parse_key
from pilot.ministries import service as ministries
from pilot.storage import StorageError


@strawberry.type(name="Finding")
class FindingType:
    sheet: str | None
    row: int | None
    column: str | None
    field: str | None
    value: str | None
    code: str
    message: str
    severity: str

    @classmethod
    def from_model(cls, f: Finding) -> FindingType:
        return cls(
            sheet=f.sheet,
            row=f.row,
            column=f.column,
            field=f.field,
            value=f.value,
            code=f.code,
            message=f.message,
            severity=f.severity,
        )


@strawberry.type(name="Import")
class ImportType:
    record: strawberry.Private[ImportFile]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.id))

    @strawberry.field
    def filename(self) -> str:
        return self.record.filename

    @strawberry.field
    def kind(self) -> str:
        return self.record.kind

    @strawberry.field
    def sha256(self) -> str:
        return self.record.sha256

    @strawberry.field
    def size_bytes(self) -> int:
        return self.record.size_bytes

    @strawberry.field
    def status(self) -> str:
        return self.record.status

    @strawberry.field
    def channel(self) -> str:
        return self.record.channel

    @strawberry.field
    def dry_run(self) -> bool:
        return self.record.dry_run

    @strawberry.field
    def submitted_by(self) -> str:
        return self.record.submitted_by

    @strawberry.field
    def received_at(self) -> datetime:
        return self.record.received_at

    @strawberry.field
    def finished_at(self) -> datetime | None:
        return self.record.finished_at

    @strawberry.field
    def message(self) -> str | None:
        return self.record.message

    @strawberry.field
    def counts(self) -> list[CountType]:
        return [
            CountType(label=str(k), count=int(v))
            for k, v in self.record.counts.items()
            if isinstance(v, int)
        ]

    @strawberry.field
    async def ministry(self, info: Info) -> MinistryType | None:
        if self.record.ministry_id is None:
            return None
        m = await ctx(info).loaders.ministry.load(self.record.ministry_id)
        return None if m is None else MinistryType.from_model(m)

    @strawberry.field(description="What PILOT found in the file, sheet by sheet, row by row")
    async def findings(self, info: Info, severity: str | None = None) -> list[FindingType]:
        assert self.record.id is not None
        rows = await ctx(info).loaders.findings.load(self.record.id)
        return [FindingType.from_model(f) for f in rows if severity in (None, f.severity)]


@strawberry.type(name="ImportEdge")
class ImportEdge:
    cursor: str
    node: ImportType


@strawberry.type(name="ImportConnection")
class ImportConnection:
    edges: list[ImportEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[ImportType]:
        return [e.node for e in self.edges]


@strawberry.type(name="UploadOutcome")
class UploadOutcomeType:
    import_id: strawberry.ID | None
    status: str
    duplicate: bool
    errors: list[FindingType]
    warnings: list[FindingType]
    counts: list[CountType]


def _findings_of(session: Session, import_id: int) -> list[FindingType]:
    rows = session.exec(
        select(Finding).where(Finding.import_id == import_id).order_by(col(Finding.id))
    )
    return [FindingType.from_model(f) for f in rows]


@strawberry.type
class ImportQuery:
    @strawberry.field(
        description="Files received, newest first (needs a token; a ministry sees its own)."
    )
    def imports(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        ministry: str | None = None,
    ) -> ImportConnection:
        c = ctx(info)
        permissions.require(c.principal, Action.READ_IMPORTS)
        size = page_size(first, c.settings)
        conds: list[ColumnElement[bool]] = []
        if c.principal.role == Role.MINISTRY:
            conds.append(ImportFile.ministry_id == c.principal.ministry_id)  # type: ignore[arg-type]
        if ministry:
            m = ministries.get_by_code(c.session, ministry)
            if m is None:
                raise BadUserInput(f"Ministère inconnu : « {ministry} ».")
            conds.append(ImportFile.ministry_id == m.id)  # type: ignore[arg-type]
        query = select(ImportFile).where(*conds)
        if after:
            _, last_id = decode_cursor(after, "imports")
            query = query.where(col(ImportFile.id) < last_id)
        rows = list(c.session.exec(query.order_by(col(ImportFile.id).desc()).limit(size + 1)))
        total = c.session.execute(
            sa_select(func.count()).select_from(ImportFile).where(*conds)
        ).scalar_one()
        edges = [
            ImportEdge(cursor=encode_cursor("imports", None, r.id or 0), node=ImportType(record=r))
            for r in rows[:size]
        ]
        return ImportConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
            ),
            total_count=int(total),
        )

    @strawberry.field(name="import", description="One received file with its findings.")
    def import_(self, info: Info, id: strawberry.ID) -> ImportType:
        c = ctx(info)
        permissions.require(c.principal, Action.READ_IMPORTS)
        missing = f"Import introuvable : « {id} »."
        key = parse_key(id)
        record = c.session.get(ImportFile, key) if key is not None else None
        if record is None:
            raise NotFound(missing)
        permissions.require(c.principal, Action.READ_IMPORTS, record.ministry_id, not_found=missing)
        return ImportType(record=record)


@strawberry.type
class ImportMutation:
    @strawberry.mutation(
        description="Upload a ministry workbook (multipart). With dryRun the file is checked "
        "and its findings returned, nothing is applied."
    )
    async def upload_workbook(
        self,
        info: Info,
        file: Upload,
        dry_run: bool = False,
        ministry: Annotated[
            str | None,
            strawberry.argument(
                description="Ministry code (DINUM only; a ministry token uses its own)"
            ),
        ] = None,
    ) -> UploadOutcomeType:
        c = ctx(info)
        try:  # the one access check of every upload channel
            target = workbook_ministry(c.session, c.principal, ministry, Action.WRITE_PROJECT)
        except AccessDenied as denied:
            raise ACCESS_ERRORS[denied.kind](str(denied)) from denied
        if not callable(getattr(file, "read", None)):  # a string where the file should be
            raise BadUserInput(
                "Envoyez le classeur comme fichier, en requête multipart (variable « file »)."
            )
        data = await file.read(c.settings.max_upload_bytes + 1)  # type: ignore[attr-defined]
        if len(data) > c.settings.max_upload_bytes:
            raise BadUserInput(
                f"Fichier trop volumineux : plus de {c.settings.max_upload_bytes} octets "
                f"(maximum {c.settings.max_upload_bytes})."
            )
        from importers import intake  # the importers' front door (imported when used)

        code = target.code
        c.session.rollback()  # the connection goes back to the pool while the import runs
        # The import reads, validates and writes for seconds, in a worker thread; imports
        # take turns (pilot/api/turns.py), on the server's event loop where the turns live.
        assert c.request is not None  # set by the router
        turns: ImportTurns = c.request.app.state.import_turns

        async def in_turn() -> Any:
            async with turns.turn():
                return await run_in_threadpool(
                    intake.submit,
                    data=data,
                    filename=getattr(file, "filename", None) or "classeur.xlsx",
                    ministry_code=code,
                    submitted_by=c.principal.actor,
                    channel="graphql",
                    dry_run=dry_run,
                )

        try:
            outcome = await c.on_server_loop(in_turn())
        except ImportsBusy as error:
            raise Busy(str(error)) from error
        except StorageError as error:  # disk full: refused cleanly, nothing recorded
            raise StorageFull(error.strerror or str(error)) from error
        c.session.rollback()  # read what the import wrote (in this worker thread)
        findings = _findings_of(c.session, outcome.import_id)
        return UploadOutcomeType(
            import_id=strawberry.ID(str(outcome.import_id)),
            status=outcome.status,
            duplicate=outcome.duplicate,
            errors=[f for f in findings if f.severity == "error"],
            warnings=[f for f in findings if f.severity == "warning"],
            counts=[
                CountType(label=str(k), count=int(v))
                for k, v in dict(outcome.counts or {}).items()
                if isinstance(v, int)
            ],
        )
