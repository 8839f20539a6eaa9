"""drop the audit_event indexes no query uses

An import writes one audit event per record it creates or field it changes (270 000 for
a workbook of 10 000 projects): each index is maintained on every one of them. Events
are read by project only (``ix_audit_event_project_id`` stays); history is never deleted,
so the foreign key to ``import_file`` needs no index either.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_import_id")
        batch_op.drop_index("ix_audit_event_entity")


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_entity", ["entity", "entity_id"], unique=False)
        batch_op.create_index("ix_audit_event_import_id", ["import_id"], unique=False)
