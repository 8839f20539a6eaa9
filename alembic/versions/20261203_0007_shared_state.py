"""state shared by every worker: the data version and failed authentications

``data_version`` (one row) is bumped with every write to editions; the GraphQL answer
cache of every worker reads it. ``auth_attempt`` holds authentications in flight and
failed ones (a sliding window, rows older than the window are deleted): UNLOGGED on
PostgreSQL, since losing it in a crash only forgets recent failures.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-15 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.execute("INSERT INTO data_version (id, version) VALUES (1, 0)")
    op.create_table(
        "auth_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_attempt")),
    )
    op.create_index("ix_auth_attempt_client_at", "auth_attempt", ["client", "at"], unique=False)
    op.create_index("ix_auth_attempt_at", "auth_attempt", ["at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE auth_attempt SET UNLOGGED")


def downgrade() -> None:
    op.drop_index("ix_auth_attempt_at", table_name="auth_attempt")
    op.drop_index("ix_auth_attempt_client_at", table_name="auth_attempt")
    op.drop_table("auth_attempt")
    op.drop_table("data_version")
