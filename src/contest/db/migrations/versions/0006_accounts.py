"""accounts: normalised usernames with look-alike skeletons; the audit chain sealed under its key

Revision ID: 0006
Revises: 0005

Existing usernames are normalised (NFKC, case-folded, see contest.domain.usernames); two accounts
that become one name stop the upgrade, naming both, before anything is changed. Usernames outside
the new safe set stay as they are (they still sign in; new ones must be safe).

Audit records written before the chain had a key carry a plain SHA-256. They are left as they are,
and one keyed record (action "audit.seal") is appended whose MAC covers their head: from now on,
changing any of them shows as well as changing a keyed record does (docs/security.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from contest.audit.chain import SEAL_ACTION, Mac, payload
from contest.domain import usernames

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String), sa.column("username_skeleton", sa.String))
audit_log = sa.table(
    "audit_log",
    *(sa.column(name, sa.String) for name in ("actor", "device", "action", "entity", "entity_id", "prev_hash", "hash")),
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer),
    sa.column("detail", sa.JSON),
)


def _audit_key() -> str:
    key = context.config.attributes.get("audit_key")
    if key:
        return key
    from contest.settings import Settings

    return Settings.from_env().audit_key


def _normalised_usernames(bind: sa.Connection) -> list[tuple[int, str]]:
    """(id, normalised name) of every user; refuses, before anything is changed, if two collide."""
    rows = bind.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    taken: dict[str, str] = {}
    for _, username in rows:
        name = usernames.normalise(username)
        if name in taken:
            raise RuntimeError(
                f"账号「{taken[name]}」与「{username}」规范化后都是「{name}」:请先把其中一个改名(例如在数据库中 "
                f"UPDATE users SET username = '{name}-2' WHERE username = '{username}'),再升级"
            )
        taken[name] = username
    return [(user_id, usernames.normalise(username)) for user_id, username in rows]


def _seal_audit_chain(bind: sa.Connection) -> None:
    if bind.execute(sa.select(audit_log.c.id).where(audit_log.c.action == SEAL_ACTION).limit(1)).first():
        return  # sealed already (an upgrade after a downgrade)
    count = bind.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()
    if not count:
        return  # a new database: every record will carry a MAC from the first
    last_id, head = bind.execute(sa.select(audit_log.c.id, audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)).one()
    from contest.db.models import utcnow

    at = utcnow()
    detail = {"legacy_records": count, "legacy_head": head, "legacy_last_id": last_id}
    mac = Mac(_audit_key())(payload(head, at, None, "upgrade", "cli", SEAL_ACTION, "audit", "", detail))
    bind.execute(
        audit_log.insert().values(
            at=at,
            actor_id=None,
            actor="upgrade",
            device="cli",
            action=SEAL_ACTION,
            entity="audit",
            entity_id="",
            detail=detail,
            prev_hash=head,
            hash=mac,
        )
    )


def upgrade() -> None:
    bind = op.get_bind()
    names = _normalised_usernames(bind)  # first: a collision stops the upgrade with nothing changed
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_skeleton", sa.String(length=64), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_users_username_skeleton"), ["username_skeleton"], unique=False)
    for user_id, name in names:
        bind.execute(users.update().where(users.c.id == user_id).values(username=name, username_skeleton=usernames.skeleton(name)))
    _seal_audit_chain(bind)


def downgrade() -> None:
    # Usernames stay normalised and the seal record stays: both are valid data for the old schema.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_username_skeleton"))
        batch_op.drop_column("username_skeleton")
