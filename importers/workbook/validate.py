"""Check a workbook against the rules, collecting every finding in one pass.

Each cell is parsed by its column's kind (French habits accepted, see
``importers.parsing``), then each row and the workbook as a whole are checked against
the rules and against what PILOT already knows (``state.py``). Nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache, partial
from operator import itemgetter
from typing import Any

from importers.parsing import (
    MAX_YEAR,
    MIN_YEAR,
    ParseError,
    is_unknown,
    parse_bool,
    parse_date,
    parse_decimal,
)
from importers.workbook.columns import (
    ALL_SHEETS,
    BUDGET,
    MILESTONES,
    PROJECTS,
    RECOMMENDATIONS,
    RISKS,
    STATUS_OF_LABEL,
    Column,
    Kind,
    Sheet,
)
from importers.workbook.findings import Issue, count_errors, shown
from importers.workbook.reader import (
    SheetData,
    WorkbookData,
    _cell,
    _check_dimensions,
    cell_too_long,
)
from importers.workbook.state import MinistryState
from pilot.auth.access import AccessDenied
from pilot.config import Settings
from pilot.imports.models import Severity
from pilot.indicators.steering import risk_is_unmitigated
from pilot.money import format_decimal_fr
from pilot.opinions.clock import today_in_paris
from pilot.opinions.models import (
    RECOMMENDATION_LABELS,
    RecommendationStatus,
    parse_recommendation_id,
)
from pilot.opinions.service import check_recommendation_change
from pilot.projects.models import (
    BaselineKind,
    Phase,
    RiskStatus,
    format_pilot_id,
    parse_pilot_id,
)
from pilot.projects.service import DomainError
from pilot.text import clean_text, keep_text, non_latin_letters, normalize_key

ProjectKey = int | str  # an existing project's id, or the name key of a new project


@dataclass(slots=True)
class ValidRow:
    row: int
    values: tuple[Any, ...]  # parsed values, by the sheet's fields (None: empty or absent)
    index: dict[str, int]  # field → position in ``values`` (the sheet's, shared)
    project: ProjectKey | None = None

    def get(self, field_name: str) -> Any:
        return self.values[self.index[field_name]]


@dataclass
class Validated:
    projects: list[ValidRow] = field(default_factory=list)
    milestones: list[ValidRow] = field(default_factory=list)
    risks: list[ValidRow] = field(default_factory=list)
    budget: list[ValidRow] = field(default_factory=list)
    # the rows whose status changes (``project``: the recommendation's id), and the day
    # they change on (the opinions' day: Europe/Paris, as on the ministry's page)
    recommendations: list[ValidRow] = field(default_factory=list)
    recommendations_on: date | None = None
    present: dict[str, set[str]] = field(default_factory=dict)  # sheet → fields present
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return count_errors(self.issues)

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if not i.is_error)

    def release(self, sheet: Sheet) -> None:
        """Forget a sheet's rows (once written: a large workbook's memory)."""
        setattr(self, _ROWS_OF[sheet.name], [])


# --- Cells -------------------------------------------------------------------------------

_PHASE_ALIASES = {
    "en cadrage": Phase.CADRAGE.value,
    "conception": Phase.CONCEPTION.value,
    "realisation": Phase.CONCEPTION.value,
    "conception et realisation": Phase.CONCEPTION.value,
    "en deploiement": Phase.DEPLOIEMENT.value,
    "termine": Phase.TERMINE.value,
    "acheve": Phase.TERMINE.value,
    "abandonne": Phase.ABANDONNE.value,
}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        text = " ".join(value.split()) if value.isascii() else clean_text(value)
    elif isinstance(value, datetime | date):
        text = f"{value:%d/%m/%Y}"
    else:
        text = str(value)
    return text or None


@lru_cache(maxsize=4096)
def _choice(choices: tuple[str, ...], value: str) -> str | None:
    key = normalize_key(value)
    for choice in choices:
        if normalize_key(choice) == key:
            return choice
    if Phase.CADRAGE.value in choices:
        return _PHASE_ALIASES.get(key)
    return None


def _money(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        number: Decimal | None = Decimal(value)
    else:
        number = parse_decimal(value)
    if number is None:
        return None
    if number < 0:
        raise ParseError("Un montant ne peut pas être négatif.")
    if number >= 10**15:
        raise ParseError("Ce montant est invraisemblable : indiquez-le en euros.")
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _date(value: Any) -> date | None:
    if type(value) is date:
        parsed: date | None = value
    else:
        parsed = parse_date(value)
    if parsed is not None and not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ParseError(
            f"La date {parsed:%d/%m/%Y} est hors de la période admise ({MIN_YEAR}–{MAX_YEAR}) : "
            "indiquez une date au format JJ/MM/AAAA."
        )
    return parsed


def _whole(value: Any, low: int, high: int, what: str, example: int) -> int | None:
    """A whole number from ``low`` to ``high``; the message says which, with an example
    of its own (an amount's "1 234,5" would mislead)."""
    wanted = f"Indiquez {what} de {low} à {high} (exemple : {example})."
    if isinstance(value, int) and not isinstance(value, bool):
        number: Decimal | None = Decimal(value)
    else:
        try:
            number = parse_decimal(value)
        except ParseError:
            raise ParseError(f"« {shown(value)} » n'est pas un nombre. {wanted}") from None
    if number is None:
        return None
    if number != number.to_integral_value() or not low <= number <= high:
        raise ParseError(wanted)
    return int(number)


def _free_text(value: Any) -> str | None:
    """A free text (``Column.free_text``) as typed: see ``pilot.text.keep_text``."""
    if isinstance(value, str):
        return keep_text(value) or None
    return _text(value)


def parse_cell(column: Column, value: Any) -> Any:
    """The value of a cell for its column, or ``ParseError`` with a French message."""
    kind = column.kind
    if value is None:
        return None
    if kind == Kind.TEXT:
        text = _free_text(value) if column.free_text else _text(value)
        if text is not None and column.max_length and len(text) > column.max_length:
            raise ParseError(
                f"Ce texte compte {len(text)} caractères ; la limite est de "
                f"{column.max_length}. Raccourcissez-le."
            )
        return text
    if kind == Kind.DATE:
        return _date(value)
    if kind == Kind.MONEY:
        return _money(value)
    if kind == Kind.CHOICE:
        if isinstance(value, str):
            found = _choice(column.choices, value)
            if found is not None:
                return found
        if is_unknown(value):
            return None
        raise ParseError("Valeur non permise : choisissez parmi " + ", ".join(column.choices) + ".")
    if kind == Kind.SCORE:
        return _whole(value, 1, 4, "un nombre entier", 3)
    if kind == Kind.YEAR:
        return _whole(value, MIN_YEAR, MAX_YEAR, "une année", 2024)
    if kind == Kind.BOOL:
        return parse_bool(value)
    if kind == Kind.PILOT_ID:
        if isinstance(value, str) and is_unknown(value):
            return None
        letters = non_latin_letters(str(value))
        if letters:
            raise ParseError(
                f"L'identifiant PILOT contient des lettres non latines ({letters}) qui imitent "
                "des lettres latines : retapez-le au clavier (exemple : PRJ-00042)."
            )
        found_id = parse_pilot_id(str(value))
        if found_id is None:
            raise ParseError(
                "Identifiant PILOT invalide (exemple : PRJ-00042) : recopiez-le depuis le "
                "modèle ou laissez-le vide pour un nouveau projet."
            )
        return found_id
    raise AssertionError(kind)


def _parser(column: Column) -> Callable[[Any], Any]:
    """The cell parser of a column, chosen once per sheet (``parse_cell`` without the
    per-cell dispatch on the kind); ``None`` cells never reach it."""
    kind = column.kind
    if kind == Kind.TEXT and not column.max_length:
        return _free_text if column.free_text else _text
    if kind == Kind.DATE:
        return _date
    if kind == Kind.MONEY:
        return _money
    return partial(parse_cell, column)


@lru_cache(maxsize=1 << 16)
def key(value: str) -> str:
    """``normalize_key``, cached: names repeat across sheets (milestones, risks)."""
    return normalize_key(value)


# --- Rows --------------------------------------------------------------------------------

Parsed = tuple[int, str, Callable[[Any], Any], bool, Column]  # position, field, parser, …


def _issue(
    data: SheetData,
    row: int,
    field_name: str | None,
    message: str,
    code: str,
    value: Any = None,
    severity: Severity = Severity.ERROR,
) -> Issue:
    return Issue(
        code,
        message,
        severity,
        sheet=data.sheet.name,
        row=row,
        column=data.letter(field_name) if field_name else None,
        field=field_name,
        value=shown(value),
    )


def _columns(data: SheetData) -> tuple[list[Parsed], bool, dict[str, int]]:
    """The present columns with their parsers; whether a required column is missing (the
    reader reported it once: no row is usable); the sheet's field positions."""
    sheet = data.sheet
    columns = [
        (i, c.field, _parser(c), c.required, c)
        for i, c in enumerate(sheet.columns)
        if c.field in data.letters
    ]
    blocked = any(c.required and c.field not in data.letters for c in sheet.columns)
    return columns, blocked, field_index(sheet)


@lru_cache(maxsize=16)
def field_index(sheet: Sheet) -> dict[str, int]:
    """field → position in a row's values (one dict per sheet, shared by its rows)."""
    return {f: i for i, f in enumerate(sheet.fields)}


def _parse_row(
    data: SheetData,
    number: int,
    raw: tuple[Any, ...] | list[Any],
    columns: list[Parsed],
    blocked: bool,
    index: dict[str, int],
    issues: list[Issue],
) -> ValidRow:
    """One row of cells (already read: ``reader._cell``) parsed, its findings in ``issues``."""
    values: list[Any] = [None] * len(index)
    ok = True
    for position, name, parser, required, column in columns:
        value = raw[position]
        if value is None:
            parsed = None
        else:
            try:
                parsed = parser(value)
            except ParseError as error:
                issues.append(_issue(data, number, name, str(error), "invalid_value", value))
                ok = False
                continue
        if parsed is None and required:
            issues.append(
                _issue(
                    data,
                    number,
                    name,
                    f"La colonne « {column.header} » est obligatoire : remplissez-la.",
                    "required",
                    value,
                )
            )
            ok = False
        values[position] = parsed
    return ValidRow(number, tuple(values), index, None if (blocked or not ok) else -1)


class _Slow:
    """A cell the fast path leaves to the careful one (see ``parse_sheet_rows``)."""


SLOW = _Slow()


class _CellMemo(dict[Any, Any]):
    """One column's cells: raw value as read → parsed value, computed once per distinct
    value (dates, choices, names and amounts repeat across thousands of rows; the parsed
    values are shared, not copied). ``SLOW`` for a cell that must be reported (unreadable,
    too long) or that a bool could be mistaken for (``True == 1``): those go the careful
    way, which reports exactly what the row-by-row parsing reports."""

    def __init__(self, parser: Callable[[Any], Any], limit: int, flag: list[bool]) -> None:
        super().__init__({None: None})
        self.parser = parser
        self.limit = limit
        self.flag = flag  # set once a SLOW was returned: rows are checked for it from then on

    def __missing__(self, raw: Any) -> Any:
        if raw.__class__ is bool:
            self.flag[0] = True
            return SLOW
        value = _cell(raw)
        if value is None:
            parsed = None
        elif value.__class__ is str and len(value) > self.limit:
            parsed = SLOW
        else:
            try:
                parsed = self.parser(value)
            except ParseError:
                parsed = SLOW
        if parsed is SLOW:
            self.flag[0] = True
        if not (raw.__class__ in (int, float) and raw in (0, 1)):  # a bool equals 0 or 1
            self[raw] = parsed
        return parsed


def _tuple_getter(positions: list[int]) -> Callable[[Any], tuple[Any, ...]]:
    if len(positions) == 1:
        only = positions[0]
        return lambda row: (row[only],)
    return itemgetter(*positions)


def parse_sheet_rows(
    data: SheetData,
    rows: Iterator[tuple[int, list[Any]]],
    settings: Settings,
    issues: list[Issue],
) -> None:
    """Read and parse a sheet's rows as they stream from the reader (``read_workbook(...,
    rows=parse_sheet_rows)``): ``data.rows`` gets ``ValidRow``s, never the raw rows, and
    the parsing findings wait in ``data.parse_issues`` for ``validate``, which reports
    them where it always has. The reader's own checks (columns per row, rows per sheet,
    characters per cell) and findings are the same as ``reader.store_raw_rows``'s.

    Fast path: each cell is looked up in its column's ``_CellMemo``; a row whose cells all
    parsed and whose required cells are filled is kept as is. Any other row (empty, with
    an unreadable, too long or missing value) is read and parsed cell by cell, exactly as
    without the fast path."""
    sheet = data.sheet
    columns, blocked, index = _columns(data)
    fields = sheet.fields
    letters = data.letters
    positions = [data.positions[f] if f in letters else -1 for f in fields]
    top = max(positions)
    absent = -1 in positions
    flag = [blocked]
    limit = settings.max_cell_chars
    memos: list[dict[Any, Any]] = [
        _CellMemo(_parser(c), limit, flag) if c.field in letters else {None: None}
        for c in sheet.columns
    ]
    raw_of = itemgetter(*positions)
    required = _tuple_getter(
        [i for i, c in enumerate(sheet.columns) if c.required and c.field in letters] or [0]
    )
    lookup = dict.__getitem__
    pilot_at = index.get("pilot_id", -1) if "pilot_id" in letters else -1
    referenced = data.referenced
    max_columns = settings.max_columns
    max_rows = settings.max_rows_per_sheet
    title = data.title
    out: list[Any] = data.rows
    count = 0
    for number, row in rows:
        width = len(row)
        if width > max_columns:
            _check_dimensions(title, 0, width, settings)
        if width <= top:
            row = [*row, *([None] * (top + 1 - width))]
        if absent:
            row.append(None)  # position -1: the absent columns
        cells = raw_of(row)
        if not flag[0]:
            values = tuple(map(lookup, memos, cells))
            if None not in required(values) and not flag[0]:
                count += 1
                if count > max_rows:
                    _check_dimensions(title, max_rows + 2, 0, settings)
                if pilot_at >= 0:
                    found = cells[pilot_at]
                    if found.__class__ is str and values[pilot_at] is not None:
                        referenced.add(values[pilot_at])
                out.append(ValidRow(number, values, index, -1))
                continue
        read = [_cell(value) for value in cells]
        if all(v is None for v in read):
            continue
        count += 1
        if count > max_rows:
            _check_dimensions(title, max_rows + 2, 0, settings)
        for i, value in enumerate(read):
            if isinstance(value, str) and len(value) > limit:
                issues.append(cell_too_long(data, number, fields[i], value, limit))
                read[i] = None
        if pilot_at >= 0 and isinstance(read[pilot_at], str):
            pid = parse_pilot_id(read[pilot_at])
            if pid is not None:
                referenced.add(pid)
        out.append(_parse_row(data, number, read, columns, blocked, index, data.parse_issues))
    data.parsed = True


class Checker:
    """The checks of one workbook, sheet by sheet (``check``) or all at once (``run``);
    the findings and the usable rows gather in ``result``."""

    def __init__(self, workbook: WorkbookData, state: MinistryState, today: date) -> None:
        self.workbook = workbook
        self.state = state
        self.today = today
        self.result = Validated(issues=list(workbook.issues))
        self.new_projects: dict[str, int] = {}  # name key → row in Projets
        self.row_ids: dict[int, int] = {}  # project id → row in Projets

    def issue(
        self,
        data: SheetData,
        row: int,
        field_name: str | None,
        message: str,
        code: str,
        value: Any = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.result.issues.append(_issue(data, row, field_name, message, code, value, severity))

    def parse_rows(self, sheet: Sheet) -> list[ValidRow]:
        data = self.workbook.sheets.get(sheet.name)
        if data is None:
            return []
        self.result.present[sheet.name] = data.present
        if data.parsed:  # parsed while reading (``parse_sheet_rows``)
            self.result.issues.extend(data.parse_issues)
            return data.rows
        columns, blocked, index = _columns(data)
        rows: list[ValidRow] = []
        for number, raw in data.rows:
            rows.append(_parse_row(data, number, raw, columns, blocked, index, self.result.issues))
        return rows

    # Projets ---------------------------------------------------------------------------

    def check_projects(self) -> None:
        data = self.workbook.sheets.get(PROJECTS.name)
        rows = self.parse_rows(PROJECTS)
        if data is None:
            return
        seen_names: dict[str, int] = {}
        for row in rows:
            v = row
            pid = v.get("pilot_id")
            name = v.get("name")
            usable = row.project is not None
            if pid is not None:
                if pid in self.row_ids:
                    self.issue(
                        data,
                        row.row,
                        "pilot_id",
                        f"Le projet {format_pilot_id(pid)} figure deux fois (ligne "
                        f"{self.row_ids[pid]}) : gardez une seule ligne par projet.",
                        "duplicate_row",
                        format_pilot_id(pid),
                    )
                    usable = False
                elif pid not in self.state.projects:  # another ministry's: the same answer
                    self.issue(
                        data,
                        row.row,
                        "pilot_id",
                        f"L'identifiant {format_pilot_id(pid)} ne correspond à aucun projet de "
                        "votre ministère : recopiez-le depuis le modèle, ou laissez-le vide pour "
                        "un nouveau projet.",
                        "unknown_project",
                        format_pilot_id(pid),
                    )
                    usable = False
                else:
                    self.row_ids[pid] = row.row
            if name is not None:
                name_key = key(name)
                owner = self.state.names.get(name_key)
                if name_key in seen_names:
                    self.issue(
                        data,
                        row.row,
                        "name",
                        f"Le nom « {name} » figure déjà ligne {seen_names[name_key]} : deux "
                        "projets ne peuvent pas porter le même nom.",
                        "duplicate_row",
                        name,
                    )
                    usable = False
                elif pid is None and owner is not None:
                    self.issue(
                        data,
                        row.row,
                        "name",
                        f"Le projet « {name} » existe déjà sous l'identifiant "
                        f"{format_pilot_id(owner)} : indiquez cet identifiant plutôt que "
                        "d'ajouter une nouvelle ligne.",
                        "existing_project",
                        name,
                    )
                    usable = False
                elif pid is not None and owner is not None and owner != pid:
                    self.issue(
                        data,
                        row.row,
                        "name",
                        f"Le nom « {name} » désigne déjà un autre projet du ministère "
                        f"({format_pilot_id(owner)}) : choisissez un autre nom.",
                        "name_taken",
                        name,
                    )
                    usable = False
                seen_names.setdefault(name_key, row.row)
                if pid is None and usable:
                    self.new_projects[name_key] = row.row
            known = pid is not None and pid in self.state.projects
            self._check_project_rules(data, row, pid if known else None)
            row.project = (pid if pid is not None else key(name or "")) if usable else None
        self.result.projects = rows

    def _check_project_rules(self, data: SheetData, row: ValidRow, pid: int | None) -> None:
        v = row
        self._order(data, row, "baseline_start", "baseline_end", "La fin de référence")
        self._order(data, row, "start_date", "forecast_end", "La fin prévisionnelle")
        if pid is None:
            return
        present = data.present
        baseline_fields = [
            f for f in ("baseline_cost", "baseline_start", "baseline_end") if f in present
        ]
        latest = self.state.latest_baseline.get(pid)
        reason = v.get("rebaseline_reason")
        # An initial baseline without a cost (a project first known "en cadrage") is
        # completed by the first known cost: no re-baseline, no reason asked.
        costless_initial = (
            latest is not None
            and latest.kind == BaselineKind.INITIAL.value
            and latest.cost_eur is None
        )
        if latest is not None and baseline_fields and not costless_initial:
            stored = {
                "baseline_cost": latest.cost_eur,
                "baseline_start": latest.start_date,
                "baseline_end": latest.end_date,
            }
            changed = [f for f in baseline_fields if v.get(f) != stored[f]]
            if changed and not reason:
                for f in changed:
                    self.issue(
                        data,
                        row.row,
                        f,
                        "La référence approuvée ne peut pas être modifiée (valeur enregistrée : "
                        f"{_display(stored[f])}). Pour un rebasage, remplissez la colonne "
                        "« Motif du rebasage » ; sinon, remettez la valeur enregistrée.",
                        "baseline_changed",
                        v.get(f),
                    )
            elif reason and not changed:
                self.issue(
                    data,
                    row.row,
                    "rebaseline_reason",
                    "Un motif de rebasage est indiqué mais la référence n'a pas changé : le motif "
                    "a été ignoré.",
                    "reason_without_change",
                    reason,
                    Severity.WARNING,
                )
        report = self.state.latest_report.get(pid)
        new_cost = v.get("current_cost")
        if (
            "current_cost" in present
            and report is not None
            and report.current_cost_eur is not None
            and new_cost is not None
            and new_cost < report.current_cost_eur
            and not v.get("comment")
        ):
            self.issue(
                data,
                row.row,
                "current_cost",
                f"Le coût actualisé baisse ({_display(report.current_cost_eur)} → "
                f"{_display(new_cost)}) sans explication : indiquez-en la raison dans la "
                "colonne « Commentaire ».",
                "cost_drop",
                new_cost,
                Severity.WARNING,
            )

    def _order(self, data: SheetData, row: ValidRow, first: str, second: str, what: str) -> None:
        a, b = row.get(first), row.get(second)
        if a is not None and b is not None and b < a:
            header = data.sheet.column(first).header
            self.issue(
                data,
                row.row,
                second,
                f"{what} ({b:%d/%m/%Y}) précède la colonne « {header} » ({a:%d/%m/%Y}) : "
                "corrigez l'une des deux dates.",
                "date_order",
                b,
            )

    def _not_future(self, data: SheetData, row: ValidRow, field_name: str) -> None:
        value = row.get(field_name)
        if value is not None and value > self.today:
            header = data.sheet.column(field_name).header
            self.issue(
                data,
                row.row,
                field_name,
                f"La « {header} » ({value:%d/%m/%Y}) est dans le futur : indiquez une date "
                "passée, ou laissez la cellule vide.",
                "future_date",
                value,
            )

    # Jalons, Risques, Budget ----------------------------------------------------------------

    def resolve_project(self, data: SheetData, row: ValidRow) -> ProjectKey | None:
        pid = row.get("pilot_id")
        name = row.get("project_name")
        if pid is not None:
            if pid not in self.state.projects:  # another ministry's: the same answer
                self.issue(
                    data,
                    row.row,
                    "pilot_id",
                    f"L'identifiant {format_pilot_id(pid)} ne correspond à aucun projet de "
                    "votre ministère : recopiez-le depuis l'onglet Projets.",
                    "unknown_project",
                    format_pilot_id(pid),
                )
                return None
            return int(pid)
        if name is None:
            self.issue(
                data,
                row.row,
                "pilot_id",
                "Indiquez l'identifiant PILOT du projet, ou son nom s'il est nouveau.",
                "required",
            )
            return None
        name_key = key(name)
        if name_key in self.new_projects:
            return name_key
        if name_key in self.state.names:
            return self.state.names[name_key]
        self.issue(
            data,
            row.row,
            "project_name",
            f"Aucun projet « {name} » dans l'onglet Projets ni dans PILOT : vérifiez le nom, "
            "ou ajoutez le projet dans l'onglet Projets.",
            "unknown_project",
            name,
        )
        return None

    def check_children(
        self,
        sheet: Sheet,
        label: str,
        key_of: Callable[[ValidRow], tuple[Any, ...]],
        rules: Callable[[SheetData, ValidRow], None],
    ) -> list[ValidRow]:
        data = self.workbook.sheets.get(sheet.name)
        rows = self.parse_rows(sheet)
        if data is None:
            return rows
        seen: dict[tuple[Any, ...], int] = {}
        for row in rows:
            usable = row.project is not None
            project = self.resolve_project(data, row) if usable or data.letters else None
            rules(data, row)
            if project is None or not usable:
                row.project = None
                continue
            row.project = project
            key = (project, *key_of(row))
            if key in seen:
                self.issue(
                    data,
                    row.row,
                    sheet.unique[1],
                    f"{label} figure déjà ligne {seen[key]} pour ce projet : gardez une seule "
                    "ligne.",
                    "duplicate_row",
                    row.get(sheet.unique[1]),
                )
                row.project = None
                continue
            seen[key] = row.row
        return rows

    def milestone_rules(self, data: SheetData, row: ValidRow) -> None:
        actual = row.values[_MILESTONE["actual_date"]]
        if actual is not None and actual > self.today:  # the common case checked inline
            self._not_future(data, row, "actual_date")

    def risk_rules(self, data: SheetData, row: ValidRow) -> None:
        v = row
        opened, closed = row.values[_RISK["opened_on"]], row.values[_RISK["closed_on"]]
        today = self.today
        if (
            opened is not None and (opened > today or (closed is not None and closed < opened))
        ) or (
            closed is not None and closed > today
        ):  # the common case (nothing to say) checked inline, findings in the same order
            self._order(data, row, "opened_on", "closed_on", "La date de clôture")
            self._not_future(data, row, "opened_on")
            self._not_future(data, row, "closed_on")
        p, i = v.get("probability"), v.get("impact")
        status = v.get("status") or RiskStatus.OUVERT.value
        if (
            p is not None
            and i is not None
            and risk_is_unmitigated(p, i, v.get("mitigation"), status)
        ):
            self.issue(
                data,
                row.row,
                "mitigation" if "mitigation" in data.letters else "impact",
                f"Ce risque ouvert a une criticité de {p * i} (probabilité {p} × impact {i}) : "
                "décrivez les mesures de réduction dans la colonne « Mesures de réduction ».",
                "mitigation_required",
                v.get("mitigation"),
            )

    def check(self, sheet: Sheet) -> None:
        """Check one sheet (Projets first: the others refer to it), read or absent."""
        if sheet is PROJECTS:
            self.check_projects()
        elif sheet is MILESTONES:
            self.result.milestones = self.check_children(
                MILESTONES,
                "Ce jalon",
                lambda r: (key(r.get("name")),),
                self.milestone_rules,
            )
        elif sheet is RISKS:
            self.result.risks = self.check_children(
                RISKS, "Ce risque", lambda r: (key(r.get("title")),), self.risk_rules
            )
        elif sheet is RECOMMENDATIONS:
            self.check_recommendations()
        else:
            assert sheet is BUDGET
            self.result.budget = self.check_children(
                BUDGET,
                "Cette année et cette nature",
                lambda r: (r.get("year"), r.get("kind")),
                lambda d, r: None,
            )

    # Recommandations --------------------------------------------------------------------

    def check_recommendations(self) -> None:
        """Each row's change of status, checked with the rules of the ministry's space
        (``opinions.check_recommendation_change``, the rules the page applies): only the
        rows whose status changes are kept for apply. A row may only name a recommendation
        of the ministry (another ministry's gets the same answer as an unknown one)."""
        data = self.workbook.sheets.get(RECOMMENDATIONS.name)
        rows = self.parse_rows(RECOMMENDATIONS)
        if data is None:
            return
        seen: dict[int, int] = {}
        changes: list[ValidRow] = []
        on = self.result.recommendations_on = today_in_paris()
        for row in rows:
            usable = row.project is not None
            row.project = None
            reference = row.get("recommendation_id")
            if reference is None:
                continue  # reported by the parsing (a required column)
            rid = parse_recommendation_id(reference)
            found = self.state.recommendations.get(rid) if rid is not None else None
            if found is None:
                self.issue(
                    data,
                    row.row,
                    "recommendation_id",
                    f"La référence « {reference} » ne correspond à aucune recommandation d'un "
                    "avis de la DINUM sur un projet de votre ministère : recopiez-la depuis le "
                    "modèle (les recommandations ne se créent pas dans le classeur).",
                    "unknown_recommendation",
                    reference,
                )
                continue
            assert rid is not None
            if rid in seen:
                self.issue(
                    data,
                    row.row,
                    "recommendation_id",
                    f"La recommandation {reference} figure déjà ligne {seen[rid]} : gardez une "
                    "seule ligne par recommandation.",
                    "duplicate_row",
                    reference,
                )
                continue
            seen[rid] = row.row
            label = row.get("status")
            if not usable or label is None:
                continue  # an unreadable or empty cell: reported by the parsing
            status = STATUS_OF_LABEL[label]
            comment = row.get("comment")
            current = found.recommendation.status
            if status == current:
                last_comment = found.last.comment if found.last is not None else None
                if comment and comment != last_comment:
                    self.issue(
                        data,
                        row.row,
                        "comment",
                        "Le statut n'a pas changé (« "
                        f"{RECOMMENDATION_LABELS[RecommendationStatus(current)]} ») : le "
                        "commentaire n'a pas été enregistré, car un commentaire n'est "
                        "enregistré qu'avec un changement de statut.",
                        "comment_without_change",
                        comment,
                        Severity.WARNING,
                    )
                continue
            try:
                check_recommendation_change(
                    self.state.principal,
                    current,
                    found.last.changed_on if found.last is not None else None,
                    status=status,
                    on=on,
                    comment=comment,
                )
            except (DomainError, AccessDenied) as error:
                self.issue(
                    data,
                    row.row,
                    "status",
                    f"{error} Statut enregistré : « "
                    f"{RECOMMENDATION_LABELS[RecommendationStatus(current)]} ».",
                    "invalid_status_change",
                    label,
                )
                continue
            row.project = rid
            changes.append(row)
        self.result.recommendations = changes

    def run(self) -> Validated:
        for sheet in ALL_SHEETS:
            self.check(sheet)
        return self.result


_ROWS_OF = {
    PROJECTS.name: "projects",
    MILESTONES.name: "milestones",
    RISKS.name: "risks",
    BUDGET.name: "budget",
    RECOMMENDATIONS.name: "recommendations",
}
_MILESTONE = field_index(MILESTONES)
_RISK = field_index(RISKS)


def _display(value: Any) -> str:
    if value is None:
        return "vide"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, int):
        return format_decimal_fr(Decimal(value), 0) + " €"
    return str(value)


def validate(workbook: WorkbookData, state: MinistryState, *, today: date) -> Validated:
    """Every finding of the workbook, in one pass; rows usable for apply keep their project."""
    return Checker(workbook, state, today).run()


def referenced_ids(workbook: WorkbookData) -> set[int]:
    """The PILOT identifiers a workbook mentions (to load their owners in one query)."""
    found: set[int] = set()
    for data in workbook.sheets.values():
        found |= sheet_referenced_ids(data)
    return found


def sheet_referenced_ids(data: SheetData) -> set[int]:
    """The PILOT identifiers one sheet mentions."""
    if data.parsed:
        return data.referenced
    found: set[int] = set()
    if "pilot_id" not in data.letters:
        return found
    index = data.sheet.fields.index("pilot_id")
    for _, raw in data.rows:
        value = raw[index]
        if isinstance(value, str):
            pid = parse_pilot_id(value)
            if pid is not None:
                found.add(pid)
    return found
