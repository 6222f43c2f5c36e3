"""Participants removed by the host: ``removed_at`` records it, so that joining again is refused.

Revision ID: 0003
Revises: 0002
Create Date: 2025-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None
# A nullable column added: the release before neither reads nor writes it.
previous_release_works = True


def upgrade() -> None:
    op.add_column("participants", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("participants", "removed_at")
