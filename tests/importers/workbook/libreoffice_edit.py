"""Edit a workbook through LibreOffice itself, as an agent would in Calc, without removing
the sheets' protection; then save it as .xlsx.

Run by the system's Python (Debian's ``python3-uno`` provides ``uno``), not the project's:

    python3 libreoffice_edit.py SOURCE.xlsx TARGET.xlsx EDITS.json PROFILE_DIR

EDITS.json holds ``{"edits": [[sheet, row, column, kind, value], …], "locked": [[sheet,
row, column], …]}`` (rows from 1, columns from 0; kind ``text``, ``number`` or ``date``
(ISO)). Each edited cell must be unlocked on a protected sheet, as LibreOffice reads the
file (``CellProtection.IsLocked``, ``isProtected()``), and each ``locked`` cell locked.
Prints a JSON report; exits 1 when a check failed (nothing is saved then)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found,unused-ignore]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found,unused-ignore]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found,unused-ignore]

EXCEL_EPOCH = date(1899, 12, 30)


def _property(name: str, value: Any) -> Any:
    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _connect(pipe: str, office: subprocess.Popen[bytes]) -> Any:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if office.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def main(source: Path, target: Path, edits_file: Path, profile: Path) -> int:
    spec = json.loads(edits_file.read_text(encoding="utf-8"))
    pipe = f"pilot_{uuid.uuid4().hex}"
    office = subprocess.Popen(
        [
            "soffice",
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    failures: list[str] = []
    report: dict[str, Any] = {"protected": {}, "edited": 0, "failures": failures}
    try:
        context = _connect(pipe, office)
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        doc = desktop.loadComponentFromURL(
            source.resolve().as_uri(), "_blank", 0, (_property("Hidden", True),)
        )
        try:
            sheets = doc.Sheets
            for name in sheets.ElementNames:
                report["protected"][name] = bool(sheets.getByName(name).isProtected())
            for name, row, column in spec["locked"]:
                cell = sheets.getByName(name).getCellByPosition(column, row - 1)
                if not cell.CellProtection.IsLocked:
                    failures.append(f"{name} row {row} column {column}: not locked")
            for name, row, column, kind, value in spec["edits"]:
                sheet = sheets.getByName(name)
                if not sheet.isProtected():
                    failures.append(f"{name}: not protected")
                cell = sheet.getCellByPosition(column, row - 1)
                if cell.CellProtection.IsLocked:
                    failures.append(f"{name} row {row} column {column}: locked")
                    continue
                if kind == "text":
                    cell.setString(value)
                elif kind == "number":
                    cell.setValue(value)
                else:
                    cell.setValue((date.fromisoformat(value) - EXCEL_EPOCH).days)
                report["edited"] += 1
            if not failures:
                doc.storeToURL(
                    target.resolve().as_uri(),
                    (
                        _property("FilterName", "Calc MS Excel 2007 XML"),
                        _property("Overwrite", True),
                    ),
                )
        finally:
            doc.close(True)
            with contextlib.suppress(Exception):  # the bridge goes down with the office
                desktop.terminate()
    finally:
        try:
            office.wait(timeout=60)
        except subprocess.TimeoutExpired:
            office.kill()
            office.wait()
    print(json.dumps(report, ensure_ascii=False))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])))
