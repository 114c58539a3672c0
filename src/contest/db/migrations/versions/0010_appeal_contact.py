"""competitions.appeal_contact: who receives appeals and how, on the public page and the 成绩公示表 (issue 15)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("competitions") as batch_op:
        batch_op.add_column(sa.Column("appeal_contact", sa.String(length=200), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("competitions") as batch_op:
        batch_op.drop_column("appeal_contact")
