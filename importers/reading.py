"""Untrusted files are read here, each in the isolated reader (``importers.isolation``).

Every channel that receives a spreadsheet (the ministry workbook through ``intake``,
DINUM's open-data panorama through ``panorama.import_panorama_file``) calls one of these
two functions: the safety gate, the parser and the parsing of values run in a child
process under the OS limits of the settings; the caller gets plain data back, or a
French error. A crash or a limit of the parser raises ``PanoramaError`` or
``WorkbookError`` like any unreadable file (``IsolationError`` is a subclass of neither:
the caller records it as a failed import).
"""

from __future__ import annotations

import pickle

from importers.isolation import IsolationError, Limits, run_isolated
from importers.panorama import PanoramaError, PanoramaFile, read_panorama
from importers.workbook.findings import bound_issues
from importers.workbook.reader import WorkbookData, read_workbook
from importers.workbook.validate import ValidRow, field_index, parse_sheet_rows
from pilot.config import Settings, get_settings

__all__ = ["IsolationError", "read_panorama_isolated", "read_workbook_isolated"]


ROWS_PER_CHUNK = 2_000


def _read_workbook(data: bytes, filename: str, settings: Settings) -> WorkbookData:
    """Runs in the child: what it hands back is bounded (findings of one kind per sheet),
    and each sheet's rows are packed in chunks (``_unpack``). Parsed rows travel as plain
    tuples ``(row, values, project)``: a ``ValidRow`` pickles and unpickles through Python
    code of its own, a tuple through pickle's C code only (the sheet's field index, shared
    by its rows, is rebuilt on the other side)."""
    workbook = read_workbook(data, filename, settings=settings, rows=parse_sheet_rows)
    limit = settings.max_findings_per_kind
    workbook.issues = bound_issues(workbook.issues, limit)
    for sheet in workbook.sheets.values():
        sheet.parse_issues = bound_issues(sheet.parse_issues, limit)
        rows = sheet.rows
        if sheet.parsed:
            rows = [(r.row, r.values, r.project) for r in rows]
        sheet.rows = [
            pickle.dumps(rows[i : i + ROWS_PER_CHUNK], protocol=pickle.HIGHEST_PROTOCOL)
            for i in range(0, len(rows), ROWS_PER_CHUNK)
        ]
    return workbook


def _unpack(workbook: WorkbookData) -> WorkbookData:
    """The rows, unpickled chunk by chunk: unpickling holds Python's lock for its whole
    call, and a server's other threads (its event loop) must get it back in between (one
    call for 10 000 projects held it 1,8 s)."""
    for sheet in workbook.sheets.values():
        if sheet.parsed:
            index = field_index(sheet.sheet)
            sheet.rows = [
                ValidRow(number, values, index, project)
                for chunk in sheet.rows
                for number, values, project in pickle.loads(chunk)
            ]
        else:
            sheet.rows = [row for chunk in sheet.rows for row in pickle.loads(chunk)]
    return workbook


def read_workbook_isolated(
    data: bytes, filename: str, settings: Settings | None = None
) -> WorkbookData:
    """The ministry workbook, read and its values parsed (``validate.parse_sheet_rows``)
    in the isolated reader. Raises ``WorkbookError`` or ``IsolationError``."""
    settings = settings or get_settings()
    return _unpack(
        run_isolated(
            _read_workbook, data, filename, settings, limits=Limits.from_settings(settings)
        )
    )


def read_panorama_isolated(
    data: bytes, filename: str, settings: Settings | None = None
) -> PanoramaFile:
    """DINUM's open-data file, read in the isolated reader. Raises ``PanoramaError``
    (also when the reader crashed or went past a limit)."""
    settings = settings or get_settings()
    try:
        return run_isolated(
            read_panorama, data, filename, settings, limits=Limits.from_settings(settings)
        )
    except IsolationError as error:
        raise PanoramaError(str(error)) from error
