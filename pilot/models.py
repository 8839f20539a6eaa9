"""Every table, imported in one place so that ``metadata`` knows them all (Alembic, tests)."""

from pilot.audit.models import AuditEvent
from pilot.auth.models import Role, Token
from pilot.db import metadata
from pilot.editions.models import Edition, EditionRow
from pilot.imports.models import Finding, ImportFile, ImportStatus, Severity
from pilot.ministries.models import Ministry, MinistryAlias
from pilot.projects.models import (
    Baseline,
    BaselineKind,
    BudgetKind,
    BudgetLine,
    Milestone,
    Phase,
    Project,
    ProjectMinistry,
    ProjectName,
    Report,
    Risk,
    RiskStatus,
    RiskTrend,
    Weather,
)

__all__ = [
    "AuditEvent",
    "Baseline",
    "BaselineKind",
    "BudgetKind",
    "BudgetLine",
    "Edition",
    "EditionRow",
    "Finding",
    "ImportFile",
    "ImportStatus",
    "Milestone",
    "Ministry",
    "MinistryAlias",
    "Phase",
    "Project",
    "ProjectMinistry",
    "ProjectName",
    "Report",
    "Risk",
    "RiskStatus",
    "RiskTrend",
    "Role",
    "Severity",
    "Token",
    "Weather",
    "metadata",
]

import pilot.coordination
import pilot.guards  # noqa: F401  (history is immutable: registers the session guard)
