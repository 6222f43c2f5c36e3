"""Login sessions: one row per login holds its revocation, instead of a flag on every refresh token.

Revocation used to be "some token of the family has revoked_at set", which a refresh racing a logout
could escape (the logout's UPDATE did not see the token the refresh was inserting), and which purging
expired tokens undid. Each existing family becomes a session, revoked if any of its tokens was.

Revision ID: 0002
Revises: 0001
Create Date: 2025-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None
# The release before reads refresh_tokens.family_id, which this renames to session_id.
previous_release_works = False

UUID = postgresql.UUID(as_uuid=True)
TIMESTAMPTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_sessions",
        sa.Column("id", UUID, server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("created_at", TIMESTAMPTZ, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", TIMESTAMPTZ, nullable=False),
        sa.Column("revoked_at", TIMESTAMPTZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_login_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_login_sessions_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_login_sessions_user_id", "login_sessions", ["user_id"])
    op.execute(
        "INSERT INTO login_sessions (id, user_id, created_at, expires_at, revoked_at) "
        "SELECT family_id, (array_agg(user_id))[1], min(created_at), max(expires_at), max(revoked_at) "
        "FROM refresh_tokens GROUP BY family_id"
    )
    op.alter_column("refresh_tokens", "family_id", new_column_name="session_id")
    op.execute("ALTER INDEX ix_refresh_tokens_family_id RENAME TO ix_refresh_tokens_session_id")
    op.create_foreign_key(
        "fk_refresh_tokens_session_id_login_sessions",
        "refresh_tokens",
        "login_sessions",
        ["session_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_column("refresh_tokens", "revoked_at")


def downgrade() -> None:
    op.add_column("refresh_tokens", sa.Column("revoked_at", TIMESTAMPTZ, nullable=True))
    op.execute(
        "UPDATE refresh_tokens SET revoked_at = s.revoked_at FROM login_sessions s WHERE s.id = refresh_tokens.session_id"
    )
    op.drop_constraint("fk_refresh_tokens_session_id_login_sessions", "refresh_tokens", type_="foreignkey")
    op.execute("ALTER INDEX ix_refresh_tokens_session_id RENAME TO ix_refresh_tokens_family_id")
    op.alter_column("refresh_tokens", "session_id", new_column_name="family_id")
    op.drop_table("login_sessions")
