"""Initial schema: users, refresh tokens, meetings, participants.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
# There is no release before the first one.
previous_release_works = True

UUID = postgresql.UUID(as_uuid=True)
TIMESTAMPTZ = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", UUID, server_default=sa.text("gen_random_uuid()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.CheckConstraint("email = lower(email)", name="ck_users_email_lowercase"),
    )
    op.create_table(
        "refresh_tokens",
        _id(),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("family_id", UUID, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", TIMESTAMPTZ, nullable=False),
        sa.Column("rotated_at", TIMESTAMPTZ, nullable=True),
        sa.Column("revoked_at", TIMESTAMPTZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_refresh_tokens_user_id_users", ondelete="CASCADE"),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
    )
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_table(
        "meetings",
        _id(),
        sa.Column("host_id", UUID, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), server_default="scheduled", nullable=False),
        sa.Column("access_code", sa.String(16), nullable=False),
        sa.Column("room_id", UUID, nullable=False),
        sa.Column("scheduled_at", TIMESTAMPTZ, nullable=True),
        sa.Column("started_at", TIMESTAMPTZ, nullable=True),
        sa.Column("ended_at", TIMESTAMPTZ, nullable=True),
        sa.Column("created_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_meetings"),
        sa.ForeignKeyConstraint(["host_id"], ["users.id"], name="fk_meetings_host_id_users", ondelete="CASCADE"),
        sa.UniqueConstraint("access_code", name="uq_meetings_access_code"),
        sa.UniqueConstraint("room_id", name="uq_meetings_room_id"),
        sa.CheckConstraint("status IN ('scheduled', 'live', 'ended')", name="ck_meetings_status_valid"),
    )
    op.create_index("ix_meetings_host_id", "meetings", ["host_id"])
    op.create_table(
        "participants",
        _id(),
        sa.Column("meeting_id", UUID, nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("role", sa.String(16), server_default="participant", nullable=False),
        sa.Column("joined_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
        sa.Column("left_at", TIMESTAMPTZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_participants"),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name="fk_participants_meeting_id_meetings", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_participants_user_id_users", ondelete="CASCADE"),
        sa.UniqueConstraint("meeting_id", "user_id", name="uq_participants_meeting_id_user_id"),
        sa.CheckConstraint("role IN ('host', 'participant')", name="ck_participants_role_valid"),
    )
    op.create_index("ix_participants_user_id_meeting_id", "participants", ["user_id", "meeting_id"])


def downgrade() -> None:
    op.drop_table("participants")
    op.drop_table("meetings")
    op.drop_table("refresh_tokens")
    op.drop_table("users")
