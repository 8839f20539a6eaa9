"""A corpus of hostile workbooks, made on demand: nothing binary is committed.

Each case is a ``HostileCase``: the bytes, the file name they arrive under, what they
are (English, for SECURITY.md) and what PILOT must do with them, per consumer:

- ``gate``: ``importers.safety.check_workbook_bytes`` (refuse before any reader);
- ``panorama``: ``importers.panorama.read_panorama`` (DINUM's open data);
- ``workbook``: the ministry workbook reader (issue 4), the contract it must meet.

Content cases are built around a ``Table`` (headers, a valid row, which columns hold an
identifier, a date, an amount, a text), so the same hostile content can be aimed at the
ministry workbook once its template exists: ``cases(table=MY_TABLE)``.

Workbooks are written by hand (a small zip writer and minimal SpreadsheetML), so that
declared sizes, CRCs, entry names and XML can be anything an attacker likes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

Outcome = Literal["refused", "warning", "accepted"]

# --- What PILOT must do ------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """``refused``: a French error containing ``fragment``; ``warning``: accepted with a
    French warning containing ``fragment``; ``accepted``: no error (``fragment`` unused)."""

    outcome: Outcome
    fragment: str = ""


@dataclass(frozen=True)
class HostileCase:
    name: str
    filename: str
    data: bytes
    what: str
    gate: Expect
    panorama: Expect
    workbook: Expect
    limits: dict[str, int] = field(default_factory=dict)  # settings overrides for the test

    def __repr__(self) -> str:  # keep pytest ids and failure output short
        return f"HostileCase({self.name}, {len(self.data)} bytes)"


# --- A tiny zip writer that can lie ------------------------------------------------------


@dataclass
class Entry:
    name: str
    data: bytes = b""  # uncompressed content (deflated by the writer unless ``raw`` is set)
    raw: bytes | None = None  # already-compressed bytes
    crc: int | None = None
    size: int | None = None  # declared uncompressed size (default: the real one)
    method: int = 8  # 8 deflate, 0 stored
    flags: int = 0


def deflate(data: bytes, level: int = 6) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def zip_bytes(entries: Iterable[Entry]) -> bytes:
    body = bytearray()
    central = bytearray()
    count = 0
    for entry in entries:
        count += 1
        name = entry.name.encode("utf-8")
        if entry.raw is not None:
            payload = entry.raw
        elif entry.method == 8:
            payload = deflate(entry.data)
        else:
            payload = entry.data
        crc = zlib.crc32(entry.data) if entry.crc is None else entry.crc
        size = len(entry.data) if entry.size is None else entry.size
        flags = entry.flags | 0x800
        offset = len(body)
        body += struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            flags,
            entry.method,
            0,
            0x21,
            crc,
            len(payload),
            size,
            len(name),
            0,
        )
        body += name + payload
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            flags,
            entry.method,
            0,
            0x21,
            crc,
            len(payload),
            size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), len(body), 0)
    return bytes(body + central + end)


# --- CRC-32 of a long repetition, without computing it byte by byte (zlib's algorithm) ----


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, index = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[index]
        vector >>= 1
        index += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A + B from crc(A), crc(B) and len(B), as zlib's crc32_combine."""
    if length2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while True:
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2


def crc32_repeated(chunk: bytes, times: int) -> int:
    """crc32(chunk * times) by doubling."""
    result, result_len = 0, 0
    power, power_len = zlib.crc32(chunk), len(chunk)
    while times:
        if times & 1:
            result = crc32_combine(result, power, power_len) if result_len else power
            result_len += power_len
        times >>= 1
        if times:
            power = crc32_combine(power, power, power_len)
            power_len *= 2
    return result


# --- Minimal SpreadsheetML ----------------------------------------------------------------

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
CT_MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
STYLES = (
    f'{XML_DECL}<styleSheet xmlns="{NS_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
BILLION_LAUGHS_DTD = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>"
)
XXE_DTD = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula and no cached value (as a generator, not Excel, writes)."""

    text: str


@dataclass(frozen=True)
class Shared:
    """A cell pointing at the shared-strings table."""

    index: int


@dataclass
class Sheet:
    title: str
    rows: Iterable[Sequence[Any]] = ()
    state: str = "visible"  # visible, hidden, veryHidden
    dimension: str | None = None
    merged: list[str] = field(default_factory=list)
    before_root: str = ""  # e.g. a DTD
    raw_rows: str = ""  # extra literal XML inside <sheetData>


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, Formula):
        return f'<c r="{ref}"><f>{escape(value.text)}</f></c>'
    if isinstance(value, Shared):
        return f'<c r="{ref}" t="s"><v>{value.index}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return (
        f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'
    )


def sheet_xml(sheet: Sheet) -> bytes:
    parts = [XML_DECL, sheet.before_root, f'<worksheet xmlns="{NS_MAIN}">']
    if sheet.dimension:
        parts.append(f'<dimension ref="{sheet.dimension}"/>')
    parts.append("<sheetData>")
    for number, row in enumerate(sheet.rows, start=1):
        cells = "".join(_cell(f"{column_letter(i)}{number}", value) for i, value in enumerate(row))
        parts.append(f'<row r="{number}">{cells}</row>')
    parts.append(sheet.raw_rows)
    parts.append("</sheetData>")
    if sheet.merged:
        refs = "".join(f'<mergeCell ref="{ref}"/>' for ref in sheet.merged)
        parts.append(f'<mergeCells count="{len(sheet.merged)}">{refs}</mergeCells>')
    parts.append("</worksheet>")
    return "".join(parts).encode("utf-8")


def shared_strings_xml(strings: Sequence[str], before_root: str = "", raw: str = "") -> bytes:
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + raw
    count = len(strings) + (1 if raw else 0)
    return (
        f'{XML_DECL}{before_root}<sst xmlns="{NS_MAIN}" count="{count}" '
        f'uniqueCount="{count}">{items}</sst>'
    ).encode()


def xlsx_entries(
    sheets: Sequence[Sheet],
    *,
    shared_strings: bytes | None = None,
    macros: bool = False,
    sheet_parts: dict[int, Entry] | None = None,
) -> list[Entry]:
    """The entries of a minimal workbook (``sheet_parts`` replaces a sheet's entry)."""
    main = CT_MACRO_MAIN if macros else CT_MAIN
    overrides = [
        f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>',
        f'<Override PartName="/xl/styles.xml" ContentType="{CT_STYLES}"/>',
    ]
    workbook_rels = [f'<Relationship Id="rIdStyles" Type="{NS_REL}/styles" Target="styles.xml"/>']
    sheet_tags = []
    entries: list[Entry] = []
    for number, sheet in enumerate(sheets, start=1):
        overrides.append(
            f'<Override PartName="/xl/worksheets/sheet{number}.xml" ContentType="{CT_SHEET}"/>'
        )
        workbook_rels.append(
            f'<Relationship Id="rId{number}" Type="{NS_REL}/worksheet" '
            f'Target="worksheets/sheet{number}.xml"/>'
        )
        state = "" if sheet.state == "visible" else f' state="{sheet.state}"'
        sheet_tags.append(
            f'<sheet name={quoteattr(sheet.title)} sheetId="{number}"{state} r:id="rId{number}"/>'
        )
        part = (sheet_parts or {}).get(number)
        entries.append(part or Entry(f"xl/worksheets/sheet{number}.xml", sheet_xml(sheet)))
    if shared_strings is not None:
        overrides.append(f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CT_STRINGS}"/>')
        workbook_rels.append(
            f'<Relationship Id="rIdStrings" Type="{NS_REL}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
        )
        entries.append(Entry("xl/sharedStrings.xml", shared_strings))
    defaults = (
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
    )
    if macros:
        defaults += '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        workbook_rels.append(
            '<Relationship Id="rIdVba" '
            'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/>'
        )
        entries.append(Entry("xl/vbaProject.bin", fake_ole(b"VBA\x00Attribute VB_Name")))
    content_types = (
        f'{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f"{defaults}{''.join(overrides)}</Types>"
    )
    root_rels = (
        f'{XML_DECL}<Relationships xmlns="{NS_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{NS_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        f'{XML_DECL}<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}"><sheets>'
        f"{''.join(sheet_tags)}</sheets></workbook>"
    )
    rels = f'{XML_DECL}<Relationships xmlns="{NS_PKG_REL}">{"".join(workbook_rels)}</Relationships>'
    return [
        Entry("[Content_Types].xml", content_types.encode()),
        Entry("_rels/.rels", root_rels.encode()),
        Entry("xl/workbook.xml", workbook.encode()),
        Entry("xl/_rels/workbook.xml.rels", rels.encode()),
        Entry("xl/styles.xml", STYLES.encode()),
        *entries,
    ]


def xlsx(sheets: Sequence[Sheet], **kwargs: Any) -> bytes:
    return zip_bytes(xlsx_entries(sheets, **kwargs))


def fake_ole(payload: bytes = b"") -> bytes:
    """A Compound File Binary container (what Excel writes for a password-protected
    workbook: an ``EncryptedPackage`` stream inside OLE, and for old ``.xls``)."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    directory = "EncryptedPackage".encode("utf-16-le").ljust(64, b"\x00")
    return bytes(header) + directory.ljust(512, b"\x00") + payload.ljust(3072, b"\x00")


# --- The tables hostile content is aimed at ------------------------------------------------


@dataclass(frozen=True)
class Table:
    """The shape of a sheet a reader expects, and where the sensitive values go."""

    headers: list[str]
    row: Callable[[int], list[Any]]  # a valid data row, numbered from 1
    id_col: int  # an identifier / code column
    text_col: int  # a free-text column
    date_col: int
    amount_col: int
    title: str = "Feuil1"  # the sheet's name
    lookalike: str = ""  # an identifier with a non-Latin look-alike letter


def _panorama_row(n: int) -> list[Any]:
    return [
        "MI",
        "Ministère de l'Intérieur",
        f"Projet hostile {n}",
        "Non",
        "Un projet de test.",
        "",
        "2017-01-01",
        3,
        "Déploiement",
        12.5,
        "entre 9 et 20 M€",
        "Sécurité intérieure",
        "Police nationale (P176)",
        "",
        "2017-06-01",
    ]


def panorama_table() -> Table:
    from importers.panorama import HEADERS

    return Table(
        headers=list(HEADERS), row=_panorama_row, id_col=0, text_col=2, date_col=6, amount_col=9
    )


def _rows(table: Table, count: int) -> list[list[Any]]:
    return [table.headers] + [table.row(n) for n in range(1, count + 1)]


def _with(table: Table, n: int, **columns: Any) -> list[Any]:
    row = table.row(n)
    for key, value in columns.items():
        row[getattr(table, key)] = value
    return row


# --- The cases -----------------------------------------------------------------------------

GIB = 1024**3
BOMB_CHUNK = b" " * (1024 * 1024)


def bomb_part(name: str, inflated: int, *, declared: int | None = None) -> Entry:
    """An XML part that inflates to ``inflated`` bytes (a sheet start, then spaces) from a
    few MB, declaring ``declared`` bytes (default: the truth)."""
    prefix = f'{XML_DECL}<worksheet xmlns="{NS_MAIN}"><sheetData>'.encode()
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = first.compress(prefix) + first.flush(zlib.Z_FULL_FLUSH)
    repeat = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = repeat.compress(BOMB_CHUNK) + repeat.flush(zlib.Z_FULL_FLUSH)
    assert block == repeat.compress(BOMB_CHUNK) + repeat.flush(zlib.Z_FULL_FLUSH)
    times = (inflated - len(prefix)) // len(BOMB_CHUNK)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    real_size = len(prefix) + times * len(BOMB_CHUNK)
    if declared is None:
        declared = real_size
        crc = crc32_combine(
            zlib.crc32(prefix), crc32_repeated(BOMB_CHUNK, times), times * len(BOMB_CHUNK)
        )
    else:  # the CRC of what a reader trusting the declared size would see
        crc = zlib.crc32((prefix + BOMB_CHUNK)[:declared])
    return Entry(name, raw=head + block * times + final, crc=crc, size=declared)


def cases(table: Table | None = None, *, million_rows: int = 1_000_000) -> list[HostileCase]:
    """Every hostile case (a few MB in all; fast except ``million_rows``, made on demand by
    ``million_rows_case``)."""
    t = table or panorama_table()
    good = _rows(t, 3)
    valid = xlsx([Sheet(t.title, good)])
    out: list[HostileCase] = []

    def add(
        name: str,
        filename: str,
        data: bytes,
        what: str,
        gate: Expect,
        panorama: Expect,
        workbook: Expect | None = None,
        **limits: int,
    ) -> None:
        out.append(
            HostileCase(name, filename, data, what, gate, panorama, workbook or panorama, limits)
        )

    add(
        "valid_control",
        "panorama.xlsx",
        valid,
        "A valid workbook (control case)",
        Expect("accepted"),
        Expect("accepted"),
    )
    add(
        "empty_file",
        "vide.xlsx",
        b"",
        "Zero bytes",
        Expect("refused", "vide"),
        Expect("refused", "vide"),
    )
    add(
        "not_a_zip",
        "projets.xlsx",
        bytes(range(256)) * 64,
        "Binary garbage named .xlsx",
        Expect("refused", "n'est pas un classeur"),
        Expect("refused", "ni un CSV ni un classeur"),
        Expect("refused", "n'est pas un classeur"),
    )
    add(
        "truncated_zip",
        "projets.xlsx",
        valid[: len(valid) // 2],
        "A workbook cut in the middle of the upload",
        Expect("refused", "tronqué ou endommagé"),
        Expect("refused", "tronqué ou endommagé"),
    )
    add(
        "oversized_file",
        "gros.xlsx",
        valid + b"\x00" * 2_000_000,
        "A file over max_upload_bytes (test limit 1 MB)",
        Expect("refused", "au-delà de la limite"),
        Expect("refused", "au-delà de la limite"),
        max_upload_bytes=1_000_000,
    )
    add(
        "zip_bomb_declared",
        "bombe.xlsx",
        xlsx([Sheet(t.title)], sheet_parts={1: bomb_part("xl/worksheets/sheet1.xml", 3 * GIB)}),
        "A 3 MB workbook whose sheet inflates to 3 GiB, sizes declared honestly",
        Expect("refused", "bombe de décompression"),
        Expect("refused", "bombe de décompression"),
    )
    add(
        "zip_bomb_lying_sizes",
        "bombe.xlsx",
        xlsx(
            [Sheet(t.title)],
            sheet_parts={1: bomb_part("xl/worksheets/sheet1.xml", 3 * GIB, declared=4000)},
        ),
        "The same bomb declaring 4 kB (sizes and CRC forged to match the declared prefix)",
        Expect("refused", "taille annoncée"),
        Expect("refused", "taille annoncée"),
    )
    add(
        "zip_too_many_entries",
        "projets.xlsx",
        zip_bytes(
            xlsx_entries([Sheet(t.title, good)])
            + [Entry(f"xl/media/junk{n}.png", b"") for n in range(5000)]
        ),
        "5 000 entries in the archive",
        Expect("refused", "éléments"),
        Expect("refused", "éléments"),
    )
    entries = xlsx_entries([Sheet(t.title, good)])
    add(
        "zip_duplicate_entry",
        "projets.xlsx",
        zip_bytes([*entries, Entry("xl/worksheets/sheet1.xml", sheet_xml(Sheet("x", [["x"]])))]),
        "Two entries with the same name (one shown to a viewer, another to a reader)",
        Expect("refused", "deux fois"),
        Expect("refused", "deux fois"),
    )
    add(
        "zip_encrypted_entry",
        "projets.xlsx",
        zip_bytes([Entry(e.name, e.data, flags=1) for e in entries]),
        "Entries flagged as encrypted (zip password)",
        Expect("refused", "illisible"),
        Expect("refused", "illisible"),
    )
    add(
        "zip_bad_crc",
        "projets.xlsx",
        zip_bytes([Entry(e.name, e.data, crc=(zlib.crc32(e.data) ^ 1)) for e in entries]),
        "Entries whose CRC does not match (damaged in transit)",
        Expect("refused", "illisible"),
        Expect("refused", "illisible"),
    )
    for where in ("sheet", "sharedStrings"):
        for attack, dtd, body in (
            ("billion_laughs", BILLION_LAUGHS_DTD, "&lol9;"),
            ("xxe", XXE_DTD, "&xxe;"),
        ):
            if where == "sheet":
                sheet = Sheet(
                    t.title,
                    good,
                    before_root=dtd,
                    raw_rows=f'<row r="9"><c r="A9" t="inlineStr"><is><t>{body}</t></is></c></row>',
                )
                data = xlsx([sheet])
            else:
                strings = shared_strings_xml(["x"], before_root=dtd, raw=f"<si><t>{body}</t></si>")
                rows = [*good, _with(t, 4, text_col=Shared(1))]
                data = xlsx([Sheet(t.title, rows)], shared_strings=strings)
            what = {
                "billion_laughs": "XML entity expansion (billion laughs, 10^9 'lol')",
                "xxe": "External entity to file:///etc/passwd (XXE)",
            }[attack]
            add(
                f"{attack}_in_{where}",
                "projets.xlsx",
                data,
                f"{what} in {where}.xml",
                Expect("refused", "DTD"),
                Expect("refused", "DTD"),
            )
    utf16 = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        + XXE_DTD
        + sheet_xml(Sheet(t.title, good)).decode().split("?>", 1)[1]
    ).encode("utf-16")
    add(
        "xxe_utf16",
        "projets.xlsx",
        xlsx([Sheet(t.title)], sheet_parts={1: Entry("xl/worksheets/sheet1.xml", utf16)}),
        "XXE in a sheet encoded in UTF-16 (hides '<!DOCTYPE' from a byte scan)",
        Expect("refused", "DTD"),
        Expect("refused", "DTD"),
    )
    add(
        "malformed_xml",
        "projets.xlsx",
        xlsx(
            [Sheet(t.title)],
            sheet_parts={1: Entry("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row>")},
        ),
        "A sheet whose XML is not well-formed",
        Expect("accepted"),
        Expect("refused", "illisible"),
    )
    add(
        "rows_claimed_sparse",
        "projets.xlsx",
        xlsx(
            [
                Sheet(
                    t.title,
                    good,
                    dimension="A1:Z1048576",
                    raw_rows='<row r="1048576"><c r="A1048576"><v>1</v></c></row>',
                )
            ]
        ),
        "Three rows, then one at row 1 048 576 (a reader pads the gap with empty rows)",
        Expect("refused", "lignes"),
        Expect("refused", "lignes"),
    )
    add(
        "ten_thousand_columns",
        "projets.xlsx",
        xlsx(
            [
                Sheet(
                    t.title,
                    [
                        t.headers + [f"C{n}" for n in range(10_000)],
                        *(r + ["x"] * 10_000 for r in good[1:]),
                    ],
                    dimension="A1:NTP4",
                )
            ]
        ),
        "10 000 filled columns",
        Expect("refused", "colonnes"),
        Expect("refused", "colonnes"),
    )
    add(
        "huge_string",
        "projets.xlsx",
        xlsx(
            [Sheet(t.title, [*good, _with(t, 4, text_col=Shared(0))])],
            shared_strings=shared_strings_xml(["A" * 1_000_000]),
        ),
        "A 1 000 000-character shared string in a text cell",
        Expect("accepted"),
        Expect("refused", "caractères"),
    )
    add(
        "formula_without_cached_value",
        "projets.xlsx",
        xlsx([Sheet(t.title, [*good, _with(t, 4, amount_col=Formula("10*2"))])]),
        "A formula with no cached value (file written by a script, never recalculated)",
        Expect("accepted"),
        Expect("warning", "formule sans valeur calculée"),
    )
    add(
        "macros_xlsm",
        "projets.xlsm",
        xlsx([Sheet(t.title, good)], macros=True),
        "A macro-enabled workbook (.xlsm with vbaProject.bin)",
        Expect("warning", "macros"),
        Expect("warning", "macros"),
    )
    add(
        "password_protected",
        "projets.xlsx",
        fake_ole(b"\x00" * 1024),
        "A password-protected workbook (encrypted CFB/OLE container, not a zip)",
        Expect("refused", "protégé par mot de passe"),
        Expect("refused", "protégé par mot de passe"),
    )
    add(
        "old_xls",
        "projets.xls",
        fake_ole(b"Workbook"),
        "An Excel 97-2003 .xls (OLE)",
        Expect("refused", "ancien format .xls"),
        Expect("refused", "ancien format .xls"),
    )
    decoy = [t.headers, _with(t, 1, id_col="ZZ", text_col="Projet caché")]
    add(
        "hidden_sheets",
        "projets.xlsx",
        xlsx(
            [
                Sheet("Cachée", decoy, state="hidden"),
                Sheet("Très cachée", decoy, state="veryHidden"),
                Sheet(t.title, good),
            ]
        ),
        "Hidden and very-hidden sheets before the real one, holding other data",
        Expect("accepted"),
        Expect("warning", "feuilles masquées"),
    )
    merged_header = [[t.headers[0], None, *t.headers[2:]], *good[1:]]
    add(
        "merged_header_cells",
        "projets.xlsx",
        xlsx([Sheet(t.title, merged_header, merged=["A1:B1"])]),
        "Two header cells merged (the second title is lost)",
        Expect("accepted"),
        Expect("accepted"),
        Expect("refused", "colonne"),
    )
    add(
        "title_row_above_header",
        "projets.xlsx",
        xlsx(
            [
                Sheet(
                    t.title,
                    [["Panorama des grands projets"], *good],
                    merged=[f"A1:{column_letter(len(t.headers) - 1)}1"],
                )
            ]
        ),
        "A merged title row above the header row",
        Expect("accepted"),
        Expect("accepted"),  # the header is searched in the first ten rows
        Expect("refused", "colonne"),
    )
    add(
        "renamed_sheet",
        "projets.xlsx",
        xlsx([Sheet("Copie de Feuil1 (2)", good)]),
        "The sheet renamed by the user",
        Expect("accepted"),
        Expect("accepted"),
        Expect("refused", "feuille"),
    )
    csv_text = "\n".join(",".join(f'"{v}"' for v in row) for row in good).encode("utf-8")
    add(
        "csv_named_xlsx",
        "projets.xlsx",
        csv_text,
        "A CSV file named .xlsx",
        Expect("refused", "ressemble à du texte"),
        Expect("warning", "lu comme un fichier CSV"),
        Expect("refused", "ressemble à du texte"),
    )
    add(
        "xlsx_named_csv",
        "projets.csv",
        valid,
        "A workbook named .csv",
        Expect("warning", "en réalité un classeur"),
        Expect("warning", "en réalité un classeur"),
    )
    foreign_dates = [
        "January 5, 2017",
        "2017年1月1日",
        "1 января 2017",
        "5 de enero de 2017",
        "01/13/2017",
        "Q1 2017",
        "31/02/2017",
    ]
    french_dates = [
        "1er janvier 2017",
        "01/02/2017",
        "2017-03-01",
        "1.4.17",
        "mai 2017",
        "janv. 2018",
        "42736",
    ]
    add(
        "dates_as_text",
        "projets.xlsx",
        xlsx(
            [
                Sheet(
                    t.title,
                    [t.headers]
                    + [
                        _with(t, n, date_col=d)
                        for n, d in enumerate(french_dates + foreign_dates, 1)
                    ],
                )
            ]
        ),
        "Dates typed as text, in French and in other locales and formats",
        Expect("accepted"),
        Expect("warning", "n'est pas une date"),
        Expect("refused", "n'est pas une date"),
    )
    absurd = [-5, "-12,5", "1E+30", 1e300, "999999999999", "1e-30", "NaN", "Infinity"]
    add(
        "negative_and_absurd_amounts",
        "projets.xlsx",
        xlsx(
            [
                Sheet(
                    t.title,
                    [t.headers] + [_with(t, n, amount_col=a) for n, a in enumerate(absurd, 1)],
                )
            ]
        ),
        "Negative, astronomically large, tiny and non-finite amounts",
        Expect("accepted"),
        Expect("warning", "coût négatif"),
        Expect("refused", "négatif"),  # the ministry workbook refuses (all or nothing)
    )
    lookalike = t.lookalike or "МI"  # Cyrillic М
    add(
        "lookalike_identifier",
        "projets.xlsx",
        xlsx([Sheet(t.title, [t.headers, _with(t, 1, id_col=lookalike)])]),
        f"A Cyrillic look-alike in an identifier ({lookalike!r})",
        Expect("accepted"),
        Expect("refused", "non latines"),
    )
    invisible = ["\u200bMI", "M\u200bI", "\ufeffMI", "MI\u00a0", "\u00a0MI\u2060"]
    add(
        "invisible_characters",
        "projets.xlsx",
        xlsx(
            [
                Sheet(
                    t.title,
                    [t.headers] + [_with(t, n, id_col=v) for n, v in enumerate(invisible, 1)],
                )
            ]
        ),
        "Zero-width space, BOM, NBSP and word joiner in identifiers",
        Expect("accepted"),
        Expect("accepted"),
        Expect("refused", "identifiant"),  # "MI" is no PILOT identifier (PRJ-00042)
    )
    injections = [
        '=HYPERLINK("http://x","clic")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "-2+3",
        "=1+1",
        "\t=2+2",
    ]
    add(
        "formula_injection",
        "projets.xlsx",
        xlsx(
            [
                Sheet(
                    t.title,
                    [t.headers] + [_with(t, n, text_col=v) for n, v in enumerate(injections, 1)],
                )
            ]
        ),
        "CSV/formula injection in text cells (kept as text, neutralised on export)",
        Expect("accepted"),
        Expect("accepted"),
    )
    out.extend(resource_cases(t, good))
    return out


# --- OpenDocument spreadsheets (.ods), written by hand too -----------------------------

ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
NS_ODS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods_cell(value: Any, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    if value is None or value == "":
        return f"<table:table-cell{repeated}/>"
    if isinstance(value, bool):
        value = "Oui" if value else "Non"
    if isinstance(value, int | float | Decimal):
        return (
            f'<table:table-cell{repeated} office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell{repeated} office:value-type="string">'
        f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
    )


def ods_row(values: Sequence[Any], repeat: int = 1) -> str:
    repeated = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{repeated}>{''.join(ods_cell(v) for v in values)}</table:table-row>"


def ods(tables: Sequence[tuple[str, str]]) -> bytes:
    """An .ods of (sheet name, literal rows XML) pairs."""
    body = "".join(
        f"<table:table table:name={quoteattr(name)}>{rows}</table:table>" for name, rows in tables
    )
    content = (
        f'{XML_DECL}<office:document-content {NS_ODS} office:version="1.2"><office:body>'
        f"<office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        f'{XML_DECL}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
        'manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        f'manifest:media-type="{ODS_MIME}"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    return zip_bytes(
        [
            Entry("mimetype", ODS_MIME.encode(), method=0),
            Entry("content.xml", content.encode()),
            Entry("META-INF/manifest.xml", manifest.encode()),
        ]
    )


def ods_table(t: Table, rows: Sequence[Sequence[Any]], extra: str = "") -> bytes:
    return ods([(t.title, "".join(ods_row(r) for r in rows) + extra)])


def resource_cases(t: Table, good: list[list[Any]]) -> list[HostileCase]:
    """Files whose content is small but whose structure would make a parser allocate
    without bound (issue 15): far cells, repeated rows and columns, absurd counts of sheets
    and shared strings. Each is refused by the gate before any parser allocates, with the
    limits of the settings (some lowered for the test, around the limits)."""
    out: list[HostileCase] = []
    far = "si loin"

    def refused(
        name: str, filename: str, data: bytes, what: str, fragment: str, **limits: int
    ) -> None:
        expect = Expect("refused", fragment)
        out.append(HostileCase(name, filename, data, what, expect, expect, expect, limits))

    def accepted(name: str, filename: str, data: bytes, what: str, **limits: int) -> None:
        ok = Expect("accepted")
        # DINUM's open data is CSV or XLSX: the panorama reader refuses an .ods past the gate
        panorama = Expect("refused", "illisible") if filename.endswith(".ods") else ok
        out.append(HostileCase(name, filename, data, what, ok, panorama, ok, limits))

    def far_cell(ref: str, element: str = "c") -> bytes:
        row = "".join(ch for ch in ref if ch.isdigit())
        raw = f'<row r="{row}"><{element} r="{ref}"><v>1</v></{element}></row>'
        return xlsx([Sheet(t.title, good, raw_rows=raw)])

    for ref, what in [
        ("XFD1048576", "one cell at the far corner of the grid (a 10 kB file aborted the server)"),
        ("IV200000", "a cell at column 256, row 200 000"),
        ("GR200001", "a cell one row past max_rows_per_sheet, at column 200"),
        ("GR200000", "a cell within the row and column limits, past max_sheet_cells"),
        ("A1048576", "a cell at the last row, first column"),
        ("XFD1", "a cell at the last column, first row"),
    ]:
        refused(f"far_cell_{ref}", "projets.xlsx", far_cell(ref), f"xlsx: {what}", far)
    refused(
        "far_cell_absolute_ref",
        "projets.xlsx",
        far_cell("$XFD$1048576"),
        "xlsx: a far cell written as an absolute reference",
        far,
    )
    prefixed = xlsx(
        [Sheet(t.title, good)],
        sheet_parts={
            1: Entry(
                "xl/worksheets/sheet1.xml",
                sheet_xml(Sheet(t.title, good))
                .replace(b"<worksheet ", b'<x:worksheet xmlns:x="' + NS_MAIN.encode() + b'" ')
                .replace(
                    b"</sheetData>",
                    b'<x:row r="900000"><x:c r="ZZ900000"><x:v>1</x:v></x:c></x:row></sheetData>',
                ),
            )
        },
    )
    refused("far_cell_prefixed", "projets.xlsx", prefixed, "xlsx: a far cell, prefixed tags", far)
    accepted(
        "far_cell_within_limits",
        "projets.xlsx",
        far_cell("T99999"),
        "xlsx: a cell at T99999, within every limit (control case)",
    )
    accepted(
        "lying_dimension",
        "projets.xlsx",
        xlsx([Sheet(t.title, good, dimension="A1:XFD1048576")]),
        "xlsx: a sheet declaring A1:XFD1048576 over three real rows (nothing is allocated)",
    )
    header = good[0]
    refused(
        "ods_repeated_rows_and_columns",
        "projets.ods",
        ods_table(
            t,
            good,
            '<table:table-row table:number-rows-repeated="1000000">'
            + ods_cell("x", 16384)
            + "</table:table-row>",
        ),
        "ods: an 800-byte file whose one row is repeated a million times, its cell 16 384 "
        "times (9,9 GB, 46 s before)",
        far,
    )
    refused(
        "ods_repeated_rows",
        "projets.ods",
        ods_table(t, good, ods_row(good[1], repeat=200_001)),
        "ods: a filled row repeated past max_rows_per_sheet",
        far,
    )
    refused(
        "ods_repeated_columns",
        "projets.ods",
        ods_table(t, good, "<table:table-row>" + ods_cell(7, 201) + "</table:table-row>"),
        "ods: a filled cell repeated past max_columns",
        far,
    )
    refused(
        "ods_repeated_cells_past_the_area",
        "projets.ods",
        ods_table(t, good, ods_row(good[1], repeat=5_000)),
        "ods: a filled row repeated within the row limit, past max_sheet_cells (lowered)",
        far,
        max_sheet_cells=20_000,
    )
    trailing = (
        '<table:table-row table:number-rows-repeated="1048570">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    accepted(
        "ods_trailing_empty_repeats",
        "projets.ods",
        ods_table(
            t,
            [[*r, None] for r in good],
            trailing,
        ),
        "ods: empty rows and cells repeated to the end of the grid, as LibreOffice writes "
        "them (control case)",
    )
    refused(
        "ods_too_many_sheets",
        "projets.ods",
        ods([(t.title, "".join(ods_row(r) for r in good))] + [(f"F{n}", "") for n in range(60)]),
        "ods: 61 sheets (max_sheets 50)",
        "onglets",
    )
    many = xlsx([Sheet(t.title, good)])
    sheets = "".join(f'<sheet name="S{n}" sheetId="{n + 2}" r:id="rX{n}"/>' for n in range(2000))
    many_sheets = zip_bytes(
        [
            Entry(
                e.name,
                e.data.replace(b"</sheets>", sheets.encode() + b"</sheets>")
                if e.name == "xl/workbook.xml"
                else e.data,
            )
            for e in xlsx_entries([Sheet(t.title, good)])
        ]
    )
    assert many != many_sheets
    refused(
        "xlsx_declares_thousands_of_sheets",
        "projets.xlsx",
        many_sheets,
        "xlsx: workbook.xml declares 2 000 sheets (a million made a million findings before)",
        "onglets",
    )
    strings = [str(v) for v in header]
    for count, outcome in [(1_000, "accepted"), (1_001, "refused")]:
        data = xlsx(
            [Sheet(t.title, good)],
            shared_strings=shared_strings_xml(strings + [""] * (count - len(strings))),
        )
        name = f"shared_strings_{count}"
        what = f"xlsx: {count} shared strings, max_shared_strings lowered to 1 000"
        if outcome == "accepted":
            accepted(name, "projets.xlsx", data, what, max_shared_strings=1_000)
        else:
            refused(name, "projets.xlsx", data, what, "textes partagés", max_shared_strings=1_000)
    return out


def million_rows_case(table: Table | None = None, rows: int = 1_000_000) -> HostileCase:
    """A sheet claiming A1:Z1000000, with ``rows`` real rows (an identifier and a name each,
    as shared strings: about 70 MB of XML, 1 MB zipped, for a million)."""
    t = table or panorama_table()
    a, b = column_letter(t.id_col), column_letter(t.text_col)
    body = "".join(
        f'<row r="{n}"><c r="{a}{n}" t="s"><v>0</v></c><c r="{b}{n}" t="s"><v>1</v></c></row>'
        for n in range(2, rows + 2)
    )
    sheet = Sheet(t.title, [t.headers], dimension="A1:Z1000000", raw_rows=body)
    first = t.row(1)
    strings = shared_strings_xml([str(first[t.id_col]), str(first[t.text_col])])
    return HostileCase(
        "million_rows",
        "projets.xlsx",
        xlsx([sheet], shared_strings=strings),
        f"A sheet claiming a million rows (dimension A1:Z1000000) with {rows:,} real rows",
        Expect("refused", "lignes"),
        Expect("refused", "lignes"),
        Expect("refused", "lignes"),
    )


def by_name(name: str, table: Table | None = None) -> HostileCase:
    for case in cases(table):
        if case.name == name:
            return case
    raise KeyError(name)
