"""Run Alembic migrations programmatically (`contest db upgrade`), no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(database_url: str, revision: str = "head", audit_key: str | None = None) -> None:
    """Migrate; `audit_key` signs the record that seals an unkeyed audit chain (default: the
    environment's settings, CONTEST_AUDIT_KEY or <var dir>/audit_key)."""
    config = alembic_config(database_url)
    if audit_key:
        config.attributes["audit_key"] = audit_key
    command.upgrade(config, revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
