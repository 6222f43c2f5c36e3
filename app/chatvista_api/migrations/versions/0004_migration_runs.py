"""Migration runs: one row per run of the migrations (each deployment's PRE_DEPLOY job, or
``chatvista-ops migrate``), with the revision it left, so a rollback can tell which schema a release ran on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
# A table added: the release before never touches it.
previous_release_works = True


def upgrade() -> None:
    op.create_table(
        "migration_runs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("ran_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("revision_before", sa.String(64), nullable=True),
        sa.Column("revision", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
    )
    op.create_index("ix_migration_runs_ran_at", "migration_runs", ["ran_at"])


def downgrade() -> None:
    op.drop_table("migration_runs")
