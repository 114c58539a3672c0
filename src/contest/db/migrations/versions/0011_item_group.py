"""items.group_name: the item's 组别 (院校组 / 非院校组, 职工组 / 学生组), carried into the award
inputs so that policy tiers with ``groups`` match our own results (issue 12)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.add_column(sa.Column("group_name", sa.String(length=50), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch_op:
        batch_op.drop_column("group_name")
