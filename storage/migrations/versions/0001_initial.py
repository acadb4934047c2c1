"""The initial schema: every table of DESIGN §5, and history made append-only.

Revision ID: 0001
Revises:
Create Date: 2025-11-26

A frozen copy of `storage.tables` as it stood (migrations never import the live tables);
`storage.migrate.check` proves that the two still agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.columns import JSONText, JSONTuple, JSONTupleMap, UTCDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# History is append-only (DESIGN §4.5). On SQLite these triggers stop a bug from rewriting
# it; they don't stop an administrator, who can drop them.
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN
    SELECT RAISE(ABORT, 'history is append-only');
END""",
    """CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN
    SELECT RAISE(ABORT, 'history is append-only');
END""",
)


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("workflow", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("functions", JSONTuple(), nullable=False),
        sa.Column("deployed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("workflow", "version", name=op.f("pk_definitions")),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("workflow", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition_hash", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("entered_from", sa.Text(), nullable=True),
        sa.Column("data", JSONText(), nullable=False),
        sa.Column("assignees", JSONText(), nullable=False),
        sa.Column("holders", JSONTupleMap(), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("parent_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instances")),
        sa.ForeignKeyConstraint(
            ["workflow", "version"],
            ["definitions.workflow", "definitions.version"],
            name=op.f("fk_instances_workflow_version_definitions"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["instances.id"], name=op.f("fk_instances_parent_id_instances"), deferrable=True, initially="DEFERRED"
        ),
    )
    op.create_index("ix_instances_workflow_state_id", "instances", ["workflow", "state", "id"])
    op.create_index("ix_instances_parent_id", "instances", ["parent_id"])

    op.create_table(
        "history",
        sa.Column("instance_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=True),
        sa.Column("to_state", sa.Text(), nullable=True),
        sa.Column("workflow", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition_hash", sa.Text(), nullable=False),
        sa.Column("payload_hash", sa.Text(), nullable=False),
        sa.Column("previous_hash", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "seq", name=op.f("pk_history")),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_history_instance_id_instances"), deferrable=True, initially="DEFERRED"
        ),
    )
    op.create_table(
        "history_payloads",
        sa.Column("instance_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("redacted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("instance_id", "seq", name=op.f("pk_history_payloads")),
        sa.ForeignKeyConstraint(
            ["instance_id", "seq"],
            ["history.instance_id", "history.seq"],
            name=op.f("fk_history_payloads_instance_id_seq_history"),
            deferrable=True,
            initially="DEFERRED",
        ),
    )
    op.create_table(
        "state_entries",
        sa.Column("instance_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("entered_from", sa.Text(), nullable=True),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "seq", name=op.f("pk_state_entries")),
        sa.ForeignKeyConstraint(
            ["instance_id", "seq"],
            ["history.instance_id", "history.seq"],
            name=op.f("fk_state_entries_instance_id_seq_history"),
            deferrable=True,
            initially="DEFERRED",
        ),
    )
    op.create_table(
        "timers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("instance_id", sa.Text(), nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
        sa.ForeignKeyConstraint(
            ["instance_id", "entry_seq"],
            ["state_entries.instance_id", "state_entries.seq"],
            name=op.f("fk_timers_instance_id_entry_seq_state_entries"),
            deferrable=True,
            initially="DEFERRED",
        ),
    )
    op.create_index("ix_timers_due_at", "timers", ["due_at"])
    op.create_index("ix_timers_instance_id_entry_seq", "timers", ["instance_id", "entry_seq"])

    op.create_table(
        "deadlines",
        sa.Column("instance_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("armed_at", UTCDateTime(), nullable=False),
        sa.Column("met_at", UTCDateTime(), nullable=True),
        sa.Column("breached_at", UTCDateTime(), nullable=True),
        sa.Column("calendar_version", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("instance_id", "name", name=op.f("pk_deadlines")),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_deadlines_instance_id_instances"), deferrable=True, initially="DEFERRED"
        ),
    )
    op.create_index("ix_deadlines_due_at", "deadlines", ["due_at"])

    op.create_table(
        "outbox",
        sa.Column("serial", _SERIAL, nullable=False, autoincrement=True),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("instance_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("roles", JSONTuple(), nullable=False),
        sa.Column("recipients", JSONTuple(), nullable=False),
        sa.Column("template", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("not_after", UTCDateTime(), nullable=True),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_outbox")),
        sa.UniqueConstraint("id", name=op.f("uq_outbox_id")),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_outbox_instance_id_instances"), deferrable=True, initially="DEFERRED"
        ),
    )
    op.create_index("ix_outbox_status_serial", "outbox", ["status", "serial"])

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("result", JSONText(), nullable=False),
        sa.Column("instance_id", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["instances.id"], name=op.f("fk_idempotency_keys_instance_id_instances"), deferrable=True, initially="DEFERRED"
        ),
    )
    op.create_table(
        "security_log",
        sa.Column("id", _SERIAL, nullable=False, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("roles", JSONTuple(), nullable=False),
        sa.Column("instance_id", sa.Text(), nullable=True),
        sa.Column("workflow", sa.Text(), nullable=True),
        sa.Column("trigger", sa.Text(), nullable=True),
        sa.Column("reasons", JSONTuple(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_log")),
    )
    op.create_index("ix_security_log_instance_id_id", "security_log", ["instance_id", "id"])

    op.create_table(
        "access_log",
        sa.Column("id", _SERIAL, nullable=False, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("reader", sa.Text(), nullable=False),
        sa.Column("instance_id", sa.Text(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index("ix_access_log_instance_id_id", "access_log", ["instance_id", "id"])

    if op.get_context().dialect.name == "sqlite":
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)
    # PostgreSQL: no grants here, since the role names belong to the deployment;
    # docs/operations.md gives the REVOKE statements for the application's role, and
    # migration 0002 adds triggers refusing UPDATE, DELETE and TRUNCATE on history.


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS history_no_delete")
        op.execute("DROP TRIGGER IF EXISTS history_no_update")
    for table in (
        "access_log",
        "security_log",
        "idempotency_keys",
        "outbox",
        "deadlines",
        "timers",
        "state_entries",
        "history_payloads",
        "history",
        "instances",
        "definitions",
    ):
        op.drop_table(table)
