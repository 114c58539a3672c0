"""appeal texts bounded like every other text field (contest.domain.limits)

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Longer texts stored before the limit existed are kept whole up to it, the rest cut: an appeal's
    # content is also kept in full in the audit log.
    op.execute("UPDATE appeals SET content = substr(content, 1, 2000) WHERE length(content) > 2000")
    op.execute("UPDATE appeals SET decision = substr(decision, 1, 2000) WHERE length(decision) > 2000")
    with op.batch_alter_table("appeals") as batch:
        batch.alter_column("content", existing_type=sa.Text(), type_=sa.String(length=2000), existing_nullable=False)
        batch.alter_column("decision", existing_type=sa.Text(), type_=sa.String(length=2000), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("appeals") as batch:
        batch.alter_column("content", existing_type=sa.String(length=2000), type_=sa.Text(), existing_nullable=False)
        batch.alter_column("decision", existing_type=sa.String(length=2000), type_=sa.Text(), existing_nullable=False)
