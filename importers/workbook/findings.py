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


MORE = "more_findings"


def bound_issues(issues: list[Issue], limit: int) -> list[Issue]:
    """At most ``limit`` findings of one kind (code) per sheet, in their order; past it, one
    summary finding per kind says how many more there were (an error when any of them
    was). A file with a million faulty cells cannot make a million findings."""
    seen: dict[tuple[str, str | None], int] = {}
    more: dict[tuple[str, str | None], list[Issue]] = {}
    kept: list[Issue] = []
    for issue in issues:
        key = (issue.code, issue.sheet)
        seen[key] = seen.get(key, 0) + 1
        if issue.code == MORE or seen[key] <= limit:
            kept.append(issue)
        else:
            more.setdefault(key, []).append(issue)
    for (code, sheet), dropped in more.items():
        where = f" dans l'onglet {sheet}" if sheet else ""
        kept.append(
            Issue(
                MORE,
                f"… et {len(dropped)} autres constats du même type que ceux ci-dessus{where} "
                f"(« {code} »), non détaillés : corrigez les cas listés, les autres sont "
                "sans doute semblables.",
                Severity.ERROR if any(i.is_error for i in dropped) else Severity.WARNING,
                sheet=sheet,
            )
        )
    return kept
