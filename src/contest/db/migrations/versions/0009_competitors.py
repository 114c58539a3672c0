"""competitors: look-up settings and certificate templates, honour rules, access codes,
certificates (获奖证书) and the look-up/verification throttle (issue 17)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import contest.db.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookup_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", contest.db.models.TZDateTime(timezone=True), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lookup_attempts")),
    )
    with op.batch_alter_table("lookup_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_lookup_attempts_ip_at", ["kind", "ip", "at"], unique=False)
        batch_op.create_index("ix_lookup_attempts_subject_at", ["kind", "subject", "at"], unique=False)

    op.create_table(
        "competitor_settings",
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("lookup_factor", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=20), nullable=False),
        sa.Column("award_body", sa.String(length=500), nullable=False),
        sa.Column("honour_body", sa.String(length=500), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("seal_png", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", contest.db.models.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"], ["competitions.id"], name=op.f("fk_competitor_settings_competition_id_competitions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("competition_id", name=op.f("pk_competitor_settings")),
    )
    op.create_table(
        "honour_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=50), nullable=False),
        sa.Column("awards", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"], ["competitions.id"], name=op.f("fk_honour_rules_competition_id_competitions"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_honour_rules")),
    )
    with op.batch_alter_table("honour_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_honour_rules_competition_id"), ["competition_id"], unique=False)

    op.create_table(
        "access_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", contest.db.models.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"], ["competitions.id"], name=op.f("fk_access_codes_competition_id_competitions"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_access_codes_person_id_people"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_codes")),
        sa.UniqueConstraint("competition_id", "person_id", name="uq_access_codes_competition_person"),
    )
    with op.batch_alter_table("access_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_codes_competition_id"), ["competition_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_access_codes_person_id"), ["person_id"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=26), nullable=False),
        sa.Column("competition_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("result_version_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("confirmed_version", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("team", sa.String(length=200), nullable=False),
        sa.Column("competition", sa.String(length=200), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("award", sa.String(length=20), nullable=False),
        sa.Column("honour", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_version", sa.Integer(), nullable=True),
        sa.Column("status_reason", sa.String(length=200), nullable=False),
        sa.Column("status_at", contest.db.models.TZDateTime(timezone=True), nullable=True),
        sa.Column("issued_at", contest.db.models.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["competition_id"], ["competitions.id"], name=op.f("fk_certificates_competition_id_competitions"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_certificates_item_id_items"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_certificates_person_id_people"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["certificates.id"], name=op.f("fk_certificates_replaces_id_certificates"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["result_version_id"],
            ["result_versions.id"],
            name=op.f("fk_certificates_result_version_id_result_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("serial", name=op.f("uq_certificates_serial")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_competition_id"), ["competition_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_item_id"), ["item_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_replaces_id"), ["replaces_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_result_version_id"), ["result_version_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_result_version_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_replaces_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_person_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_item_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_competition_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("access_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_codes_person_id"))
        batch_op.drop_index(batch_op.f("ix_access_codes_competition_id"))

    op.drop_table("access_codes")
    with op.batch_alter_table("honour_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_honour_rules_competition_id"))

    op.drop_table("honour_rules")
    op.drop_table("competitor_settings")
    with op.batch_alter_table("lookup_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_lookup_attempts_subject_at")
        batch_op.drop_index("ix_lookup_attempts_ip_at")

    op.drop_table("lookup_attempts")
