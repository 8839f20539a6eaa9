"""A problem found in a workbook: where it is, what was found, how to fix it (in French)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pilot.imports.models import Severity


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    severity: Severity = Severity.ERROR
    sheet: str | None = None
    row: int | None = None
    column: str | None = None  # column letter, "C"
    field: str | None = None
    value: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    @property
    def cell(self) -> str:
        if self.column and self.row:
            return f"{self.column}{self.row}"
        return self.column or (str(self.row) if self.row else "")

    def describe(self) -> str:
        where = " ".join(
            part for part in (f"onglet {self.sheet}" if self.sheet else "", self.cell) if part
        )
        label = "erreur" if self.is_error else "avertissement"
        return f"{label} — {where + ' : ' if where else ''}{self.message}"


def count_errors(issues: Iterable[Issue]) -> int:
    """How many of ``issues`` are errors (the rest are warnings)."""
    return sum(1 for i in issues if i.is_error)


def shown(value: Any) -> str | None:
    """A cell value as a short text for a finding."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"
