"""Database: models, engine/session factory, Alembic migrations."""
