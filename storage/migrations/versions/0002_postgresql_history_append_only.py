"""History is append-only on PostgreSQL too: triggers refusing UPDATE, DELETE and TRUNCATE.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

DESIGN §4.5: SQLite got triggers in 0001; this gives PostgreSQL the same guard. Like the
SQLite triggers, they stop bugs, not administrators: the tables' owner can drop or disable
them. The real protection on PostgreSQL is the role the application connects as, which
operators set up (the role names belong to the deployment, so no migration can):

    -- the application's role does not own the tables, and has no right to rewrite history
    REVOKE UPDATE, DELETE, TRUNCATE ON history FROM qaflow_app;
    -- (history_payloads keeps UPDATE: redaction nulls a body; it never needs DELETE)
    REVOKE DELETE, TRUNCATE ON history_payloads FROM qaflow_app;

Statement-level triggers refuse the statement itself, whatever rows it would touch, so a
buggy `DELETE FROM history WHERE …` fails even when it matches nothing (SQLite's row
triggers fire only for rows that exist). The error's SQLSTATE is 23000
(integrity_constraint_violation), which drivers report as an IntegrityError, as SQLite's
RAISE(ABORT) is. No-op on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# No '%' and no ':name' in these: they go through SQLAlchemy's text() and the driver's paramstyle.
_FUNCTION = """CREATE FUNCTION history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = 'history is append-only (' || TG_OP || ' refused)',
        HINT = 'history rows are never changed or removed; see DESIGN 4.5';
END
$$"""

_TRIGGERS = {
    "history_no_update": "UPDATE",
    "history_no_delete": "DELETE",
    "history_no_truncate": "TRUNCATE",
}


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgresql():
        return
    op.execute(_FUNCTION)
    for name, operation in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} BEFORE {operation} ON history FOR EACH STATEMENT EXECUTE FUNCTION history_append_only()")


def downgrade() -> None:
    if not _postgresql():
        return
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON history")
    op.execute("DROP FUNCTION IF EXISTS history_append_only()")
