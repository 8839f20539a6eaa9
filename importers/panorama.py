"""DINUM's open-data panorama (the historical 15 columns), CSV or XLSX → a published edition.

Reading is tolerant of what the real files contain (see the README's "Panorama history
(open data)" section); every oddity that changes a value is reported as a warning.
Loading the same bytes twice, or the same edition in another format, creates nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from importers import safety
from importers.parsing import (
    MAX_YEAR,
    MIN_YEAR,
    ParseError,
    add_years,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_programmes,
)
from importers.safety import WorkbookInfo
from pilot.config import Settings, get_settings
from pilot.editions import service as editions
from pilot.editions.models import Edition
from pilot.editions.service import HISTORICAL_HEADERS
from pilot.indicators.figures import (
    BRACKET_CADRAGE,
    COST_BRACKETS,
    PortfolioRow,
    compute_figures,
    cost_bracket,
)
from pilot.ministries import service as ministries
from pilot.money import meur_to_eur
from pilot.projects import bulk
from pilot.projects import service as projects
from pilot.projects.bulk import Stamp
from pilot.projects.models import Phase, Project, format_pilot_id
from pilot.text import clean_text, non_latin_letters, normalize_key

# The 15 historical columns, in DINUM's order: (field, published header).
_FIELDS = (
    "ministry_code",
    "ministry_name",
    "name",
    "interministerial",
    "description",
    "link",
    "start",
    "duration",
    "phase",
    "cost",
    "cost_bracket",
    "functional_zone",
    "financing",
    "pap_link",
    "published_on",
)
# The 15 historical columns (headers defined once, in the editions domain), with the
# field each one fills.
COLUMNS: list[tuple[str, str]] = list(zip(_FIELDS, HISTORICAL_HEADERS, strict=True))
HEADERS = [h for _, h in COLUMNS]
_FIELD_BY_KEY = {normalize_key(h): f for f, h in COLUMNS}
REQUIRED = {"ministry_code", "name"}
_PHASES = {normalize_key(p.value): p.value for p in Phase}
_BRACKETS = {normalize_key(b): b for b in COST_BRACKETS}
_BRACKETS.update(
    {
        normalize_key("moins de 5 M€"): COST_BRACKETS[0],
        normalize_key("plus de 100 M€"): COST_BRACKETS[4],
    }
)
ACTOR = "import-panorama"
# Beyond these a value is surely a typing error (the whole portfolio is a few Md€).
MAX_COST_MEUR = Decimal(100_000)
MAX_DURATION_YEARS = Decimal(100)


class PanoramaError(ValueError):
    """The file cannot be read as a panorama edition (French message)."""


@dataclass
class PanoramaRow:
    line: int
    raw: dict[str, str]
    ministry_code: str
    ministry_name: str
    name: str
    interministerial: bool
    description: str | None
    link: str | None
    start: date | None
    duration_years: Decimal | None
    phase: str | None
    cost_meur: Decimal | None
    cost_bracket: str | None
    functional_zone: str | None
    programmes: list[int]
    financing: str | None
    pap_link: str | None
    published_on: date | None

    @property
    def cost_eur(self) -> int | None:
        return None if self.cost_meur is None else meur_to_eur(self.cost_meur)

    def portfolio_row(self) -> PortfolioRow:
        return PortfolioRow(
            ministry=self.ministry_code,
            interministerial=self.interministerial,
            phase=self.phase,
            cost_eur=self.cost_eur,
            duration_years=self.duration_years,
            functional_zone=self.functional_zone,
            cost_bracket=self.cost_bracket,
        )


@dataclass
class PanoramaFile:
    rows: list[PanoramaRow]
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""
    filename: str = ""

    def published_on(self) -> date | None:
        dates = Counter(r.published_on for r in self.rows if r.published_on)
        return dates.most_common(1)[0][0] if dates else None


# --- Reading -----------------------------------------------------------------------------


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
HEADER_SEARCH_ROWS = 10  # the header may sit under a title line or two


def _decode(data: bytes) -> str:
    """UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode text"), else
    Windows-1252 (Excel's "CSV" on a French Windows)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    """``;`` (French Excel), ``,`` (DINUM's files) or a tab: the most frequent one on the
    first line that has any (the header, or a title line exported above it)."""
    for line in text.splitlines()[:HEADER_SEARCH_ROWS]:
        unquoted = "".join(line.split('"')[::2])
        counts = Counter({d: unquoted.count(d) for d in (";", ",", "\t")})
        delimiter, count = counts.most_common(1)[0]
        if count:
            return delimiter
    return ","


def _csv_records(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise PanoramaError(
                f"Ligne {reader.line_num} : CSV illisible (champ trop long, caractère nul ou "
                "guillemets mal fermés)."
            ) from None
        yield record


def _panorama_sheet(workbook: Any, warnings: list[str]) -> Any:
    """The first visible sheet that carries the panorama's headers (else the first visible
    one); hidden and very hidden sheets are never read, and said so."""
    visible = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
    hidden = [ws.title for ws in workbook.worksheets if ws.sheet_state != "visible"]
    if not visible:
        raise PanoramaError("Le classeur ne contient aucune feuille visible.")
    chosen = visible[0]
    for sheet in visible:
        sheet.reset_dimensions()  # some writers record a wrong size: read every row
        head = sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)
        if any(_header_columns(list(row)) for row in head):
            chosen = sheet
            break
    if hidden:
        warnings.append(
            f"feuilles masquées ignorées : {', '.join(hidden)} ; seule la feuille visible "
            f"« {chosen.title} » est lue"
        )
    return chosen


def _xlsx_records(
    data: bytes, info: WorkbookInfo, settings: Settings, warnings: list[str]
) -> Iterator[list[Any]]:
    """The rows of the panorama's sheet (see ``_panorama_sheet``), at most
    ``max_rows_per_sheet`` + 2 rows and ``max_columns`` + 1 columns (one more than
    allowed, to tell that a limit is passed)."""
    from openpyxl import load_workbook

    bounds = {"max_row": settings.max_rows_per_sheet + 2, "max_col": settings.max_columns + 1}
    workbook = formulas = None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = _panorama_sheet(workbook, warnings)
        values = sheet.iter_rows(values_only=True, **bounds)
        if info.has_formulas:  # read the formulas too, to tell an uncomputed one from a blank
            formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            texts = formulas[sheet.title].iter_rows(values_only=True, **bounds)
        line = 0
        for row in values:
            line += 1
            if row.count(None) == len(row):
                if formulas is not None:
                    next(texts, ())
                yield []  # blank (padded) row: cheap
                continue
            record = ["" if v is None else v for v in row]
            if formulas is not None:
                for index, text in enumerate(next(texts, ())):
                    if row[index] is None and isinstance(text, str) and text.startswith("="):
                        warnings.append(
                            f"ligne {line}, colonne {index + 1} : formule sans valeur calculée "
                            f"« {text[:50]} » (valeur ignorée) ; ouvrez le classeur dans Excel "
                            "ou LibreOffice, enregistrez-le, puis renvoyez-le"
                        )
            yield record
    except PanoramaError:
        raise
    except Exception as error:  # openpyxl on a malformed part: any exception type
        raise PanoramaError(
            f"Le classeur est illisible ({type(error).__name__}) : enregistrez-le à nouveau "
            "dans Excel ou LibreOffice, puis renvoyez-le."
        ) from error
    finally:
        if workbook is not None:
            workbook.close()
        if formulas is not None:
            formulas.close()


def _bounded(records: Iterator[list[Any]], settings: Settings) -> Iterator[list[Any]]:
    """Refuse more rows, columns or characters than the limits allow."""
    for line, record in enumerate(records, start=1):
        if line > settings.max_rows_per_sheet + 1:
            raise PanoramaError(
                f"Le fichier compte plus de {settings.max_rows_per_sheet} lignes, la limite "
                "(supprimez les lignes vides en fin de feuille)."
            )
        if len(record) > settings.max_columns and any(
            str(v).strip() for v in record[settings.max_columns :]
        ):
            raise PanoramaError(
                f"Ligne {line} : plus de {settings.max_columns} colonnes remplies, la limite."
            )
        for index, value in enumerate(record[: settings.max_columns]):
            if isinstance(value, str) and len(value) > settings.max_cell_chars:
                raise PanoramaError(
                    f"Ligne {line}, colonne {index + 1} : texte de {len(value)} caractères, "
                    f"au-delà de la limite de {settings.max_cell_chars}."
                )
        yield record[: settings.max_columns]


def _header_columns(record: list[Any]) -> dict[int, str] | None:
    """``{column index: field}`` when ``record`` is the header row, else None."""
    columns: dict[int, str] = {}
    for index, title in enumerate(record):
        key = normalize_key(str(title or ""))
        if key in _FIELD_BY_KEY and _FIELD_BY_KEY[key] not in columns.values():
            columns[index] = _FIELD_BY_KEY[key]
    return columns if set(columns.values()) >= REQUIRED else None


def read_panorama(
    data: bytes, filename: str = "", settings: Settings | None = None
) -> PanoramaFile:
    """Parse a panorama file (CSV or XLSX, detected from its bytes).

    Spreadsheets pass the safety gate first (``importers.safety``: size, zip bombs, XML
    entities). The header row is the first of the first ten rows that names the required
    columns; columns are found by their normalised header (case, accents, trailing spaces
    do not matter), so extra or empty columns, in any place, are ignored. Rows, columns and
    cell lengths are bounded by the settings' limits."""
    if not data.strip():
        raise PanoramaError("Le fichier est vide.")
    settings = settings or get_settings()
    warnings: list[str] = []
    source: Iterator[list[Any]]
    try:
        kind = safety.sniff(data)
        if kind in ("zip", "ole"):
            info = safety.inspect_workbook(data, filename, settings)
            warnings.extend(info.warnings)
            source = _xlsx_records(data, info, settings, warnings)
        else:
            safety.check_size(data, filename, settings)
            if kind == "binary":
                raise PanoramaError(
                    "Le fichier n'est ni un CSV ni un classeur .xlsx : enregistrez-le en CSV "
                    "(UTF-8) ou en .xlsx."
                )
            if extension := safety.extension_warning(data, filename):
                warnings.append(extension)
            source = _csv_records(data)
    except safety.UnsafeFile as error:
        raise PanoramaError(str(error)) from error
    records = list(_bounded(source, settings))
    found = [
        (index, columns)
        for index, record in enumerate(records[:HEADER_SEARCH_ROWS])
        if (columns := _header_columns(record))
    ]
    if not found:
        names = ", ".join(f"« {h} »" for f, h in COLUMNS if f in REQUIRED)
        raise PanoramaError(
            f"En-têtes introuvables : les colonnes {names} sont obligatoires "
            "(format des données ouvertes du panorama)."
        )
    header_at, columns = found[0]
    result = PanoramaFile(
        rows=[], warnings=warnings, sha256=hashlib.sha256(data).hexdigest(), filename=filename
    )
    errors: list[str] = []
    for line, record in enumerate(records[header_at + 1 :], start=header_at + 2):
        values = {columns[i]: v for i, v in enumerate(record) if i in columns}
        if all(clean_text(str(v)) == "" for v in values.values()):
            continue  # blank line (the 2016 file ends with 236 of them)
        try:
            result.rows.append(_parse_row(line, values, result.warnings))
        except PanoramaError as error:
            errors.append(str(error))
    if errors:
        raise PanoramaError(" ".join(errors))
    if not result.rows:
        raise PanoramaError("Le fichier ne contient aucun projet.")
    return result


def _text(values: dict[str, Any], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    text = str(value).strip() if not isinstance(value, str) else value.strip()
    return text or None


def _parse_row(line: int, values: dict[str, Any], warnings: list[str]) -> PanoramaRow:
    def attempt(parser: Any, name: str) -> Any:
        try:
            return parser(values.get(name))
        except ParseError as error:
            warnings.append(f"ligne {line}, {dict(COLUMNS)[name]} : {error} (valeur ignorée)")
            return None

    name = clean_text(_text(values, "name") or "")
    code = clean_text(_text(values, "ministry_code") or "")
    if not name or not code:
        raise PanoramaError(f"Ligne {line} : le ministère et le nom du projet sont obligatoires.")
    if strange := non_latin_letters(code):
        raise PanoramaError(
            f"Ligne {line} : le code ministère « {code} » contient des lettres non latines "
            f"({strange}) qui ressemblent à des lettres latines ; saisissez-le à nouveau."
        )
    phase_text = _text(values, "phase")
    phase = _PHASES.get(normalize_key(phase_text or ""))
    if phase_text and phase is None:
        warnings.append(f"ligne {line} : phase « {phase_text} » inconnue (ignorée)")
    cost = attempt(parse_decimal, "cost")
    if cost is not None and cost < 0:
        warnings.append(f"ligne {line} : coût négatif « {cost} » ignoré")
        cost = None
    if cost is not None and cost > MAX_COST_MEUR:
        warnings.append(f"ligne {line} : coût invraisemblable « {cost} » M€ ignoré")
        cost = None
    duration = attempt(parse_decimal, "duration")
    if duration is not None and duration < 0:
        warnings.append(f"ligne {line} : durée négative « {duration} » ignorée")
        duration = None
    if duration is not None and duration > MAX_DURATION_YEARS:
        warnings.append(f"ligne {line} : durée invraisemblable « {duration} » ans ignorée")
        duration = None
    published_bracket = _BRACKETS.get(normalize_key(_text(values, "cost_bracket") or ""))
    cost_eur = None if cost is None else meur_to_eur(cost)
    bracket = published_bracket
    if cost_eur is not None:
        bracket = cost_bracket(cost_eur, phase)
        if published_bracket is not None and published_bracket != bracket:
            warnings.append(
                f"ligne {line} : la tranche publiée « {published_bracket} » ne correspond pas au "
                f"coût ({cost} M€) ; la tranche « {bracket} » est retenue"
            )
    elif bracket is None:
        bracket = BRACKET_CADRAGE if phase in (None, Phase.CADRAGE.value) else None
    financing = _text(values, "financing")
    return PanoramaRow(
        line=line,
        raw={h: ("" if values.get(f) is None else str(values.get(f))) for f, h in COLUMNS},
        ministry_code=code,
        ministry_name=clean_text(_text(values, "ministry_name") or ""),
        name=name,
        interministerial=bool(attempt(parse_bool, "interministerial")),
        description=_text(values, "description"),
        link=_text(values, "link"),
        start=_plausible(attempt(parse_date, "start"), line, "Début", warnings),
        duration_years=duration,
        phase=phase,
        cost_meur=cost,
        cost_bracket=bracket,
        functional_zone=clean_text(_text(values, "functional_zone") or "") or None,
        programmes=parse_programmes(financing),
        financing=financing,
        pap_link=_text(values, "pap_link"),
        published_on=_plausible(
            attempt(parse_date, "published_on"), line, "Date de publication", warnings
        ),
    )


def _plausible(value: date | None, line: int, column: str, warnings: list[str]) -> date | None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        warnings.append(f"ligne {line}, {column} : date invraisemblable « {value} » ignorée")
        return None
    return value


# --- Loading -----------------------------------------------------------------------------


@dataclass
class NewProject:
    """A project created by a load. In an edition that is not the first one it is
    "non rapproché": maybe new, maybe a renamed project that needs an alias."""

    project_id: int
    ministry: str
    name: str
    line: int
    candidates: list[str] = field(default_factory=list)  # "PRJ-00012 « CASSIOPEE »"

    @property
    def pilot_id(self) -> str:
        return format_pilot_id(self.project_id)


@dataclass
class LoadResult:
    edition: Edition
    created: bool
    new_projects: list[str] = field(default_factory=list)  # "MJ — PORTALIS"
    matched_projects: int = 0
    warnings: list[str] = field(default_factory=list)
    created_projects: list[NewProject] = field(default_factory=list)
    first_edition: bool = True  # no edition was loaded before this one
    same_content_as: str | None = None  # already loaded from another file (e.g. CSV vs XLSX)
    left_panorama: list[int] = field(default_factory=list)  # project ids
    entered_panorama: list[int] = field(default_factory=list)

    @property
    def unmatched(self) -> list[NewProject]:
        """New projects that could be renamed ones: every new project of a later load."""
        return [] if self.first_edition else self.created_projects


def _zone_labels(session: Session) -> dict[str, str]:
    rows = session.exec(select(Project.functional_zone, Project.functional_zone_label)).all()
    return {key: label for key, label in rows if key and label}


def _fingerprint(values: list[dict[str, Any]]) -> list[str]:
    """What an edition says, whatever the file format (decimals normalised)."""

    def canonical(v: dict[str, Any]) -> str:
        v = dict(v)
        if v.get("duration_years") is not None:
            v["duration_years"] = str(Decimal(v["duration_years"]).normalize())
        return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)

    return sorted(canonical(v) for v in values)


def _same_date_edition(
    session: Session, panorama: PanoramaFile, on: date
) -> tuple[Edition | None, bool]:
    """An edition already published on ``on``, and whether it says exactly the same."""
    existing = session.exec(select(Edition).where(Edition.published_on == on)).first()
    if existing is None:
        return None, False
    stored = [r.values for r in editions.edition_rows(session, existing)]
    return existing, _fingerprint(stored) == _fingerprint([_values(r) for r in panorama.rows])


def load_panorama(
    session: Session,
    panorama: PanoramaFile,
    *,
    number: int | None = None,
    published_on: date | None = None,
) -> LoadResult:
    """Store a parsed panorama as a published edition (in the caller's transaction).

    Idempotent: the same bytes (SHA-256), or the same content from another file of the
    same date (the CSV and the XLSX of one edition), create nothing. A different content
    for a date already loaded is refused: a published edition never changes.
    """
    existing = session.exec(select(Edition).where(Edition.source_sha256 == panorama.sha256)).first()
    if existing is not None:
        return LoadResult(edition=existing, created=False, warnings=panorama.warnings)
    on = published_on or panorama.published_on()
    if on is None:
        raise PanoramaError(
            "Date de publication introuvable : indiquez-la avec --published-on AAAA-MM-JJ."
        )
    same_date, same_content = _same_date_edition(session, panorama, on)
    if same_date is not None:
        if same_content:
            return LoadResult(
                edition=same_date,
                created=False,
                warnings=panorama.warnings,
                same_content_as=same_date.source_filename or "",
            )
        raise PanoramaError(
            f"L'édition {same_date.number} du {on:%d/%m/%Y} est déjà chargée "
            f"(fichier « {same_date.source_filename or '?'} ») avec un contenu différent ; "
            "une édition publiée ne change jamais. S'il s'agit d'une autre édition, "
            "indiquez sa date avec --published-on AAAA-MM-JJ."
        )
    first_edition = not editions.list_editions(session)
    result_warnings = list(panorama.warnings)
    zones = _zone_labels(session)
    seen: dict[int, int] = {}
    created: list[NewProject] = []
    matched = 0
    placed: list[tuple[PanoramaRow, Project]] = []
    zone_of_row: dict[int, str | None] = {}
    for row in panorama.rows:
        ministry = ministries.resolve(session, row.ministry_code, row.ministry_name)
        project = projects.find_project(session, ministry, row.name)
        zone_key = normalize_key(row.functional_zone) if row.functional_zone else None
        zone_label = None
        if zone_key and row.functional_zone:
            zone_label = zones.setdefault(zone_key, row.functional_zone)
        zone_of_row[row.line] = zone_label
        fields: dict[str, Any] = {
            "description": row.description,
            "link": row.link,
            "interministerial": row.interministerial,
            "functional_zone": zone_key,
            "functional_zone_label": zone_label,
            "programmes": ",".join(str(p) for p in row.programmes) or None,
            "financing_label": row.financing,
            "pap_link": row.pap_link,
            "start_date": row.start,
        }
        if project is None:
            project = projects.create_project(
                session,
                ministry=ministry,
                name=row.name,
                on=on,
                actor=ACTOR,
                phase=row.phase,
                **fields,
            )
            assert project.id is not None
            created.append(NewProject(project.id, ministry.code, row.name, row.line))
        else:
            matched += 1
            if _is_latest_for(session, project, on):
                if project.ministry_id != ministry.id:  # matched by an alias of that ministry
                    projects.move_to_ministry(session, project, ministry, on=on, actor=ACTOR)
                _refresh(session, project, fields, row.name, on)
        assert project.id is not None
        if project.id in seen:
            raise PanoramaError(
                f"Lignes {seen[project.id]} et {row.line} : le même projet « {row.name} » "
                "apparaît deux fois."
            )
        seen[project.id] = row.line
        # A project first published "en cadrage" (no cost) gets its initial baseline from
        # the first edition that gives its cost: a baseline without a cost would measure
        # nothing, and its first known cost needs no re-baseline reason.
        if projects.initial_baseline(session, project.id) is None and row.cost_eur is not None:
            projects.set_initial_baseline(
                session,
                project,
                approved_on=row.start or on,
                cost_eur=row.cost_eur,
                start_date=row.start,
                end_date=_end(row),
                actor=ACTOR,
                source=f"Panorama du {on.isoformat()} (première valeur publiée)",
            )
        placed.append((row, project))

    figures = compute_figures(
        replace(row.portfolio_row(), functional_zone=zone_of_row[row.line]) for row, _ in placed
    )
    edition = editions.create_edition(
        session,
        published_on=on,
        title=f"Panorama des grands projets numériques de l'État — {on.strftime('%m/%Y')}",
        source="open-data",
        figures=figures,
        rows=[(p.id, row.raw, _values(row)) for row, p in placed],
        number=number,
        source_filename=panorama.filename,
        source_sha256=panorama.sha256,
    )
    for row, project in placed:
        projects.record_report(
            session,
            project,
            reported_on=on,
            actor=ACTOR,
            phase=row.phase,
            current_cost_eur=row.cost_eur,
            forecast_end=_end(row),
            edition_id=edition.id,
        )
    changes = _update_in_panorama(session, edition, [n.project_id for n in created])
    if not first_edition:
        _suggest_candidates(session, edition, created)
    return LoadResult(
        edition=edition,
        created=True,
        new_projects=[f"{n.ministry} — {n.name}" for n in created],
        matched_projects=matched,
        warnings=result_warnings,
        created_projects=created,
        first_edition=first_edition,
        entered_panorama=[pid for pid, inside in changes if inside],
        left_panorama=[pid for pid, inside in changes if not inside],
    )


def _update_in_panorama(
    session: Session, edition: Edition, created: list[int]
) -> list[tuple[int, bool]]:
    """The latest edition by date decides who is in the panorama. An older edition loaded
    afterwards changes nothing, except that the projects it creates are not in it."""
    latest = editions.get_edition(session, "latest")
    if latest.id == edition.id:
        return editions.sync_in_panorama(session, actor=ACTOR)
    present = {r.project_id for r in editions.edition_rows(session, latest)}
    return editions.set_in_panorama(
        session, {pid: False for pid in created if pid not in present}, actor=ACTOR
    )


_SIGNIFICANT = 4  # words shorter than this ("de", "si", "v2") say nothing about identity


def _suggest_candidates(session: Session, edition: Edition, created: list[NewProject]) -> None:
    """For each new project, the projects of its ministry that left the panorama with this
    edition and look like it (same start, a shared word, one name inside the other).
    Suggestions for a human: nothing is merged."""
    if not created:
        return
    previous = editions.previous_edition(session, edition)
    if previous is None:
        return
    gone = editions.diff(session, previous, edition).exits
    if not gone:
        return
    new_ids = {n.project_id for n in created}
    by_id = {
        p.id: p
        for p in session.exec(select(Project).where(col(Project.id).in_(gone + list(new_ids))))
    }
    for new in created:
        project = by_id[new.project_id]
        words = {w for w in project.name_key.split() if len(w) >= _SIGNIFICANT}
        compact = project.name_key.replace(" ", "")
        for old_id in gone:
            old = by_id[old_id]
            if old.ministry_id != project.ministry_id:
                continue
            old_compact = old.name_key.replace(" ", "")
            if (
                (old.start_date is not None and old.start_date == project.start_date)
                or words & {w for w in old.name_key.split() if len(w) >= _SIGNIFICANT}
                or old_compact in compact
                or compact in old_compact
            ):
                new.candidates.append(f"{old.pilot_id} « {old.name} »")


def _end(row: PanoramaRow) -> date | None:
    if row.start is None or row.duration_years is None:
        return None
    return add_years(row.start, row.duration_years)


def _values(row: PanoramaRow) -> dict[str, Any]:
    return {
        "ministry_code": row.ministry_code,
        "name": row.name,
        "interministerial": row.interministerial,
        "start": row.start.isoformat() if row.start else None,
        "duration_years": None if row.duration_years is None else str(row.duration_years),
        "phase": row.phase,
        "cost_eur": row.cost_eur,
        "cost_bracket": row.cost_bracket,
        "functional_zone": row.functional_zone,
        "programmes": row.programmes,
    }


def _is_latest_for(session: Session, project: Project, on: date) -> bool:
    report = projects.latest_report(session, project.id or 0)
    return report is None or report.reported_on <= on


def _refresh(
    session: Session, project: Project, fields: dict[str, Any], name: str, on: date
) -> None:
    projects.rename_project(session, project, name, on=on, actor=ACTOR)
    changes = {k: v for k, v in fields.items() if v is not None}
    bulk.update_one(session, project, changes, stamp=Stamp(ACTOR))


def import_panorama_file(
    session: Session, path: Path, *, number: int | None = None, published_on: date | None = None
) -> LoadResult:
    """Read the file in the isolated reader (``importers.reading``), then load it."""
    from importers.reading import read_panorama_isolated

    data = path.read_bytes()
    return load_panorama(
        session, read_panorama_isolated(data, path.name), number=number, published_on=published_on
    )
