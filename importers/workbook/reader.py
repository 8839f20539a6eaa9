"""Read a ministry workbook (.xlsx, .xlsm, .ods) into raw rows, safely.

The file goes through the safety gate (``importers.safety.inspect_workbook``) before
anything parses it: its size, that it is a zip holding a spreadsheet (not an old .xls,
not an encrypted file), zip bombs, DTDs; its warnings (macros, external links, a
misleading extension, formulas) become findings. Hidden sheets are never read (a
warning says so). Then each known visible sheet is read row by row (python-calamine by default,
openpyxl in read-only mode as the alternative for .xlsx), headers are matched by name
(accents, case, spaces and punctuation ignored, any order), and the number of rows,
columns and characters per cell are bounded by the settings.

Nothing here interprets values: that is ``validate.py``'s job. Anything that is not a
readable workbook raises ``WorkbookError`` with a French message, never a traceback.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any, Literal

from importers.safety import UnsafeFile, inspect_workbook, require_defusedxml
from importers.workbook.columns import README_SHEET, SHEET_BY_KEY, SHEETS, Sheet, column_letter
from importers.workbook.findings import Issue, shown
from pilot.config import Settings, get_settings
from pilot.imports.models import Severity
from pilot.text import normalize_key

Engine = Literal["calamine", "openpyxl"]
DEFAULT_ENGINE: Engine = "calamine"  # measured faster than openpyxl (see benchmarks/)
MAX_ZIP_ENTRIES = 10_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


class WorkbookError(ValueError):
    """The file cannot be read as a workbook; the message is French, for the sender."""


@dataclass
class SheetData:
    sheet: Sheet
    title: str  # the sheet's name as found in the file
    header_row: int
    letters: dict[str, str]  # field → column letter
    positions: dict[str, int] = field(default_factory=dict)  # field → column index (from 0)
    # (row number, cell values by sheet.fields); ``validate.ValidRow``s when ``parsed``
    rows: list[Any] = field(default_factory=list)
    parsed: bool = False  # the rows were parsed while read (``validate.parse_sheet_rows``)
    parse_issues: list[Issue] = field(default_factory=list)  # their findings, for validate
    referenced: set[int] = field(default_factory=set)  # PILOT ids met, when parsed

    @property
    def present(self) -> set[str]:
        return set(self.letters)

    def letter(self, field_name: str) -> str | None:
        return self.letters.get(field_name)


@dataclass
class WorkbookData:
    format: str  # xlsx, xlsm or ods
    sheets: dict[str, SheetData]  # by Sheet.name
    issues: list[Issue]

    def rows(self, sheet: Sheet) -> list[Any]:
        data = self.sheets.get(sheet.name)
        return data.rows if data else []


def detect_format(data: bytes, filename: str, settings: Settings) -> str:
    """``xlsx``, ``xlsm`` or ``ods`` from the bytes themselves (the name only tells xlsm)."""
    if len(data) > settings.max_upload_bytes:
        raise WorkbookError(
            f"Le fichier pèse {len(data) / 1e6:.1f} Mo ; la limite est de "
            f"{settings.max_upload_bytes / 1e6:.1f} Mo. Scindez-le ou allégez-le."
        )
    if not data:
        raise WorkbookError("Le fichier est vide.")
    if data.startswith(OLE_MAGIC):
        raise WorkbookError(
            "Ce fichier est au format Excel 97-2003 (.xls) ou protégé par un mot de passe : "
            "enregistrez-le au format .xlsx ou .ods, sans mot de passe."
        )
    if not data.startswith(b"PK"):
        raise WorkbookError(
            "Ce fichier n'est pas un classeur .xlsx, .xlsm ou .ods : utilisez le modèle "
            "fourni par PILOT."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise WorkbookError(
            "Ce fichier est endommagé ou n'est pas un classeur .xlsx, .xlsm ou .ods."
        ) from error
    if len(infos) > MAX_ZIP_ENTRIES:
        raise WorkbookError("Ce classeur contient trop d'éléments pour être lu.")
    declared = sum(max(info.file_size, 0) for info in infos)
    if declared > settings.max_uncompressed_bytes:
        raise WorkbookError(
            f"Une fois décompressé, ce classeur occuperait {declared / 1e6:.0f} Mo ; la "
            f"limite est de {settings.max_uncompressed_bytes / 1e6:.0f} Mo."
        )
    if any(info.flag_bits & 0x1 for info in infos):
        raise WorkbookError("Ce classeur est chiffré : enregistrez-le sans mot de passe.")
    names = {info.filename for info in infos}
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        if "xl/workbook.bin" in names:
            raise WorkbookError(
                "Le format binaire .xlsb n'est pas accepté : enregistrez le classeur en .xlsx."
            )
        return "xlsm" if filename.lower().endswith(".xlsm") else "xlsx"
    if "content.xml" in names:
        try:
            mime = archive.read("mimetype")[:100] if "mimetype" in names else b""
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError):
            mime = b""
        if mime.strip() == ODS_MIME:
            return "ods"
    raise WorkbookError(
        "Ce fichier n'est pas un classeur .xlsx, .xlsm ou .ods : utilisez le modèle fourni "
        "par PILOT."
    )


# --- Backends: each yields (sheet title, rows of cell values) ----------------------------


def _calamine_sheets(
    data: bytes, wanted: Iterable[str], settings: Settings
) -> Generator[tuple[str, Iterator[list[Any]]], None, None]:
    """calamine parses a whole sheet at once, in Rust, without holding Python's lock: the
    next sheet is parsed in a helper thread while the rows of the current one are read
    (two sheets in memory at most, the one being read and the next)."""
    from python_calamine import CalamineWorkbook

    titles = list(wanted)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="calamine")
    pending: Future[Any] | None = None
    try:
        for n, title in enumerate(titles):
            sheet = pending.result() if pending is not None else book.get_sheet_by_name(title)
            pending = None
            end = sheet.end
            if end is not None:
                _check_dimensions(title, end[0] + 1, end[1] + 1, settings)
            if n + 1 < len(titles):
                pending = pool.submit(book.get_sheet_by_name, titles[n + 1])
            start = sheet.start or (0, 0)
            yield title, _pad(start, sheet.iter_rows())
            del sheet
    finally:
        pool.shutdown(wait=True)  # the helper is done with the book before it is closed
        book.close()


def _pad(start: tuple[int, int], rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """calamine starts at the first non-empty cell: put the leading rows and columns back."""
    for _ in range(start[0]):
        yield []
    lead = [None] * start[1]
    for row in rows:
        yield [*lead, *row] if lead else row


def _openpyxl_sheets(
    data: bytes, wanted: Iterable[str], settings: Settings
) -> Generator[tuple[str, Iterator[list[Any]]], None, None]:
    import openpyxl

    require_defusedxml()  # now that openpyxl is imported, its own flag
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for title in wanted:
            sheet = book[title]
            sheet.reset_dimensions()  # declared dimensions can lie: count as we read
            yield title, (list(row) for row in sheet.iter_rows(values_only=True))
    finally:
        book.close()


def _sheet_names(data: bytes) -> tuple[list[str], list[str]]:
    """The titles of the visible sheets, and of the hidden (or very hidden) ones."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        visible: list[str] = []
        hidden: list[str] = []
        for sheet in book.sheets_metadata:
            (visible if sheet.visible == SheetVisibleEnum.Visible else hidden).append(sheet.name)
        return visible, hidden
    finally:
        book.close()


def _check_dimensions(title: str, rows: int, columns: int, settings: Settings) -> None:
    if rows > settings.max_rows_per_sheet + 1:
        raise WorkbookError(
            f"L'onglet {title} compte {rows} lignes ; la limite est de "
            f"{settings.max_rows_per_sheet} lignes par onglet."
        )
    if columns > settings.max_columns:
        raise WorkbookError(
            f"L'onglet {title} compte {columns} colonnes ; la limite est de "
            f"{settings.max_columns} colonnes."
        )


# --- Reading -----------------------------------------------------------------------------

_PARENTHESES = re.compile(r"\([^)]*\)")


def _header_keys(value: Any) -> set[str]:
    if not isinstance(value, str):
        return set()
    return {normalize_key(value), normalize_key(_PARENTHESES.sub(" ", value))} - {""}


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return None if not value or value.isspace() else value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, time | timedelta):
        return str(value)
    return value


def _read_sheet(
    sheet: Sheet,
    title: str,
    rows: Iterator[list[Any]],
    settings: Settings,
    issues: list[Issue],
    consume: RowReader,
) -> SheetData | None:
    header_row = 0
    header: list[Any] = []
    for number, row in enumerate(rows, start=1):
        if any(not _is_empty(v) for v in row):
            header_row, header = number, row
            break
        if number > 50:
            break
    if not header_row:
        issues.append(
            Issue(
                "empty_sheet",
                f"L'onglet {title} est vide : aucune ligne n'en a été importée.",
                Severity.WARNING,
                sheet=sheet.name,
            )
        )
        return None
    if len(header) > settings.max_columns:
        _check_dimensions(title, 0, len(header), settings)
    by_key: dict[str, str] = {}
    for column in sheet.columns:
        by_key[column.key] = column.field
        by_key.update(dict.fromkeys(_header_keys(column.header), column.field))
    positions: dict[str, int] = {}
    for index, value in enumerate(header):
        if _is_empty(value):
            continue
        letter = column_letter(index)
        keys = _header_keys(value)
        found = next((by_key[k] for k in keys if k in by_key), None)
        if found is None:
            issues.append(
                Issue(
                    "extra_column",
                    f"La colonne « {shown(value)} » n'est pas une colonne du modèle : elle a été "
                    "ignorée.",
                    Severity.WARNING,
                    sheet=sheet.name,
                    row=header_row,
                    column=letter,
                    value=shown(value),
                )
            )
        elif found in positions:
            issues.append(
                Issue(
                    "duplicate_column",
                    f"La colonne « {shown(value)} » figure deux fois (colonnes "
                    f"{column_letter(positions[found])} et {letter}) : supprimez l'une des deux.",
                    sheet=sheet.name,
                    row=header_row,
                    column=letter,
                    value=shown(value),
                )
            )
        else:
            positions[found] = index
    for column in sheet.columns:
        if column.required and column.field not in positions:
            issues.append(
                Issue(
                    "missing_column",
                    f"La colonne obligatoire « {column.header} » est absente de l'onglet "
                    f"{title} : ajoutez-la (voir le modèle).",
                    sheet=sheet.name,
                    row=header_row,
                    field=column.field,
                )
            )
    data = SheetData(
        sheet=sheet,
        title=title,
        header_row=header_row,
        letters={f: column_letter(i) for f, i in positions.items()},
        positions=positions,
    )
    consume(data, enumerate(rows, start=header_row + 1), settings, issues)
    return data


RowReader = Callable[[SheetData, Iterator[tuple[int, list[Any]]], Settings, list[Issue]], None]


def store_raw_rows(
    data: SheetData,
    rows: Iterator[tuple[int, list[Any]]],
    settings: Settings,
    issues: list[Issue],
) -> None:
    """The rows of a sheet, below its header, as cell values by ``sheet.fields`` (empty rows
    skipped), bounded by the settings (columns per row, rows per sheet, characters per
    cell, each over-long cell a finding and read as empty)."""
    sheet, title = data.sheet, data.title
    order = [data.positions.get(f) for f in sheet.fields]
    limit = settings.max_cell_chars
    max_rows = settings.max_rows_per_sheet
    count = 0
    for number, row in rows:
        width = len(row)
        if width > settings.max_columns:
            _check_dimensions(title, 0, width, settings)
        values = tuple(_cell(row[i]) if i is not None and i < width else None for i in order)
        if all(v is None for v in values):
            continue
        count += 1
        if count > max_rows:
            _check_dimensions(title, max_rows + 2, 0, settings)
        for i, value in enumerate(values):
            if isinstance(value, str) and len(value) > limit:
                issues.append(cell_too_long(data, number, sheet.fields[i], value, limit))
                values = (*values[:i], None, *values[i + 1 :])
        data.rows.append((number, values))


def cell_too_long(data: SheetData, row: int, field: str, value: str, limit: int) -> Issue:
    """The finding for a cell longer than ``max_cell_chars`` (the cell is then read as
    empty)."""
    return Issue(
        "cell_too_long",
        f"Cette cellule contient {len(value)} caractères ; la limite est de "
        f"{limit}. Raccourcissez-la.",
        sheet=data.sheet.name,
        row=row,
        column=data.letters[field],
        field=field,
        value=shown(value),
    )


def read_workbook(
    data: bytes,
    filename: str = "",
    *,
    settings: Settings | None = None,
    engine: Engine = DEFAULT_ENGINE,
    rows: RowReader | None = None,
) -> WorkbookData:
    """The known sheets of a workbook as raw rows, with the reading issues (headers,
    extra columns, over-long cells). Raises ``WorkbookError`` for an unreadable file.

    Each sheet's rows stream, as they are read, into ``rows`` (``store_raw_rows`` by
    default; ``validate.parse_sheet_rows`` parses them on the way, so that the raw cells
    of a whole workbook are never held at once)."""
    opened = open_workbook(data, filename, settings=settings, engine=engine)
    for _ in opened.sheets(rows=rows):
        pass
    return opened.workbook()


@dataclass
class OpenedWorkbook:
    """A workbook past the safety gate, whose sheets are read one at a time
    (``sheets``), in the file's order or in any other; ``workbook`` then gives what
    ``read_workbook`` gives, findings in the same order whatever the reading order."""

    data: bytes
    format: str  # xlsx, xlsm or ods
    settings: Settings
    engine: Engine
    issues: list[Issue]  # about the file as a whole (warnings, hidden and extra sheets)
    chosen: dict[str, str]  # Sheet.name → the sheet's title in the file, in the file's order
    read: dict[str, SheetData | None] = field(default_factory=dict)  # by Sheet.name
    sheet_issues: dict[str, list[Issue]] = field(default_factory=dict)  # by Sheet.name

    def sheets(
        self, order: Iterable[Sheet] | None = None, *, rows: RowReader | None = None
    ) -> Generator[tuple[Sheet, SheetData | None], None, None]:
        """Read the sheets in ``order`` (the file's own by default), each as it is
        reached: (sheet, its data), ``None`` for a sheet absent from the file (not read)
        or empty. Raises ``WorkbookError`` as ``read_workbook`` does."""
        wanted = (
            list(order)
            if order is not None
            else [SHEET_BY_KEY[normalize_key(n)] for n in self.chosen]
        )
        titles = [self.chosen[s.name] for s in wanted if s.name in self.chosen]
        backend = _calamine_sheets if self.engine == "calamine" else _openpyxl_sheets
        consume = rows or store_raw_rows
        cells_by_sheet = backend(self.data, titles, self.settings)
        try:
            for sheet in wanted:
                if sheet.name not in self.chosen:
                    yield sheet, None
                    continue
                with _parser_failures():
                    title, cells = next(cells_by_sheet)
                    issues = self.sheet_issues[sheet.name] = []
                    found = _read_sheet(sheet, title, cells, self.settings, issues, consume)
                self.read[sheet.name] = found
                yield sheet, found
        finally:
            cells_by_sheet.close()  # the backend's helper thread and file, released now

    def workbook(self) -> WorkbookData:
        """The sheets read, in the file's order, with every reading finding in the order
        ``read_workbook`` reports them (the file's order of sheets)."""
        issues = list(self.issues)
        sheets: dict[str, SheetData] = {}
        for name in self.chosen:
            issues.extend(self.sheet_issues.get(name, ()))
            found = self.read.get(name)
            if found is not None:
                sheets[name] = found
        for sheet in SHEETS:
            if sheet.name not in self.chosen:
                issues.append(
                    Issue(
                        "missing_sheet",
                        f"L'onglet {sheet.name} est absent : rien n'a été importé pour lui.",
                        Severity.WARNING,
                        sheet=sheet.name,
                    )
                )
        return WorkbookData(format=self.format, sheets=sheets, issues=issues)


_DAMAGED = (
    "Ce classeur est endommagé et illisible : ouvrez-le dans votre tableur, "
    "enregistrez-le à nouveau au format .xlsx ou .ods, puis renvoyez-le."
)


@contextmanager
def _parser_failures() -> Iterator[None]:
    """Any failure of a parser on a malformed file, as a ``WorkbookError`` in French (a
    ``WorkbookError`` raised inside stays as it is)."""
    try:
        yield
    except WorkbookError:
        raise
    except MemoryError as error:
        raise WorkbookError("Ce classeur est trop volumineux pour être lu.") from error
    except Exception as error:
        raise WorkbookError(_DAMAGED) from error


def open_workbook(
    data: bytes,
    filename: str = "",
    *,
    settings: Settings | None = None,
    engine: Engine = DEFAULT_ENGINE,
) -> OpenedWorkbook:
    """The safety gate, the format and the sheets' names, without reading any sheet yet.
    Raises ``WorkbookError`` for an unreadable file."""
    settings = settings or get_settings()
    try:
        info = inspect_workbook(data, filename, settings)
    except UnsafeFile as error:
        raise WorkbookError(str(error)) from None
    fmt = detect_format(data, filename, settings)
    if engine == "openpyxl" and fmt == "ods":
        engine = "calamine"
    issues = [
        Issue("file_warning", warning[0].upper() + warning[1:], Severity.WARNING)
        for warning in info.warnings
    ]
    if info.has_formulas:
        issues.append(
            Issue(
                "formulas",
                "Le classeur contient des formules : PILOT lit la valeur calculée de chacune ; "
                "une formule sans valeur calculée (classeur jamais recalculé) est lue comme une "
                "cellule vide.",
                Severity.WARNING,
            )
        )
    with _parser_failures():
        titles, hidden = _sheet_names(data)
        if hidden:
            issues.append(
                Issue(
                    "hidden_sheet",
                    "Le classeur contient des feuilles masquées ("
                    + ", ".join(f"« {title[:100]} »" for title in hidden)
                    + ") : elles ont été ignorées. Affichez-les et recopiez leurs lignes dans "
                    "les onglets du modèle si elles doivent être importées.",
                    Severity.WARNING,
                )
            )
        chosen: dict[str, str] = {}
        for title in titles:
            sheet = SHEET_BY_KEY.get(normalize_key(title))
            if sheet is not None and sheet.name not in chosen:
                chosen[sheet.name] = title
            elif normalize_key(title) != normalize_key(README_SHEET):
                issues.append(
                    Issue(
                        "extra_sheet",
                        f"L'onglet « {title} » n'est pas un onglet du modèle : il a été ignoré.",
                        Severity.WARNING,
                        sheet=title[:100],
                    )
                )
        if not chosen:
            raise WorkbookError(
                "Ce classeur ne contient aucun des onglets (feuilles) du modèle PILOT ("
                + ", ".join(s.name for s in SHEETS)
                + ") : téléchargez le modèle de votre ministère et remplissez-le."
            )
    return OpenedWorkbook(data, fmt, settings, engine, issues, chosen)
