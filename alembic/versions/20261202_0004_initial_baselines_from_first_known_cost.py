"""initial baselines of projects first published "en cadrage": the first known cost

Open-data loads used to record, for a project first published "en cadrage", an initial
baseline without a cost (its start date only): it measured nothing, and drift and health
stayed empty for ever, since the cost published later was never taken as the baseline.
This repairs those baselines: each initial baseline without a cost, of a project never
re-baselined, takes the first published cost of the project (the earliest published
edition that gives one), its start and end, and says so in ``source``; an audit event
records the repair. The history of reports and editions is untouched.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = "migration 0004"


def _end(start: date | None, duration: str | None) -> date | None:
    """As the open-data reader counts a duration in decimal years (365 days)."""
    if start is None or duration is None:
        return None
    return start + timedelta(days=int((Decimal(duration) * 365).to_integral_value()))


def upgrade() -> None:
    bind = op.get_bind()
    baseline = sa.table(
        "baseline",
        sa.column("id", sa.Integer),
        sa.column("project_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("approved_on", sa.Date),
        sa.column("cost_eur", sa.BigInteger),
        sa.column("start_date", sa.Date),
        sa.column("end_date", sa.Date),
        sa.column("source", sa.String),
    )
    edition = sa.table(
        "edition",
        sa.column("id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("status", sa.String),
        sa.column("published_on", sa.Date),
    )
    row = sa.table(
        "edition_row",
        sa.column("edition_id", sa.Integer),
        sa.column("project_id", sa.Integer),
        sa.column("values", sa.JSON),
    )
    audit = sa.table(
        "audit_event",
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("entity", sa.String),
        sa.column("entity_id", sa.Integer),
        sa.column("project_id", sa.Integer),
        sa.column("field", sa.String),
        sa.column("old_value", sa.Text),
        sa.column("new_value", sa.Text),
    )
    rebaselined = sa.select(baseline.c.project_id).where(baseline.c.kind != "initial")
    empty = bind.execute(
        sa.select(baseline.c.id, baseline.c.project_id).where(
            baseline.c.kind == "initial",
            baseline.c.cost_eur.is_(None),
            baseline.c.project_id.not_in(rebaselined),
        )
    ).all()
    now = datetime.now(UTC)
    for baseline_id, project_id in empty:
        published = bind.execute(
            sa.select(row.c["values"], edition.c.published_on)
            .join(edition, edition.c.id == row.c.edition_id)
            .where(row.c.project_id == project_id, edition.c.status == "published")
            .order_by(edition.c.published_on, edition.c.number)
        ).all()
        first = next(
            ((v, on) for v, on in published if v and v.get("cost_eur") is not None), None
        )
        if first is None:
            continue  # no cost known yet: the next one published will be the baseline
        values, on = first
        start = date.fromisoformat(values["start"]) if values.get("start") else None
        source = f"Panorama du {on.isoformat()} (première valeur publiée)"
        bind.execute(
            baseline.update()
            .where(baseline.c.id == baseline_id)
            .values(
                approved_on=start or on,
                cost_eur=values["cost_eur"],
                start_date=start,
                end_date=_end(start, values.get("duration_years")),
                source=source,
            )
        )
        bind.execute(
            audit.insert().values(
                at=now,
                actor=ACTOR,
                action="update",
                entity="baseline",
                entity_id=baseline_id,
                project_id=project_id,
                field="cost_eur",
                old_value=None,
                new_value=f"{values['cost_eur']} ({source})",
            )
        )


def downgrade() -> None:
    """The repaired baselines keep their cost: a cost-less baseline measured nothing."""
