"""The safety gate every spreadsheet goes through before any reader opens it.

``check_workbook_bytes(data, filename, settings)`` refuses, with a French ``UnsafeFile``
error, what no reader should ever parse:

- a file over ``settings.max_upload_bytes``, or empty;
- a file that is not a zip (``.xlsx``, ``.xlsm`` and ``.ods`` are zips), with a specific
  message for an OLE/CFB container: a password-protected workbook or an old ``.xls``;
- a zip that cannot be read (truncated, damaged, bad CRC), that has more than
  ``settings.max_zip_entries`` entries or twice the same entry name, whose declared
  uncompressed size exceeds ``settings.max_uncompressed_bytes``, or whose entries inflate
  more than ``settings.max_compression_ratio`` times (zip bomb);
- a DTD or entity declaration (``<!DOCTYPE``, ``<!ENTITY``) in any XML part: entity
  expansion ("billion laughs") and external entities (XXE) never reach a parser.

Every entry is inflated once, in 64 KiB chunks, counting the bytes actually produced: a
zip that lies about its sizes cannot make the gate (or the reader after it) use more than
the limits. openpyxl parses with defusedxml (``openpyxl.DEFUSEDXML``), checked here too,
as a second line of defence.

``inspect_workbook`` does the same checks and also returns what a reader may want to warn
about (macros, formulas, external links, a misleading file extension).
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pilot.config import Settings

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHUNK = 64 * 1024
RATIO_FLOOR = 1024 * 1024  # entries smaller than this inflated are never a bomb
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".ods"}
# Parts that are not XML (images, embedded binaries): never scanned for a DTD.
BINARY_SUFFIXES = {
    ".bin",
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".bmp",
    ".tif",
    ".tiff",
    ".emf",
    ".wmf",
    ".svg",
    ".wdp",
}
_DTD_MARKERS = (b"<!doctype", b"<!entity")
_TAIL = 32  # bytes kept between chunks, so that no marker is split unseen


class UnsafeFile(ValueError):
    """A file refused before reading; the message is French, for the person who sent it."""


@dataclass
class WorkbookInfo:
    """What the gate saw in an accepted workbook."""

    kind: str  # "xlsx" or "ods"
    entries: int = 0
    uncompressed_bytes: int = 0
    has_macros: bool = False
    has_formulas: bool = False
    has_external_links: bool = False
    warnings: list[str] = field(default_factory=list)


def require_defusedxml() -> None:
    """openpyxl must parse XML with defusedxml (it does when defusedxml is installed and
    ``OPENPYXL_DEFUSEDXML`` is not set to something else than ``True``).

    openpyxl decides once, when imported (``openpyxl.xml.DEFUSEDXML``); before that, the
    same two conditions are checked here without paying openpyxl's import (0,3 s), which
    the calamine reader does not need."""
    openpyxl = sys.modules.get("openpyxl")
    if openpyxl is not None:
        safe = bool(openpyxl.DEFUSEDXML)
    else:
        safe = (
            importlib.util.find_spec("defusedxml") is not None
            and os.environ.get("OPENPYXL_DEFUSEDXML", "True") == "True"
        )
    if not safe:
        raise RuntimeError(
            "openpyxl ne protège pas son analyse XML : installez defusedxml et ne "
            "définissez pas OPENPYXL_DEFUSEDXML=False."
        )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}".replace(".", ",") + " Mo"


def sniff(data: bytes) -> str:
    """What the bytes are: ``zip``, ``ole`` (CFB: encrypted workbook or old .xls), ``text``
    or ``binary``."""
    if data.startswith(ZIP_MAGIC) or data.startswith(EMPTY_ZIP_MAGIC):
        return "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"  # UTF-16 with BOM (Excel's "Unicode text"): NUL bytes are expected
    head = data[:4096]
    if b"\x00" in head:
        return "binary"
    return "text"


def check_size(data: bytes, filename: str, settings: Settings) -> None:
    name = filename or "Le fichier"
    if len(data) > settings.max_upload_bytes:
        raise UnsafeFile(
            f"{name} : le fichier pèse {_megabytes(len(data))}, au-delà de la limite de "
            f"{_megabytes(settings.max_upload_bytes)}."
        )
    if not data:
        raise UnsafeFile(f"{name} : le fichier est vide.")


def check_workbook_bytes(data: bytes, filename: str, settings: Settings) -> None:
    """Refuse a spreadsheet that is not safe to open (see the module docstring)."""
    inspect_workbook(data, filename, settings)


def inspect_workbook(data: bytes, filename: str, settings: Settings) -> WorkbookInfo:
    """``check_workbook_bytes``, returning what it saw (with French warnings)."""
    require_defusedxml()
    name = filename or "Le fichier"
    check_size(data, filename, settings)
    kind = sniff(data)
    if kind == "ole":
        raise UnsafeFile(
            f"{name} : fichier protégé par mot de passe ou ancien format .xls. Enregistrez-le "
            "au format .xlsx (Excel) ou .ods (LibreOffice), sans mot de passe, puis renvoyez-le."
        )
    if kind != "zip":
        looks = "du texte (CSV ?)" if kind == "text" else "un autre format"
        raise UnsafeFile(
            f"{name} : ce n'est pas un classeur .xlsx ou .ods (son contenu ressemble à {looks}). "
            "Enregistrez-le au format .xlsx ou .ods, puis renvoyez-le."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise UnsafeFile(
            f"{name} : le classeur est tronqué ou endommagé (archive illisible). "
            "Enregistrez-le à nouveau puis renvoyez-le."
        ) from None
    with archive:
        infos = archive.infolist()
        info = _check_entries(infos, name, settings)
        _scan_entries(data, infos, name, settings, info)
    info.warnings.extend(_warnings(info, filename))
    return info


def _check_entries(infos: list[zipfile.ZipInfo], name: str, settings: Settings) -> WorkbookInfo:
    if not infos:
        raise UnsafeFile(f"{name} : le classeur est vide (archive sans contenu).")
    if len(infos) > settings.max_zip_entries:
        raise UnsafeFile(
            f"{name} : l'archive contient {len(infos)} éléments, au-delà de la limite de "
            f"{settings.max_zip_entries}."
        )
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise UnsafeFile(f"{name} : l'archive contient deux fois le même élément (suspect).")
    declared = sum(i.file_size for i in infos)
    if declared > settings.max_uncompressed_bytes:
        raise UnsafeFile(
            f"{name} : une fois décompressé, le classeur ferait {_megabytes(declared)}, au-delà "
            f"de la limite de {_megabytes(settings.max_uncompressed_bytes)} (bombe de "
            "décompression ?)."
        )
    for i in infos:
        if i.file_size > RATIO_FLOOR and i.file_size > settings.max_compression_ratio * max(
            i.compress_size, 1
        ):
            raise UnsafeFile(
                f"{name} : l'élément « {i.filename} » se décompresse "
                f"{i.file_size // max(i.compress_size, 1)} fois (bombe de décompression ?)."
            )
    lowered = {n.lower() for n in names}
    if "mimetype" in lowered and any(n.endswith("content.xml") for n in lowered):
        kind = "ods"
    else:
        kind = "xlsx"
    return WorkbookInfo(
        kind=kind,
        entries=len(infos),
        has_macros=any(
            n.endswith("vbaproject.bin") or n.startswith("basic/") or n.startswith("scripts/")
            for n in lowered
        ),
        has_external_links=any(n.startswith("xl/externallinks/") for n in lowered),
    )


def _is_xml_part(entry: str) -> bool:
    return PurePosixPath(entry.lower()).suffix not in BINARY_SUFFIXES


def _is_sheet_part(entry: str) -> bool:
    lowered = entry.lower()
    return lowered.startswith("xl/worksheets/") or lowered == "content.xml"


def _inflated_chunks(data: bytes, entry: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    """The entry's bytes, inflated from the raw archive by PILOT itself (not trusting the
    declared size): at most ``entry.file_size`` + one chunk, checked against the CRC."""
    unreadable = UnsafeFile(
        f"{name} : l'élément « {entry.filename} » est illisible (archive endommagée, chiffrée "
        "ou compressée d'une façon non prise en charge)."
    )
    if entry.flag_bits & 0x1 or entry.compress_type not in (
        zipfile.ZIP_STORED,
        zipfile.ZIP_DEFLATED,
    ):
        raise unreadable
    start = entry.header_offset
    header = data[start : start + 30]
    if len(header) < 30 or header[:4] != ZIP_MAGIC:
        raise unreadable
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    local_name = data[start + 30 : start + 30 + name_length]
    if (
        local_name.decode("utf-8", "replace") != entry.filename
        and local_name.decode("cp437", "replace") != entry.filename
    ):
        raise unreadable
    offset = start + 30 + name_length + extra_length
    raw = memoryview(data)[offset : offset + entry.compress_size]
    if len(raw) < entry.compress_size:
        raise unreadable
    crc = 0
    produced = 0
    too_long = UnsafeFile(
        f"{name} : l'élément « {entry.filename} » n'a pas la taille annoncée (archive "
        "endommagée ou falsifiée, bombe de décompression ?)."
    )
    if entry.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[bytes] = (bytes(raw[i : i + CHUNK]) for i in range(0, len(raw), CHUNK))
    else:
        pieces = _inflate(raw, entry.file_size, unreadable)
    for piece in pieces:
        produced += len(piece)
        if produced > entry.file_size:
            raise too_long
        crc = zlib.crc32(piece, crc)
        yield piece
    if produced != entry.file_size:
        raise too_long
    if crc != entry.CRC:
        raise unreadable


def _inflate(raw: memoryview, limit: int, unreadable: UnsafeFile) -> Iterator[bytes]:
    """Inflate ``raw`` in chunks, stopping as soon as more than ``limit`` bytes come out."""
    inflater = zlib.decompressobj(-15)
    produced = 0
    position = 0
    pending = b""
    try:
        while not inflater.eof:
            if not pending:
                if position >= len(raw):
                    raise unreadable  # the stream ends before its end marker
                pending = bytes(raw[position : position + CHUNK])
                position += CHUNK
            piece = inflater.decompress(pending, CHUNK)
            pending = inflater.unconsumed_tail
            if piece:
                produced += len(piece)
                yield piece
                if produced > limit:
                    return
    except zlib.error:
        raise unreadable from None


def _column_number(letters: bytes) -> int:
    """b"A" → 1, b"Z" → 26, b"AA" → 27 (uppercase or not)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


# A cell whose reference has two letters or more (column 27 and beyond) or six digits
# (row 100 000 and beyond): the only ones that can take a sheet past the limits, so that
# an ordinary workbook costs no match at all. Prefixed element names are matched too.
_FAR_CELL = re.compile(
    rb"<(?:[\w.-]+:)?c\s[^>]*?\br\s*=\s*[\"']\$?([A-Za-z]{2,}|[A-Za-z])\$?(\d+)[\"']"
)
_XLSX_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\s")
_SHARED_STRING = re.compile(rb"<(?:[\w.-]+:)?si[\s>/]")
_ODS_TOKEN = re.compile(
    rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*)>"
)
_ODS_ROWS_REPEATED = re.compile(rb"table:number-rows-repeated\s*=\s*[\"'](\d+)")
_ODS_COLUMNS_REPEATED = re.compile(rb"table:number-columns-repeated\s*=\s*[\"'](\d+)")
_ODS_VALUE = re.compile(rb"office:value-type\s*=|table:formula\s*=")
_OPEN_TAG_LIMIT = 1024 * 1024


class _Extent:
    """How far a sheet's real cells reach (rows and columns), read from its XML as it is
    inflated: a declared dimension or a repeat count never allocates anything here, and
    the sheet is refused as soon as its cells go past the limits, before any parser (which
    would allocate rows × columns cells) sees it."""

    def __init__(self, name: str, part: str, settings: Settings) -> None:
        self.name = name
        self.part = part
        self.settings = settings
        self.carry = b""
        self.sheets = 0  # sheets met in this part (ODS: every sheet is in content.xml)
        self.rows = 0
        self.columns = 0
        # ODS state: the current row's first line, its repeat and the columns reached
        self.row_at = 0
        self.row_repeat = 1
        self.row_content_to = 0
        self.column_at = 0

    def feed(self, chunk: bytes, scan: Callable[[bytes], None]) -> None:
        window = self.carry + chunk
        cut = window.rfind(b"<")
        if cut == -1 or window.find(b">", cut) != -1:
            cut = len(window)
        scan(window[:cut])
        self.carry = window[cut:]
        if len(self.carry) > _OPEN_TAG_LIMIT:
            raise UnsafeFile(
                f"{self.name} : l'élément « {self.part} » contient une balise XML démesurée "
                "(fichier falsifié ?)."
            )

    def reach(self, rows: int, columns: int, where: str) -> None:
        self.rows = max(self.rows, rows)
        self.columns = max(self.columns, columns)
        settings = self.settings
        if (
            self.rows > settings.max_rows_per_sheet + 1
            or self.columns > settings.max_columns
            or self.rows * self.columns > settings.max_sheet_cells
        ):
            raise UnsafeFile(
                f"{self.name} : un onglet contient une cellule {where}, si loin que l'onglet "
                f"s'étendrait sur {self.rows} lignes et {self.columns} colonnes ; les limites "
                f"sont de {settings.max_rows_per_sheet} lignes, {settings.max_columns} colonnes "
                f"et {settings.max_sheet_cells} cellules par onglet. Supprimez les lignes et "
                "colonnes inutiles (y compris vides mais mises en forme) puis renvoyez le fichier."
            )

    def _count(self, pattern: re.Pattern[bytes], text: bytes, limit: int, what: str) -> None:
        self.sheets += sum(1 for _ in pattern.finditer(text))
        self._bound(limit, what)

    def _bound(self, limit: int, what: str) -> None:
        if self.sheets > limit:
            raise UnsafeFile(
                f"{self.name} : le classeur déclare plus de {limit} {what}, au-delà de la "
                "limite (fichier falsifié ?)."
            )

    def workbook_sheets(self, text: bytes) -> None:
        self._count(_XLSX_SHEET, text, self.settings.max_sheets, "onglets")

    def shared_strings(self, text: bytes) -> None:
        self._count(_SHARED_STRING, text, self.settings.max_shared_strings, "textes partagés")

    def xlsx(self, text: bytes) -> None:
        for match in _FAR_CELL.finditer(text):
            letters, digits = match.group(1), match.group(2)
            if len(letters) > 1 or len(digits) >= 6:
                self.reach(
                    int(digits), _column_number(letters), f"en {(letters + digits).decode()}"
                )

    def ods(self, text: bytes) -> None:
        for match in _ODS_TOKEN.finditer(text):
            closing, element, attributes = match.groups()
            self_closing = attributes.endswith(b"/")
            if element == b"table":
                if not closing:
                    self.sheets += 1
                    self._bound(self.settings.max_sheets, "onglets")
                    self.row_at = self.rows = self.columns = 0
                continue
            if element == b"table-row":
                if not closing:
                    repeated = _ODS_ROWS_REPEATED.search(attributes)
                    self.row_repeat = min(int(repeated.group(1)), 1 << 40) if repeated else 1
                    self.column_at = self.row_content_to = 0
                if closing or self_closing:
                    if self.row_content_to:
                        where = (
                            f"répétée sur {self.row_repeat} lignes"
                            if (self.row_repeat > 1)
                            else f"à la ligne {self.row_at + 1}"
                        )
                        self.reach(self.row_at + self.row_repeat, self.row_content_to, where)
                    self.row_at += self.row_repeat
                    self.row_repeat = 1
                continue
            if closing:
                continue  # a cell's end: counted at its start
            repeated = _ODS_COLUMNS_REPEATED.search(attributes)
            count = min(int(repeated.group(1)), 1 << 40) if repeated else 1
            self.column_at += count
            # a cell holds something when it has a value type, a formula or children
            if not self_closing or _ODS_VALUE.search(attributes):
                self.row_content_to = self.column_at
                if count > 1 and self.column_at > self.settings.max_columns:
                    self.reach(
                        self.row_at + 1, self.column_at, "répétée sur de nombreuses colonnes"
                    )


def _scan_entries(
    data: bytes,
    infos: list[zipfile.ZipInfo],
    name: str,
    settings: Settings,
    info: WorkbookInfo,
) -> None:
    """Inflate every entry once, bounded, looking for DTDs and formulas, and measuring
    what would make a parser allocate without bound: how far each sheet's cells reach
    (``_Extent``), how many sheets and shared strings the workbook declares."""
    total = 0
    for entry in infos:
        if entry.is_dir():
            continue
        xml = _is_xml_part(entry.filename)
        sheet = _is_sheet_part(entry.filename)
        lowered = entry.filename.lower()
        extent = _Extent(name, entry.filename, settings)
        scan: Callable[[bytes], None] | None = None
        if sheet:
            scan = extent.ods if lowered == "content.xml" else extent.xlsx
        elif lowered == "xl/workbook.xml":
            scan = extent.workbook_sheets
        elif lowered == "xl/sharedstrings.xml":
            scan = extent.shared_strings
        tail = b""
        wide: bool | None = None
        for chunk in _inflated_chunks(data, entry, name):
            if scan is not None:
                extent.feed(chunk, scan)
            total += len(chunk)
            if total > settings.max_uncompressed_bytes:
                raise UnsafeFile(
                    f"{name} : une fois décompressé, le classeur dépasse la limite de "
                    f"{_megabytes(settings.max_uncompressed_bytes)} (bombe de décompression ?)."
                )
            if not xml:
                continue
            if wide is None:  # UTF-16/32 XML: drop the NULs so that markers stay visible
                wide = chunk[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in chunk[:4]
            window = tail + (chunk.replace(b"\x00", b"") if wide else chunk).lower()
            # "!" (one byte: the fastest search) is in every marker: most chunks stop here
            if b"!" in window and any(marker in window for marker in _DTD_MARKERS):
                raise UnsafeFile(
                    f"{name} : l'élément « {entry.filename} » contient une déclaration DTD ou "
                    "d'entité XML (<!DOCTYPE, <!ENTITY), refusée par sécurité (expansion "
                    "d'entités, entités externes)."
                )
            if sheet and not info.has_formulas:
                info.has_formulas = (
                    b"<f" in window and (b"<f>" in window or b"<f " in window)
                ) or b"table:formula=" in window
            tail = window[-_TAIL:]
    info.uncompressed_bytes = total


def _warnings(info: WorkbookInfo, filename: str) -> list[str]:
    warnings: list[str] = []
    if info.has_macros:
        warnings.append(
            "le classeur contient des macros : PILOT ne les exécute jamais et les ignore."
        )
    if info.has_external_links:
        warnings.append(
            "le classeur contient des liaisons vers d'autres fichiers : seules les valeurs "
            "enregistrées dans ce classeur sont lues."
        )
    suffix = PurePosixPath(filename.lower()).suffix
    expected = ".ods" if info.kind == "ods" else ".xlsx"
    if filename and suffix not in WORKBOOK_SUFFIXES:
        warnings.append(
            f"le fichier « {filename} » est en réalité un classeur {expected} : il a été lu "
            "comme tel."
        )
    return warnings


def extension_warning(data: bytes, filename: str) -> str | None:
    """A French warning when a text file carries a workbook extension (it is read as CSV)."""
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix in WORKBOOK_SUFFIXES and sniff(data) == "text":
        return (
            f"le fichier « {filename} » porte l'extension {suffix} mais contient du texte "
            "(CSV) : il a été lu comme un fichier CSV."
        )
    return None
