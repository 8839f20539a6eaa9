"""Every table, imported in one place so that ``metadata`` knows them all (Alembic, tests)."""

from pilot.alerts.models import Alert, AlertSubscriber
from pilot.audit.models import AuditEvent
from pilot.auth.models import Account, Role, Token
from pilot.campaigns.models import Campaign, CampaignMinistry, Contact
from pilot.db import metadata
from pilot.editions.models import Edition, EditionRow
from pilot.imports.models import Finding, ImportFile, ImportStatus, Severity
from pilot.jobs.models import Job
from pilot.mail.models import OutboxMessage
from pilot.ministries.models import Ministry, MinistryAlias
from pilot.opinions.models import (
    Opinion,
    OpinionAxis,
    OpinionDocument,
    OpinionEvent,
    OpinionRequest,
    Recommendation,
    RecommendationEvent,
)
from pilot.projects.forecasts import MilestoneForecast
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
    "Account",
    "Alert",
    "AlertSubscriber",
    "AuditEvent",
    "Baseline",
    "BaselineKind",
    "BudgetKind",
    "BudgetLine",
    "Campaign",
    "CampaignMinistry",
    "Contact",
    "Edition",
    "EditionRow",
    "Finding",
    "ImportFile",
    "ImportStatus",
    "Job",
    "Milestone",
    "MilestoneForecast",
    "Ministry",
    "MinistryAlias",
    "Opinion",
    "OpinionAxis",
    "OpinionDocument",
    "OpinionEvent",
    "OpinionRequest",
    "OutboxMessage",
    "Phase",
    "Project",
    "ProjectMinistry",
    "ProjectName",
    "Recommendation",
    "RecommendationEvent",
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
