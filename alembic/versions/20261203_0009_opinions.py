"""DINUM's statutory opinion (avis conforme): requests, their events and documents,
opinions, their five axes, recommendations and their history; two new alert kinds
(``recommendation_overdue``, ``opinion_deemed_favourable``)

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03 19:40:06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

ALERT_KINDS = ("health_red", "weather_rosier", "milestone_slip", "risk_unmitigated")
OPINION_ALERT_KINDS = ("recommendation_overdue", "opinion_deemed_favourable")


def _alert_kinds(kinds: Sequence[str]) -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alert_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_alert_kind"), "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"
        )


revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "opinion_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("binding", sa.Boolean(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("opened_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'received', 'information_requested', 'observations_received', 'opinion_given', 'deemed_favourable')",
            name=op.f("ck_opinion_request_status"),
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_opinion_request_project_id_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinion_request")),
    )
    with op.batch_alter_table("opinion_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opinion_request_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index("ix_opinion_request_status", ["status"], unique=False)

    op.create_table(
        "opinion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("sense", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("given_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("baseline_cost_eur", sa.BigInteger(), nullable=True),
        sa.Column("baseline_start_date", sa.Date(), nullable=True),
        sa.Column("baseline_end_date", sa.Date(), nullable=True),
        sa.Column("baseline_id", sa.Integer(), nullable=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "sense IN ('favourable', 'favourable_with_reservations', 'unfavourable', 'deemed_favourable')",
            name=op.f("ck_opinion_sense"),
        ),
        sa.CheckConstraint(
            "baseline_cost_eur IS NULL OR baseline_cost_eur >= 0",
            name=op.f("ck_opinion_baseline_cost_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["baseline_id"], ["baseline.id"], name=op.f("fk_opinion_baseline_id_baseline")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_opinion_project_id_project")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["opinion_request.id"],
            name=op.f("fk_opinion_request_id_opinion_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinion")),
        sa.UniqueConstraint("request_id", name="uq_opinion_request"),
    )
    with op.batch_alter_table("opinion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opinion_project_id"), ["project_id"], unique=False)

    op.create_table(
        "opinion_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("stored_path", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_opinion_document_size_positive")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["opinion_request.id"],
            name=op.f("fk_opinion_document_request_id_opinion_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinion_document")),
    )
    with op.batch_alter_table("opinion_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opinion_document_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "opinion_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("observer", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('opened', 'received', 'information_requested', 'information_received', 'observations_received', 'opinion_given', 'deemed_favourable')",
            name=op.f("ck_opinion_event_kind"),
        ),
        sa.CheckConstraint(
            "observer IS NULL OR observer IN ('anssi', 'budget')",
            name=op.f("ck_opinion_event_observer"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["opinion_request.id"],
            name=op.f("fk_opinion_event_request_id_opinion_request"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinion_event")),
    )
    with op.batch_alter_table("opinion_event", schema=None) as batch_op:
        batch_op.create_index("ix_opinion_event_request", ["request_id", "id"], unique=False)
        batch_op.create_index(
            "uq_opinion_event_one_closing",
            ["request_id"],
            unique=True,
            sqlite_where=sa.text("kind IN ('opinion_given', 'deemed_favourable')"),
            postgresql_where=sa.text("kind IN ('opinion_given', 'deemed_favourable')"),
        )

    op.create_table(
        "opinion_axis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opinion_id", sa.Integer(), nullable=False),
        sa.Column("axis", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rating", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "axis IN ('strategy', 'finances', 'governance', 'delivery', 'planning')",
            name=op.f("ck_opinion_axis_axis"),
        ),
        sa.CheckConstraint(
            "rating IN ('satisfactory', 'to_improve', 'insufficient', 'critical')",
            name=op.f("ck_opinion_axis_rating"),
        ),
        sa.ForeignKeyConstraint(
            ["opinion_id"], ["opinion.id"], name=op.f("fk_opinion_axis_opinion_id_opinion")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinion_axis")),
        sa.UniqueConstraint("opinion_id", "axis", name="uq_opinion_axis"),
    )
    with op.batch_alter_table("opinion_axis", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opinion_axis_opinion_id"), ["opinion_id"], unique=False
        )

    op.create_table(
        "recommendation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opinion_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'closed', 'dropped')",
            name=op.f("ck_recommendation_status"),
        ),
        sa.ForeignKeyConstraint(
            ["opinion_id"], ["opinion.id"], name=op.f("fk_recommendation_opinion_id_opinion")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_recommendation_project_id_project")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation")),
        sa.UniqueConstraint("opinion_id", "number", name="uq_recommendation_number"),
    )
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendation_opinion_id"), ["opinion_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_recommendation_project_id"), ["project_id"], unique=False
        )
        batch_op.create_index("ix_recommendation_status_due", ["status", "due_on"], unique=False)

    op.create_table(
        "recommendation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'closed', 'dropped')",
            name=op.f("ck_recommendation_event_status"),
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f("fk_recommendation_event_recommendation_id_recommendation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_event")),
    )
    with op.batch_alter_table("recommendation_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendation_event_recommendation_id"),
            ["recommendation_id"],
            unique=False,
        )

    _alert_kinds(ALERT_KINDS + OPINION_ALERT_KINDS)


def downgrade() -> None:
    op.execute(
        "DELETE FROM alert WHERE kind IN (" + ", ".join(f"'{k}'" for k in OPINION_ALERT_KINDS) + ")"
    )
    _alert_kinds(ALERT_KINDS)
    with op.batch_alter_table("recommendation_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_event_recommendation_id"))

    op.drop_table("recommendation_event")
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_index("ix_recommendation_status_due")
        batch_op.drop_index(batch_op.f("ix_recommendation_project_id"))
        batch_op.drop_index(batch_op.f("ix_recommendation_opinion_id"))

    op.drop_table("recommendation")
    with op.batch_alter_table("opinion_axis", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opinion_axis_opinion_id"))

    op.drop_table("opinion_axis")
    with op.batch_alter_table("opinion_event", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_opinion_event_one_closing",
            sqlite_where=sa.text("kind IN ('opinion_given', 'deemed_favourable')"),
            postgresql_where=sa.text("kind IN ('opinion_given', 'deemed_favourable')"),
        )
        batch_op.drop_index("ix_opinion_event_request")

    op.drop_table("opinion_event")
    with op.batch_alter_table("opinion_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opinion_document_request_id"))

    op.drop_table("opinion_document")
    with op.batch_alter_table("opinion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opinion_project_id"))

    op.drop_table("opinion")
    with op.batch_alter_table("opinion_request", schema=None) as batch_op:
        batch_op.drop_index("ix_opinion_request_status")
        batch_op.drop_index(batch_op.f("ix_opinion_request_project_id"))

    op.drop_table("opinion_request")
